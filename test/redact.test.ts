import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { redact, redactDeep, REDACTED, redactString, redactText, secretSpans } from '../lambda/core/alerts/redact';

// Prepare: real key material, generated once for the whole file
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ecKeys = [0, 1, 2].map(() => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const ec = ecKeys[0]!;
const ed = generateKeyPairSync('ed25519').privateKey;

const pkcs8Pem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }) as string;
const derBase64 = (key: KeyObject): string => (key.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64');
const jwkOf = (key: KeyObject): Record<string, string> => key.export({ format: 'jwk' }) as Record<string, string>;

/** `text` in lines of `width` characters joined by `separator`. */
function wrap(text: string, width: number, separator = '\n'): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join(separator);
}

const armour = (label: string, body: string, width = 64, eol = '\n'): string =>
  `-----BEGIN ${label}-----${eol}${wrap(body, width, eol)}${eol}-----END ${label}-----${eol}`;

/** The 16-character slices of a key body: none may survive redaction. */
function fragments(body: string): string[] {
  const flat = body.replace(/[\s:-]/g, '');
  const slices: string[] = [];
  for (let i = 0; i + 16 <= flat.length; i += 8) slices.push(flat.slice(i, i + 16));
  return slices;
}

function expectNoFragment(output: string, body: string): void {
  const flat = output.replace(/[\s:-]/g, '');
  const leaked = fragments(body).filter((slice) => flat.includes(slice));
  expect(leaked).toEqual([]);
}

const sshString = (value: Buffer | string): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/** An unencrypted OpenSSH private key file for an Ed25519 key, as ssh-keygen writes it (base64 at 70 columns). */
function openSshKey(key: KeyObject): { file: string; body: string } {
  const { d, x } = jwkOf(key);
  const secret = Buffer.from(d!, 'base64url');
  const publicKey = Buffer.from(x!, 'base64url');
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(publicKey)]);
  const check = randomBytes(4);
  let privateBlock = Buffer.concat([check, check, publicBlob, sshString(Buffer.concat([secret, publicKey])), sshString('alice@laptop')]);
  const padding = Buffer.from(Array.from({ length: (8 - (privateBlock.length % 8)) % 8 }, (_, i) => i + 1));
  privateBlock = Buffer.concat([privateBlock, padding]);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  const blob = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), count, sshString(publicBlob), sshString(privateBlock)]);
  const body = blob.toString('base64');
  return { file: armour('OPENSSH PRIVATE KEY', body, 70), body };
}

/** A PuTTY version 3 key file for an Ed25519 key. */
function puttyKey(key: KeyObject, withMac = true): { file: string; privateBody: string } {
  const { d, x } = jwkOf(key);
  const publicBody = Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(x!, 'base64url'))]).toString('base64');
  const privateBody = sshString(Buffer.from(d!, 'base64url')).toString('base64');
  const lines = [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: eddsa-key-20250314',
    `Public-Lines: ${Math.ceil(publicBody.length / 64)}`,
    wrap(publicBody, 64),
    'Private-Lines: 1',
    privateBody,
  ];
  if (withMac) lines.push(`Private-MAC: ${randomBytes(32).toString('hex')}`);
  return { file: `${lines.join('\r\n')}\r\n`, privateBody };
}

const hexDump = (bytes: Buffer, perLine = 15): string =>
  [...bytes].map((b) => b.toString(16).padStart(2, '0')).reduce((text, pair, i) => text + (i === 0 ? '    ' : i % perLine === 0 ? ':\n    ' : ':') + pair, '');

