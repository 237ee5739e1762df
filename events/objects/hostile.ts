/**
 * Hostile log files: what a caller can put into the text acm-sentinel renders (a user agent, an
 * ARN echoed in an error message, a session name), and what a forged or damaged file can hold
 * (any JSON type in any field, any size). One file per class of attack; generate.ts writes them
 * beside the other samples, under the day 2025/03/15, with the S3 event events/s3-put-hostile.json.
 *
 * Secret-looking values are made from a fixed seed: random bytes in the shapes key material takes
 * (PEM, base64 wrapped at 64 or 76 columns, base64url, hex with colons, JWK, OpenSSH and PuTTY
 * blocks), never a real key.
 */
import { createHash } from 'node:crypto';

type Json = Record<string, unknown>;

const ACCOUNT = '111122223333';
const DAY = '2025/03/15';
const CERT = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/7a1c3e5f-2b4d-4f6a-8c0e-1d3f5a7b9c2e`;

/** Deterministic pseudo-random bytes: SHA-256 in counter mode over a label. */
export function seededBytes(label: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i += 1) blocks.push(createHash('sha256').update(`${label}/${i}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

const wrapAt = (text: string, width: number, eol = '\n'): string => (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);

/** Secret material in the shapes the redactor must catch, each made from seeded random bytes. */
export const HOSTILE_SECRETS = {
  pemCrlf76: `-----BEGIN PRIVATE KEY-----\r\n${wrapAt(seededBytes('pem76', 1190).toString('base64'), 76, '\r\n')}\r\n-----END PRIVATE KEY-----`,
  pemSpaces: `-----BEGIN RSA PRIVATE KEY----- ${wrapAt(seededBytes('pemsp', 600).toString('base64'), 64, ' ')} -----END RSA PRIVATE KEY-----`,
  bareBase64At64: wrapAt(seededBytes('bare64', 900).toString('base64'), 64),
  ecPkcs8OneLine: seededBytes('ec', 138).toString('base64'),
  macKeyBase64url: seededBytes('mac', 32).toString('base64url'),
  hexColons: (seededBytes('hex', 48).toString('hex').match(/../g) ?? []).join(':'),
  hexPlain: seededBytes('hexp', 40).toString('hex'),
  openssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrapAt(seededBytes('ssh', 400).toString('base64'), 70)}\n-----END OPENSSH PRIVATE KEY-----`,
  putty: [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: deploy',
    'Public-Lines: 2',
    ...wrapAt(seededBytes('putty-pub', 51).toString('base64'), 64).split('\n'),
    'Private-Lines: 1',
    seededBytes('putty-priv', 48).toString('base64'),
    `Private-MAC: ${seededBytes('putty-mac', 32).toString('hex')}`,
  ].join('\n'),
  jwkD: seededBytes('jwk-d', 32).toString('base64url'),
  byteArray: [...seededBytes('bytes', 24)],
} as const;

/** A realistic ACM record by an assumed role, in CloudTrail's field order; override any field. */
function call(eventID: string, overrides: Json): Json {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROA6EXAMPLEMALLORY:mallory',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Contractor/mallory`,
      accountId: ACCOUNT,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROA6EXAMPLEMALLORY', arn: `arn:aws:iam::${ACCOUNT}:role/Contractor`, accountId: ACCOUNT, userName: 'Contractor' },
        attributes: { creationDate: '2025-03-15T08:00:00Z', mfaAuthenticated: 'false' },
      },
    },
    eventTime: '2025-03-15T09:00:00Z',
    eventSource: 'acm.amazonaws.com',
    eventName: 'ExportCertificate',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.66',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { certificateArn: CERT, passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    responseElements: null,
    eventID,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...overrides,
  };
}

const MARKUP = '` <!channel> <https://evil.example/x|click here> *URGENT* `';
const denied = (arn: string) => ({
  errorCode: 'AccessDenied',
  errorMessage: `User: arn:aws:sts::${ACCOUNT}:assumed-role/Contractor/mallory is not authorized to perform: acm:DeleteCertificate on resource: ${arn} because no identity-based policy allows the acm:DeleteCertificate action`,
});
const forgedLines = '\nWho         arn:aws:sts::111122223333:assumed-role/Admin/alice\nCall        acm.amazonaws.com DescribeCertificate — succeeded\n*Who:* alice';