describe('redactString: PEM blocks and key files', () => {
  it('redacts a PKCS#8 RSA key wrapped at 64 columns and keeps the text around it', () => {
    const pem = pkcs8Pem(rsa);
    const output = redactString(`exported key:\n${pem}please rotate`);
    expect(output).toBe(`exported key:\n${REDACTED}\nplease rotate`);
    expectNoFragment(output, derBase64(rsa));
  });

  it('redacts a PKCS#8 key wrapped at 76 columns with CRLF', () => {
    const body = derBase64(rsa);
    const output = redactString(`key=${armour('PRIVATE KEY', body, 76, '\r\n')}done`);
    expect(output).toBe(`key=${REDACTED}\r\ndone`);
    expectNoFragment(output, body);
  });

  it('redacts a PEM block flattened onto one line, its body broken by spaces', () => {
    const body = derBase64(ec);
    const output = redactString(`value: -----BEGIN EC PRIVATE KEY----- ${wrap(body, 64, ' ')} -----END EC PRIVATE KEY----- (end)`);
    expect(output).toBe(`value: ${REDACTED} (end)`);
  });

  it('redacts a PEM block whose body is all on one line', () => {
    expect(redactString(`-----BEGIN PRIVATE KEY-----${derBase64(ec)}-----END PRIVATE KEY-----`)).toBe(REDACTED);
  });

  it('redacts from BEGIN to the end of the text when the END line is missing', () => {
    const pem = pkcs8Pem(rsa);
    const cut = pem.slice(0, pem.indexOf('-----END'));
    expect(redactString(`before ${cut}`)).toBe(`before ${REDACTED}`);
  });

  it('does not let an END line with another label close the block', () => {
    const body = derBase64(ec);
    const output = redactString(`-----BEGIN PRIVATE KEY-----\n-----END CERTIFICATE-----\n${body}\n-----END PRIVATE KEY-----\nafter`);
    expect(output).toBe(`${REDACTED}\nafter`);
  });

  it('redacts a PEM block inside JSON-escaped text', () => {
    const escaped = JSON.stringify({ privateKeyPem: pkcs8Pem(ec) });
    expect(redactString(`payload ${escaped}`)).toBe(`payload {"privateKeyPem":"${REDACTED}"}`);
  });

  it('redacts certificates, chains and CSRs in PEM as well', () => {
    const chain = `${armour('CERTIFICATE', randomBytes(600).toString('base64'))}${armour('CERTIFICATE', randomBytes(600).toString('base64'))}`;
    expect(redactString(chain)).toBe(`${REDACTED}\n${REDACTED}\n`);
    expect(redactString(armour('CERTIFICATE REQUEST', 'MIIB'))).toBe(`${REDACTED}\n`);
  });

  it('redacts an OpenSSH private key', () => {
    const { file, body } = openSshKey(ed);
    const output = redactString(`id_ed25519:\n${file}`);
    expect(output).toBe(`id_ed25519:\n${REDACTED}\n`);
    expectNoFragment(output, body);
  });

  it('redacts an SSH2 (RFC 4716) private key with four-dash markers', () => {
    const text = `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa-key"\n${wrap(derBase64(rsa), 70)}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----`;
    expect(redactString(text)).toBe(REDACTED);
  });

  it('redacts a PuTTY key file through its Private-MAC line and keeps what follows', () => {
    const { file, privateBody } = puttyKey(ed);
    const output = redactString(`ppk: ${file}uploaded by alice`);
    expect(output).toBe(`ppk: ${REDACTED}\r\nuploaded by alice`);
    expect(output).not.toContain(privateBody);
  });

  it('redacts a PuTTY key file to the end of the text when Private-MAC is missing', () => {
    const { file } = puttyKey(ed, false);
    expect(redactString(`ppk ${file}`)).toBe(`ppk ${REDACTED}`);
  });
});

describe('redactString: base64 key material without armour', () => {
  it('redacts a single-line PKCS#8 EC P-256 key (184 base64 characters)', () => {
    const body = derBase64(ec);
    expect(body).toHaveLength(184);
    expect(redactString(`The key is ${body} - keep it safe`)).toBe(`The key is ${REDACTED} - keep it safe`);
  });

  it('redacts a key body wrapped at 64 columns, short last line included', () => {
    const body = (rsa.export({ type: 'pkcs1', format: 'der' }) as Buffer).toString('base64');
    const output = redactString(`body:\n${wrap(body, 64)}\nthanks, bob`);
    expect(output).toBe(`body:\n${REDACTED}\nthanks, bob`);
    expectNoFragment(output, body);
  });

  it('takes a short padded last line of a wrapped body with it', () => {
    const body = randomBytes(97).toString('base64'); // 132 characters: 64 + 64 + "xx=="
    expect(body.endsWith('=')).toBe(true);
    expect(redactString(`k\n${wrap(body, 64)}\n`)).toBe(`k\n${REDACTED}\n`);
  });

  it('redacts a key body wrapped at 76 columns with spaces instead of line breaks', () => {
    const body = derBase64(rsa);
    const output = redactString(`key ${wrap(body, 76, ' ')} end`);
    expect(output).toBe(`key ${REDACTED} end`);
    expectNoFragment(output, body);
  });

  it('redacts a key body split by CRLF into irregular pieces of 16 or more characters', () => {
    const body = derBase64(ec);
    const pieces = [body.slice(0, 20), body.slice(20, 60), body.slice(60, 100), body.slice(100)].join('\r\n');
    expect(redactString(pieces)).toBe(REDACTED);
  });

  it('redacts a 32-byte secret in base64 and an ACME EAB MAC key in base64url', () => {
    for (let i = 0; i < 20; i += 1) {
      expect(redactString(`secret ${randomBytes(32).toString('base64')} set`)).toBe(`secret ${REDACTED} set`);
      expect(redactString(`--eab-hmac-key ${randomBytes(32).toString('base64url')} --eab-kid kid-1`)).toBe(`--eab-hmac-key ${REDACTED} --eab-kid kid-1`);
    }
  });

  it('redacts an AWS secret access key and a session token', () => {
    const token = `IQoJb3JpZ2luX2VjE${randomBytes(300).toString('base64')}`;
    expect(redactString(`wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`)).toBe(REDACTED);
    expect(redactString(`token=${token}`)).toBe(`token=${REDACTED}`);
  });

  it('redacts base64 that is URL-encoded or JSON-escaped', () => {
    const body = randomBytes(48).toString('base64').replace(/\+/g, '%2B').replace(/\//g, '%2F').replace(/=/g, '%3D');
    expect(redactString(`https://example.com/cb?key=${body}&x=1`)).toBe(`https://example.com/cb?key=${REDACTED}&x=1`);
    const escaped = JSON.stringify(JSON.stringify({ blob: randomBytes(48).toString('base64') })).replace(/\//g, '\\/');
    expect(redactString(escaped)).not.toMatch(/[A-Za-z0-9+]{16}/);
  });

  it('redacts a key pasted into an ARN as a user or session name, but keeps generated names there', () => {
    const body = derBase64(ec);
    const output = redactString(`User: arn:aws:iam::111122223333:user/${body} is not authorized`);
    expect(output).toBe(`User: arn:aws:iam::111122223333:${REDACTED} is not authorized`);
    const generated = 'arn:aws:lambda:us-east-1:111122223333:function:AcmSentinelStack-AlertFunction6A1B2C3D-Xy7AbC9dEf12';
    expect(redactString(generated)).toBe(generated);
  });

  it('redacts a private key in DER pasted into an ARN every time, by its header, whatever its random part looks like', () => {
    // A fixed header weighs on the test for random components: 2 of 300 PKCS#8 keys passed it.
    const keys = Array.from({ length: 300 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const missed = keys.map((key) => derBase64(key)).filter((body) => redactString(`arn:aws:iam::111122223333:user/${body}`).includes(body.slice(0, 40)));
    expect(missed).toEqual([]);
    const others = [
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'der' }),
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'der' }),
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }),
    ].map((der) => der.toString('base64'));
    for (const body of others) expect(redactString(`arn:aws:sts::111122223333:assumed-role/Admin/${body}`)).toBe(`arn:aws:sts::111122223333:${REDACTED}`);
    // Names that begin like one stay.
    for (const name of ['arn:aws:iam::111122223333:role/MIGHTYMOUSE-AdminRoleForEverythingInTheAccount', 'arn:aws:iam::111122223333:user/MIGRATION_Job_2025_abcdefghijklmnopqrstuvwxyz']) expect(redactString(name)).toBe(name);
  });

  it('redacts runs of 200 or more base64 characters whatever they look like', () => {
    expect(redactString(`x ${'A'.repeat(300)} y`)).toBe(`x ${REDACTED} y`);
  });
});

describe('redactString: hex, byte lists, JSON members', () => {
  const secret = randomBytes(32);

  it('redacts 64 hex digits in one run', () => {
    expect(redactString(`sk=${secret.toString('hex')};`)).toBe(`sk=${REDACTED};`);
    expect(redactString(`0x${secret.toString('hex').toUpperCase()}`)).toBe(REDACTED);
  });

  it('redacts an OpenSSL-style hex dump with colons across lines', () => {
    const output = redactString(`priv:\n${hexDump(secret)}\npub:`);
    expect(output).toBe(`priv:\n    ${REDACTED}\npub:`);
  });

  it('redacts hex broken by spaces or dashes between digit groups', () => {
    expect(redactString(`key ${wrap(secret.toString('hex'), 4, ' ')} ok`)).toBe(`key ${REDACTED} ok`);
    expect(redactString(`key ${wrap(secret.toString('hex'), 8, '-')} ok`)).toBe(`key ${REDACTED} ok`);
    expect(redactString([...secret].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', '))).toBe(REDACTED);
  });

  it('keeps an account id or a word that stands next to a hex key', () => {
    expect(redactString(`111122223333 ${secret.toString('hex')} 111122223333`)).toBe(`111122223333 ${REDACTED} 111122223333`);
  });

  it('redacts byte values written as a list', () => {
    expect(redactString(`passphrase bytes [${[...secret].join(', ')}] end`)).toBe(`passphrase bytes ${REDACTED} end`);
    expect(redactString([...new Int8Array(secret.buffer, secret.byteOffset, 20)].join(','))).toBe(REDACTED);
  });

  it('redacts JWK private members in JSON text that has "kty", whatever their length', () => {
    const jwk = JSON.stringify(jwkOf(ec));
    const output = JSON.parse(redactString(jwk)) as Record<string, string>;
    expect(output).toMatchObject({ kty: 'EC', crv: 'P-256', d: REDACTED });
    const oct = redactString(`{"kty":"oct","alg":"HS256","k":"${randomBytes(16).toString('base64url')}"}`);
    expect(oct).toBe(`{"kty":"oct","alg":"HS256","k":"${REDACTED}"}`);
    const rsaJwk = JSON.parse(redactString(JSON.stringify(jwkOf(rsa)))) as Record<string, string>;
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(rsaJwk[member]).toBe(REDACTED);    // Python-style text, quoted with apostrophes only.
    expect(redactString("{'kty': 'oct', 'k': 'c2hvcnQ'}")).toBe(`{'kty': 'oct', 'k': '${REDACTED}'}`);
  });

  it('redacts JWK members in JSON that is itself escaped inside JSON', () => {
    const escaped = JSON.stringify({ key: JSON.stringify(jwkOf(ed)) });
    const inner = JSON.parse(JSON.parse(redactString(escaped)).key) as Record<string, string>;
    expect(inner).toMatchObject({ kty: 'OKP', crv: 'Ed25519', d: REDACTED });
  });

  it('leaves members named d or k alone in JSON text without "kty"', () => {
    expect(redactString('{"d":"2025-03-14","k":"v"}')).toBe('{"d":"2025-03-14","k":"v"}');
  });

  it('redacts values of secret fields in JSON or Python-style text, even short ones', () => {
    expect(redactString('{"certificateArn":"arn:aws:acm:us-east-1:111122223333:certificate/x","passphrase":"hunter2"}')).toBe(
      `{"certificateArn":"arn:aws:acm:us-east-1:111122223333:certificate/x","passphrase":"${REDACTED}"}`,
    );
    expect(redactString("{'private_key': 'abc', 'mac_key': 42}")).toBe(`{'private_key': '${REDACTED}', 'mac_key': ${REDACTED}}`);
    expect(redactString('{"passphrase":{"hb":[42,42,42],"offset":0},"next":1}')).toBe(`{"passphrase":${REDACTED},"next":1}`);
    expect(redactString('{"password": null}')).toBe('{"password": null}');
  });

  it('redacts ACME MAC keys and account keys written as text, under any name and case, short ones too', () => {
    expect(redactString('macKey=abc123 keyId=kid-1')).toBe(`macKey=${REDACTED} keyId=kid-1`);
    expect(redactString('{"MacKey":"abc123","KeyId":"kid-1"}')).toBe(`{"MacKey":"${REDACTED}","KeyId":"kid-1"}`);
    expect(redactString("HMAC_KEY: 'abc123'")).toBe(`HMAC_KEY: '${REDACTED}'`);
    expect(redactString('account_key = abc123;')).toBe(`account_key = ${REDACTED};`);
    expect(redactString('certbot register --eab-kid kid-1 --eab-hmac-key abc123 --server https://acme.example')).toBe(
      `certbot register --eab-kid kid-1 --eab-hmac-key ${REDACTED} --server https://acme.example`,
    );
    expect(redactString('acme.sh --register-account --eab-kid kid-1 --EAB-HMAC-KEY=abc123')).toBe(`acme.sh --register-account --eab-kid kid-1 --EAB-HMAC-KEY=${REDACTED}`);
    expect(redactString('lego --eab --kid kid-1 --hmac "abc 123" run')).toBe(`lego --eab --kid kid-1 --hmac ${REDACTED} run`);
  });

  it.each([
    ['eabHmacKey=abc123', 'eabHmacKey=[redacted]'],
    ['EAB_HMAC_KEY_B64=abc123', 'EAB_HMAC_KEY_B64=[redacted]'],
    ['LEGO_EAB_HMAC=abc123 lego run', 'LEGO_EAB_HMAC=[redacted] lego run'],
    ['--certificatesresolvers.le.acme.eab.hmacEncoded=abc123', '--certificatesresolvers.le.acme.eab.hmacEncoded=[redacted]'],
    ['New-PAAccount -ExtAcctKID kid-1 -ExtAcctHMACKey abc123', 'New-PAAccount -ExtAcctKID kid-1 -ExtAcctHMACKey [redacted]'],
    ['wacs --eab-key-identifier kid-1 --eab-key abc123', 'wacs --eab-key-identifier kid-1 --eab-key [redacted]'],
    ['<MacKey>abc123</MacKey>', '<MacKey>[redacted]</MacKey>'],
    ['arn:aws:sts::111122223333:assumed-role/ci/eabHmacKey=abc123', 'arn:aws:sts::111122223333:assumed-role/ci/eabHmacKey=[redacted]'],
  ])('redacts the ACME client configuration %s', (text, redacted) => {
    expect(redactString(text)).toBe(redacted.replaceAll('[redacted]', REDACTED));
  });

  it('keeps names that hold a handle to a secret rather than the secret', () => {
    const handles = { eabKeyId: 'kid-1', macKeyId: 'kid-2', accountKeyThumbprint: 'thumbprint-1', signingKeyArn: 'arn:aws:kms:us-east-1:111122223333:alias/sign' };
    expect(redactDeep(handles)).toEqual(handles);
    for (const text of ['macKeyId=kid-1', 'passwordPolicy=strict', 'aws s3api get-object --key some/path']) expect(redactString(text)).toBe(text);
  });

  it('keeps flags that only look like secret flags', () => {
    for (const text of ['aws secretsmanager get-secret-value --secret-id prod/db', 'docker login --password-stdin', 'tool --password --verbose']) expect(redactString(text)).toBe(text);
  });

  it("replaces CloudTrail's HIDDEN_DUE_TO_SECURITY_REASONS placeholder", () => {
    expect(redactString('privateKey=HIDDEN_DUE_TO_SECURITY_REASONS')).toBe(`privateKey=${REDACTED}`);
  });
});