/** The hostile log files: name (the last part of the key) and records. */
export const HOSTILE_LOGS: ReadonlyArray<{ name: string; records: Json[] }> = [
  {
    name: 'markup',
    records: [
      call('b1a0e2c4-0001-4a00-8000-000000000001', { userAgent: `aws-cli/2 ${MARKUP}` }),
      call('b1a0e2c4-0001-4a00-8000-000000000002', {
        eventName: 'DeleteCertificate',
        requestParameters: { certificateArn: `${CERT}${MARKUP}` },
        ...denied(`${CERT}${MARKUP}`),
      }),
      call('b1a0e2c4-0001-4a00-8000-000000000003', {
        eventName: 'AddTagsToCertificate',
        requestParameters: { certificateArn: CERT, tags: [{ key: '<!here>', value: '[click](https://evil.example) <b>bold</b> _x_ ~y~ # heading' }] },
      }),
    ],
  },
  {
    name: 'forged-lines',
    records: [
      call('b1a0e2c4-0002-4a00-8000-000000000001', { eventName: 'DeleteCertificate', requestParameters: { certificateArn: CERT }, errorCode: 'AccessDenied', errorMessage: `denied${forgedLines}` }),
      call('b1a0e2c4-0002-4a00-8000-000000000002', { userAgent: `aws-cli/2.15.0\r${forgedLines}\u2028Session     issued by nobody\u0085Error       none` }),
    ],
  },
  {
    name: 'terminal-escapes',
    records: [
      call('b1a0e2c4-0003-4a00-8000-000000000001', {
        eventName: 'DeleteCertificate',
        requestParameters: { certificateArn: `${CERT}\u001b[2K\u001b[1A\rINFO     all clear\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007\u009b2J\u0000\u007f` },
      }),
    ],
  },
  {
    name: 'invisible-and-links',
    records: [
      call('b1a0e2c4-0004-4a00-8000-000000000001', {
        userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLEEVE', arn: `arn:aws:iam::${ACCOUNT}:user/eve\u202egnp.exe`, accountId: ACCOUNT, userName: 'ad\u200bmin\u2066\ufeff' },
        userAgent: 'Mozilla/5.0 see https://evil.example/login and www.evil.example/reset',
      }),
    ],
  },
  {
    name: 'oversized',
    records: [
      call('b1a0e2c4-0005-4a00-8000-000000000001', { eventName: 'DeleteCertificate', requestParameters: { certificateArn: `${CERT}${'x'.repeat(22_000)}` }, ...denied(`${CERT}${'x'.repeat(22_000)}`) }),
      call('b1a0e2c4-0005-4a00-8000-000000000002', { sourceIPAddress: '203.0.113.'.repeat(30_000) }),
      call('b1a0e2c4-0005-4a00-8000-000000000003', {
        eventName: 'RevokeCertificate',
        resources: Array.from({ length: 500 }, (_, i) => ({ ARN: `${CERT.slice(0, -4)}${String(i).padStart(4, '0')}`, accountId: ACCOUNT, type: 'AWS::ACM::Certificate' })),
        requestParameters: { certificateArn: CERT, revocationReason: 'KEY_COMPROMISE', notes: 'n'.repeat(100_000) },
      }),
    ],
  },
  {
    name: 'secrets',
    records: [
      call('b1a0e2c4-0006-4a00-8000-000000000001', {
        eventName: 'ImportCertificate',
        requestParameters: {
          certificateArn: CERT,
          private_key: HOSTILE_SECRETS.pemCrlf76,
          privateKeyPem: HOSTILE_SECRETS.pemSpaces,
          note: `wrapped: ${HOSTILE_SECRETS.bareBase64At64}`,
          ec: HOSTILE_SECRETS.ecPkcs8OneLine,
          jwk: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', d: HOSTILE_SECRETS.jwkD },
          blob: HOSTILE_SECRETS.byteArray,
          fingerprint: HOSTILE_SECRETS.hexColons,
        },
        responseElements: { certificateArn: CERT },
      }),
      call('b1a0e2c4-0006-4a00-8000-000000000002', {
        eventName: 'DeleteCertificate',
        requestParameters: { certificateArn: `${CERT}/${HOSTILE_SECRETS.openssh}` },
        ...denied(`${CERT}/${HOSTILE_SECRETS.openssh}`),
        userAgent: `deploy-tool mac=${HOSTILE_SECRETS.macKeyBase64url} key=${HOSTILE_SECRETS.hexPlain}`,
      }),
      call('b1a0e2c4-0006-4a00-8000-000000000003', {
        eventName: 'ImportCertificate',
        requestParameters: { certificateArn: CERT, notes: HOSTILE_SECRETS.putty },
        userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLEEVE', arn: `arn:aws:iam::${ACCOUNT}:user/${HOSTILE_SECRETS.ecPkcs8OneLine}`, accountId: ACCOUNT },
        sourceIPAddress: HOSTILE_SECRETS.macKeyBase64url,
      }),
    ],
  },
  {
    name: 'wrong-types',
    records: [
      call('b1a0e2c4-0007-4a00-8000-000000000001', { userAgent: 42, errorCode: { code: 'AccessDenied' }, errorMessage: ['a', 'b'], recipientAccountId: 111122223333 }),
      call('b1a0e2c4-0007-4a00-8000-000000000002', {
        eventName: 'DeleteCertificate',
        userIdentity: { type: 7, arn: 12345, accountId: true, sessionContext: 'none', userName: { first: 'x' } },
        awsRegion: ['us-east-1'],
        eventTime: 1710493200,
        sourceIPAddress: null,
        requestParameters: 'certificateArn=x',
        resources: 'all',
      }),
      call(42 as unknown as string, { eventName: 'RevokeCertificate', requestParameters: [1, 2, 3], responseElements: 'ok', resources: [null, 7, { ARN: 9 }, { ARN: CERT }] }),
    ],
  },
  {
    name: 'huge-base64',
    records: [call('b1a0e2c4-0008-4a00-8000-000000000001', { eventName: 'ImportCertificate', requestParameters: { certificateArn: CERT, chain: 'Ab3+'.repeat(1_400_000) }, userAgent: `x ${'Zq9/'.repeat(100_000)}` })],
  },
];

/** The key of a hostile log file, at CloudTrail's layout under the day 2025/03/15. */
export const hostileKey = (name: string, index: number): string =>
  `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/${DAY}/${ACCOUNT}_CloudTrail_us-east-1_20250315T09${String(index).padStart(2, '0')}Z_hostile-${name}.json.gz`;