/** Identifiers and texts that appear in CloudTrail records and must come back unchanged. */
const LEGITIMATE = [
  '5d8c2a71-1c53-4a8e-9c7b-0b6f2f9e3a10',
  'arn:aws:sts::111122223333:assumed-role/SecurityBreakGlass/alice',
  'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef',
  'arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/12345678-1234-1234-1234-123456789012/certificate/e8cbd2bedb122329f97706bcfec990f8',
  'ASIAIOSFODNN7EXAMPLE',
  'AROAEXAMPLEID:alice',
  'aws-cli/2.15.0 Python/3.11.6 Linux/5.10.219-208.866.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/acm.export-certificate',
  'Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.219 md/arch#x86_64 lang/python#3.12.2',
  'User: arn:aws:sts::111122223333:assumed-role/dev/bob is not authorized to perform: acm:ExportCertificate on resource: arn:aws:acm:us-east-1:111122223333:certificate/5d8c2a71-1c53-4a8e-9c7b-0b6f2f9e3a10 because no identity-based policy allows the acm:ExportCertificate action',
  'arn:aws:sts::111122223333:assumed-role/AcmSentinelStack-AlertFunctionServiceRoleD4A1C2B3-1X2Y3Z4W5V6U/AcmSentinelStack-AlertFunction6A1B2C3D-Xy7AbC9dEf12',
  'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnlyAccess_a1b2c3d4e5f6a7b8/alice@example.com',
  'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
  'arn:aws:iam::111122223333:role/service-role/AWSLambdaBasicExecutionRole-4a7c1f2e-9d3b-4c8a-b1e2-3f4a5b6c7d8e',
  'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T0905Z_KBmYW4QSmqMMgAdr.json.gz',
  'APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/acm#1.24.2',
  'aws-sdk-js/3.525.0 ua/2.1 os/linux#5.10.219-208.866.amzn2.x86_64 lang/js md/nodejs#20.11.1 api/acm#3.525.0 m/E,N exec-env/AWS_Lambda_nodejs20.x',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  'AmazonCloudWatchAgentServerPolicyForEC2InstanceProfile',
  'getCertificateAuthorityCertificateRequestV2WithIdempotencyToken',
  'SHA-1 fingerprint 3B:1E:4F:7A:9C:2D:8E:5F:6A:0B:1C:2D:3E:4F:5A:6B:7C:8D:9E:0F',
  'ETag d41d8cd98f00b204e9800998ecf8427e',
  '5d8c2a71-1c53-4a8e-9c7b-0b6f2f9e3a10, 6e9d3b82-2d64-4b9f-8d8c-1c7a3a0f4b21 5d8c2a71-1c53-4a8e-9c7b-0b6f2f9e3a10',
  'Accounts 111122223333, 444455556666, 777788889999, 123456789012, 210987654321, 000011112222 are members',
  '2025-03-14T09:03:51Z 2025-03-14T09:04:51Z 2025-03-14T09:05:51Z 2025-03-14T09:06:51Z',
  'Versions 1.2.3, 4.5.6, 7.8.9, 10.11.12, 13.14.15, 16.17.18',
  '{"certificateArn":"arn:aws:acm:us-east-1:111122223333:certificate/x","domainName":"www.example.com","idempotencyToken":"abc123","keyAlgorithm":"EC_prime256v1"}',
  "ValidationException: Value at 'passphrase' failed to satisfy constraint: Member must have length greater than or equal to 4",
  "It's the operator's key; don't share it.",
  'at com.amazonaws.services.certificatemanager.AWSCertificateManagerClient.doInvoke(AWSCertificateManagerClient.java:1234)',
  '/var/task/node_modules/@aws-sdk/client-acm/dist-cjs/index.js:1234:56',
  'RequestId: 0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
  'dGVzdA==',
  'alice@example.com 203.0.113.24 2001:db8::1 *.example.com',
];

describe('redactString: legitimate values', () => {
  it.each(LEGITIMATE)('keeps %s', (text) => {
    expect(redactString(text)).toBe(text);
  });
});

describe('redactString: ACM certificate ARNs, returned without running the detectors', () => {
  // Every partition and Region shape the shortcut admits, as in redact.ts's CERTIFICATE_ARN.
  const partitions = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'];
  const areas = ['us', 'eu', 'ap', 'sa', 'ca', 'me', 'af', 'il', 'mx', 'cn', 'us-gov', 'us-iso', 'us-isob', 'eusc'];
  const directions = ['east', 'west', 'north', 'south', 'central', 'northeast', 'southeast', 'northwest', 'southwest'];
  const hex = (bytes: Buffer) => bytes.toString('hex');
  const uuidOf = (bytes: Buffer) => `${hex(bytes.subarray(0, 4))}-${hex(bytes.subarray(4, 6))}-${hex(bytes.subarray(6, 8))}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}`;
  const uuids = [Buffer.alloc(16), Buffer.alloc(16, 0xff), Buffer.alloc(16, 0xab), Buffer.alloc(16, 0x0f), ...Array.from({ length: 60 }, () => randomBytes(16))].map(uuidOf);

  it('are ARNs the detectors leave as they are, in every partition and Region shape, whatever the account and UUID', () => {
    let checked = 0;
    for (const [p, partition] of partitions.entries()) {
      for (const [a, area] of areas.entries()) {
        for (const [d, direction] of directions.entries()) {
          const account = String((p * 7919 + a * 104729 + d * 1299709) % 1e12).padStart(12, '0');
          const uuid = uuids[(p + a + d) % uuids.length]!;
          const arn = `arn:${partition}:acm:${area}-${direction}-${(p + d) % 10}:${account}:certificate/${uuid}`;
          expect(secretSpans(arn)).toEqual([]);
          expect(redactString(arn)).toBe(arn);
          checked += 1;
        }
      }
    }
    for (const uuid of uuids) expect(secretSpans(`arn:aws:acm:us-east-1:111122223333:certificate/${uuid}`)).toEqual([]);
    expect(checked).toBe(partitions.length * areas.length * directions.length);
  });

  it('leaves anything else in an ARN to the detectors', () => {
    const arn = `arn:aws:acm:us-east-1:111122223333:certificate/${uuids[5]}`;
    expect(redactString(`${arn}?password=hunter2`)).toBe(`${arn}?password=${REDACTED}`);
    // A partition the shortcut does not know: what follows `password:` is taken for its value.
    expect(redactString(`arn:aws-password:acm:us-east-1:111122223333:certificate/${uuids[5]}`)).toBe(`arn:aws-password:${REDACTED}`);
    // A private key pasted where the certificate ID goes: always caught there, by its DER header.
    const key = ec.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    expect(redactString(`arn:aws:acm:us-east-1:111122223333:certificate/${key}`)).toBe(`arn:aws:acm:us-east-1:111122223333:${REDACTED}`);
  });
});

describe('redactDeep', () => {
  it.each([
    'privateKey', 'private_key', 'PrivateKeyPem', 'passphrase', 'Password', 'secret', 'secretKey', 'SECRET_KEY', 'macKey', 'mac_key', 'hmacKey',
    'eab-hmac-key', 'credentials', 'credential', 'keyMaterial', 'plaintext', 'certificate', 'certificateChain', 'csr', 'secretAccessKey', 'sessionToken',
    'MacKey', 'MACKEY', 'HmacKey', 'HMAC_KEY', 'eabMacKey', 'EabHmacKey', 'eab_hmac_key', 'hmacSecret', 'accountKey', 'AccountKey', 'acme_account_key', 'accountKeyPem', 'eabKey',
  ])('redacts the whole value of a field named %s, whatever its type', (name) => {
    for (const value of ['short', 42, true, { nested: 'x' }, ['a', 'b'], '']) expect(redactDeep({ [name]: value })).toEqual({ [name]: REDACTED });
    expect(redactDeep({ [name]: null })).toEqual({ [name]: null });
  });

  it('redacts the value of a tag or name/value pair whose name means a secret, and keeps other tags', () => {
    const tags = [{ key: 'eab_hmac_key', value: 'short1' }, { Key: 'MacKey', Value: 'short2' }, { Name: 'password', Value: 'short3' }, { Key: 'macKey', value: 's4' }, { tagKey: 'EabHmacKey', tagValue: 's5' }, { key: 'team', value: 'edge' }];
    expect(redactDeep({ tags })).toEqual({
      tags: [
        { key: 'eab_hmac_key', value: REDACTED }, { Key: 'MacKey', Value: REDACTED }, { Name: 'password', Value: REDACTED }, { Key: 'macKey', value: REDACTED }, { tagKey: 'EabHmacKey', tagValue: REDACTED },
        { key: 'team', value: 'edge' },
      ],
    });
  });

  it.each(['certificateArn', 'certificateAuthorityArn', 'domainName', 'idempotencyToken', 'keyAlgorithm', 'secretId', 'nextToken', 'keyId', 'acmeExternalAccountBindingArn', 'accountUrl'])('keeps a field named %s', (name) => {
    expect(redactDeep({ [name]: 'value-1' })).toEqual({ [name]: 'value-1' });
  });

  it('redacts JWK private members by structure and keeps the public ones', () => {
    const jwk = jwkOf(rsa);
    const output = redactDeep({ keys: [jwk] }) as { keys: Record<string, unknown>[] };
    const key = output.keys[0]!;
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key[member]).toBe(REDACTED);
    expect(key).toMatchObject({ kty: 'RSA', e: 'AQAB' });
    expect(redactDeep({ kty: 'oct', k: 'c2hvcnQ', oth: [{ r: 'x' }] })).toEqual({ kty: 'oct', k: REDACTED, oth: REDACTED });
    expect(redactDeep({ d: '2025-03-14', k: 1 })).toEqual({ d: '2025-03-14', k: 1 });
  });

  it('redacts byte arrays of 16 or more values and keeps shorter or other number arrays', () => {
    expect(redactDeep({ blob: [...randomBytes(16)] })).toEqual({ blob: REDACTED });
    expect(redactDeep({ blob: [...new Int8Array(randomBytes(32).buffer)] })).toEqual({ blob: REDACTED });
    expect(redactDeep({ ports: [22, 443], years: Array.from({ length: 20 }, (_, i) => 2000 + i) })).toEqual({ ports: [22, 443], years: Array.from({ length: 20 }, (_, i) => 2000 + i) });
  });

  it('redacts ByteBuffer dumps wherever they sit', () => {
    const buffer = { hb: [42, 42], offset: 0, isReadOnly: false, position: 0, limit: 2, capacity: 2 };
    expect(redactDeep({ options: [{ value: buffer }, { capacity: 2, limit: 2, position: 0 }] })).toEqual({ options: [{ value: REDACTED }, REDACTED] });
  });

  it('redacts secrets by content in strings and in field names, at any depth', () => {
    const body = derBase64(ec);
    const input = { a: [{ b: `key ${body}` }], [body]: 'tag', tags: [{ key: 'Owner', value: 'alice' }] };
    expect(redactDeep(input)).toEqual({ a: [{ b: `key ${REDACTED}` }], [REDACTED]: 'tag', tags: [{ key: 'Owner', value: 'alice' }] });
  });

  it('caps depth at 8 levels', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i += 1) deep = [{ next: deep }];
    expect(JSON.stringify(redactDeep(deep))).toContain('[nested too deep]');
    expect(redactDeep({ a: { b: { c: { d: { e: { f: { g: { h: 'x' } } } } } } } })).toEqual({ a: { b: { c: { d: { e: { f: { g: { h: 'x' } } } } } } } });
    expect(redactDeep({ a: { b: { c: { d: { e: { f: { g: { h: { i: 'x' } } } } } } } } })).toEqual({ a: { b: { c: { d: { e: { f: { g: { h: '[nested too deep]' } } } } } } } });
  });

  it('keeps a __proto__ key from JSON.parse as a plain field and does not touch prototypes', () => {
    const output = redactDeep(JSON.parse('{"__proto__":{"password":"x","polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(output, '__proto__')?.value).toEqual({ password: REDACTED, polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(() => redactDeep(value)).not.toThrow();
        expect(() => JSON.stringify(redactDeep(value))).not.toThrow();
      }),
      { numRuns: 300 },
    );
    const hostile = { get boom(): string { throw new Error('getter'); } };
    expect(redactDeep({ ok: 1, bad: hostile })).toEqual({ ok: 1, bad: REDACTED });
    expect(redactDeep(new Uint8Array(4))).toBe(REDACTED);
    for (const value of [undefined, null, 0, NaN, -1, true, 10n, '', [], {}, [[[]]]]) expect(() => redactDeep(value)).not.toThrow();
  });
});

describe('redact and redactText keep their meaning', () => {
  it('redact copies request parameters with secrets replaced and strings capped at 1024 characters', () => {
    const input = { passphrase: 'x', domainName: 'a'.repeat(40), comment: 'word '.repeat(400), nested: { list: [1, 'ok'] } };
    const output = redact(input) as Record<string, unknown>;
    expect(output).toEqual({ passphrase: REDACTED, domainName: 'a'.repeat(40), comment: `${'word '.repeat(400).slice(0, 1024)}…`, nested: { list: [1, 'ok'] } });
    expect(input.passphrase).toBe('x');
  });

  it('redactText redacts secrets before it caps, so a cut cannot keep a key fragment', () => {
    const body = derBase64(ec);
    expect(redactText(`${'x '.repeat(200)}${body}`, 450)).toBe(`${'x '.repeat(200)}${REDACTED}`);
    expect(redactText('word '.repeat(120))).toBe(`${'word '.repeat(120).slice(0, 512)}…`);
    expect(redactText(undefined)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const WORDS = ['the', 'key', 'for', 'was', 'exported', 'by', 'user', 'in', 'account', 'role', 'error', 'request', 'denied', 'please', 'rotate', 'it', 'now', 'certificate', 'session', 'policy'];
const NAME_WORDS = ['Security', 'Break', 'Glass', 'Admin', 'Deploy', 'Read', 'Only', 'Certificate', 'Manager', 'Export', 'Audit', 'Ops', 'Prod', 'Staging', 'Pipeline', 'Access', 'Role', 'Lambda', 'Service'];
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1'];

const digits = (length: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }).map((d) => d.join(''));
const account = digits(12);
const camelName = fc.array(fc.constantFrom(...NAME_WORDS), { minLength: 1, maxLength: 6 }).map((w) => w.join(''));
const roleName = fc.array(camelName, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('-'));
const person = fc.constantFrom('alice', 'bob', 'carol', 'dave@example.com', 'i-0abcd1234ef567890');
const version = fc.tuple(fc.nat(40), fc.nat(40), fc.nat(300)).map(([a, b, c]) => `${a}.${b}.${c}`);
const base32 = fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'), { minLength: 16, maxLength: 16 }).map((c) => c.join(''));

const legitimateToken: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.uuid(),
  account,
  fc.tuple(account, roleName, person).map(([a, r, p]) => `arn:aws:sts::${a}:assumed-role/${r}/${p}`),
  fc.tuple(fc.constantFrom(...REGIONS), account, fc.uuid()).map(([r, a, u]) => `arn:aws:acm:${r}:${a}:certificate/${u}`),
  fc.tuple(account, roleName).map(([a, r]) => `arn:aws:iam::${a}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_${r}_0123456789abcdef`),
  fc.tuple(fc.constantFrom('ASIA', 'AKIA', 'AROA'), base32).map(([p, k]) => p + k),
  fc.tuple(version, version, version).map(([a, b, c]) => `aws-cli/${a} Python/${b} Linux/${c}-208.866.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/acm.export-certificate`),
  fc.tuple(version, version).map(([a, b]) => `Boto3/${a} md/Botocore#${a} ua/2.0 os/linux#${b} md/arch#x86_64 lang/python#3.12.2`),
  fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom('example.com', 'example.org')).map(([w, d]) => `${w}.${d}`),
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `203.0.${a}.${b}`),
);
const legitimateText = fc.array(legitimateToken, { minLength: 1, maxLength: 8 }).map((tokens) => tokens.join(' '));

/**
 * Secret material in the formats above, generated fresh (keys from a small pool: generating them
 * is slow), with what it must become: `[redacted]`, or for a JWK the JSON with `d` redacted.
 */
const whole = (secret: string) => ({ secret, expected: REDACTED });
/** Uniformly random bytes: fast-check's usual bias towards small values would not be key material. */
const bytes = (constraints: { minLength: number; maxLength: number }) => fc.noBias(fc.uint8Array(constraints));
const secretMaterial: fc.Arbitrary<{ secret: string; expected: string }> = fc.oneof(
  fc.tuple(fc.constantFrom(...ecKeys), fc.constantFrom('\n', '\r\n')).map(([key, eol]) => pkcs8Pem(key).replace(/\n/g, eol).trimEnd()),
  fc.constantFrom(...ecKeys).map((key) => derBase64(key)),
  fc.tuple(fc.constantFrom(...ecKeys), fc.constantFrom(64, 76), fc.constantFrom('\n', '\r\n', ' ')).map(([key, width, separator]) => wrap(derBase64(key), width, separator)),
  bytes({ minLength: 32, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  bytes({ minLength: 32, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  bytes({ minLength: 32, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('hex')),
  bytes({ minLength: 32, maxLength: 48 }).map((bytes) => hexDump(Buffer.from(bytes)).trim()),
  bytes({ minLength: 16, maxLength: 48 }).map((bytes) => `[${[...bytes].join(', ')}]`),
  fc.constant(null).map(() => puttyKey(ed).file.trimEnd()),
).map(whole);
const jwkMaterial = fc.constantFrom(...ecKeys).map((key) => ({
  secret: JSON.stringify({ kty: 'EC', crv: 'P-256', d: jwkOf(key).d }),
  expected: JSON.stringify({ kty: 'EC', crv: 'P-256', d: REDACTED }),
}));

describe('properties', () => {
  it('keeps random legitimate identifiers and texts unchanged', () => {
    fc.assert(
      fc.property(legitimateText, (text) => {
        expect(redactString(text)).toBe(text);
      }),
      { numRuns: 400 },
    );
  });

  it('redacts a random key embedded in random text and keeps the text around it', () => {
    fc.assert(
      fc.property(
        legitimateText,
        fc.constantFrom(' ', '\n', ': ', ' "', ' = '),
        fc.oneof({ arbitrary: secretMaterial, weight: 9 }, { arbitrary: jwkMaterial, weight: 1 }),
        fc.constantFrom(' ', '\n', '" ', '. '),
        legitimateText,
        (before, open, { secret, expected }, close, after) => {
          const suffix = `${after} end`;
          const output = redactString(`${before}${open}${secret}${close}${suffix}`);
          expect(output).toBe(`${before}${open}${expected}${close}${suffix}`);
          expectNoFragment(output, secret.replace(/-----[A-Z ]+-----|PuTTY.*|Private-.*|[[\]{}",]/g, ''));
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Linear time and bounded stack on hostile input

const MB = 1_000_000;
const fill = (unit: string, size: number): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

describe('hostile sizes', () => {
  it('redacts 100 MB of base64 in one piece, in time proportional to its length', () => {
    const text = randomBytes(75 * MB).toString('base64');
    expect(text.length).toBe(100 * MB);
    const started = performance.now();
    expect(redactString(text)).toBe(REDACTED);
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it.each<[string, () => string]>([
    ['all "a"', () => fill('a', 10 * MB)],
    ['alternating letter and space', () => fill('a ', 10 * MB)],
    ['alternating hex and colon', () => fill('ab:', 10 * MB)],
    ['many BEGIN without END', () => fill('-----BEGIN RSA PRIVATE KEY-----\n', 10 * MB)],
    ['a BEGIN and many mismatched ENDs', () => `-----BEGIN A-----${fill('-----END B-----', 10 * MB)}`],
    ['many PuTTY headers', () => fill('PuTTY-User-Key-File-3: x\nPrivate-MAC: ab\n', 10 * MB)],
    ['quotes', () => fill('"', 10 * MB)],
    ['JWK member keys', () => `"kty"${fill('"d":', 10 * MB)}`],
    ['an unclosed secret array', () => fill('"password":[', 10 * MB)],
    ['ARN prefixes', () => fill('arn:aws:', 10 * MB)],
    ['byte values', () => fill('1,', 10 * MB)],
    ['random 16-character pieces', () => fill(Array.from({ length: 1000 }, () => randomBytes(12).toString('base64')).join(' '), 10 * MB)],
    ['random 39-character pieces', () => fill(Array.from({ length: 1000 }, () => randomBytes(30).toString('base64').slice(0, 39)).join(' '), 10 * MB)],
  ])('handles 10 MB of %s without throwing', (_name, make) => {
    const text = make();
    const started = performance.now();
    expect(typeof redactString(text)).toBe('string');
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
