/**
 * Writes the sample CloudTrail log files under events/objects/<bucket>/AWSLogs/... and the S3
 * event notifications that name them (events/s3-put.json, events/s3-put-single.json,
 * events/s3-test-event.json), and the hostile log files of hostile.ts with the event that names
 * them (events/s3-put-hostile.json). Run it from the repository root:
 *
 *   npx tsx events/objects/generate.ts
 *
 * The output is deterministic: every id and time is written out below, and the gzip header
 * carries no timestamp, so the same bytes come out on every run and the sizes and ETags in the
 * S3 events always match the files. Edit the records here, never the .json.gz files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { HOSTILE_LOGS, hostileKey } from './hostile';

type Json = Record<string, unknown>;

export const BUCKET = 'acm-sentinel-demo-trail';
const BUCKET_REGION = 'us-east-1';

const MAIN = '111122223333';
const MEMBER = '444455556666';
const ORG = 'o-a1b2c3d4e5';

// ---------------------------------------------------------------------------------------------
// Who makes the calls
// ---------------------------------------------------------------------------------------------

function assumedRole(o: {
  account: string;
  role: string;
  rolePath?: string;
  roleId: string;
  session: string;
  accessKeyId: string;
  created: string;
  mfa: boolean;
  invokedBy?: string;
}): Json {
  const identity: Json = {
    type: 'AssumedRole',
    principalId: `${o.roleId}:${o.session}`,
    arn: `arn:aws:sts::${o.account}:assumed-role/${o.role}/${o.session}`,
    accountId: o.account,
    accessKeyId: o.accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: o.roleId,
        arn: `arn:aws:iam::${o.account}:role/${o.rolePath ?? ''}${o.role}`,
        accountId: o.account,
        userName: o.role,
      },
      attributes: { creationDate: o.created, mfaAuthenticated: String(o.mfa) },
    },
  };
  if (o.invokedBy) identity.invokedBy = o.invokedBy;
  return identity;
}

/** An IAM user's identity, as CloudTrail records it (no access key when the call was made in the console). */
function iamUser(o: { account: string; user: string; userId: string; accessKeyId?: string }): Json {
  return {
    type: 'IAMUser',
    principalId: o.userId,
    arn: `arn:aws:iam::${o.account}:user/${o.user}`,
    accountId: o.account,
    ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
    userName: o.user,
  };
}

const SSO_ROLE = 'AWSReservedSSO_PlatformAdmin_3f1a2b4c5d6e7f80';

/** A platform engineer signed in through IAM Identity Center, mostly clicking in the console. */
const aliceSso = assumedRole({
  account: MAIN,
  role: SSO_ROLE,
  rolePath: 'aws-reserved/sso.amazonaws.com/',
  roleId: 'AROA2EXAMPLEPLATFRM01',
  session: 'alice@example.com',
  accessKeyId: 'ASIAI44QH8DHBEXAMPLE',
  created: '2025-03-14T08:31:12Z',
  mfa: false,
});

/** The same engineer as an IAM user, used to assume the break-glass role with MFA. */
const aliceUser = iamUser({ account: MAIN, user: 'alice', userId: 'AIDACKCEVSQ6C2EXAMPLE', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' });

/** The break-glass role session that exports and deletes certificates in file (a). */
const breakGlass = assumedRole({
  account: MAIN,
  role: 'SecurityBreakGlass',
  roleId: 'AROACKCEVSQ6C2EXAMPLE',
  session: 'alice',
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  created: '2025-03-14T08:59:02Z',
  mfa: true,
});

const bobUser = iamUser({ account: MAIN, user: 'bob', userId: 'AIDAJ45Q7YFFAREXAMPLE' });

/** A Lambda function's execution role. */
const ordersFn = assumedRole({
  account: MAIN,
  role: 'orders-api-role',
  roleId: 'AROA4EXAMPLEORDERSAPI',
  session: 'orders-api',
  accessKeyId: 'ASIAZ3ORDERS7EXAMPLE',
  created: '2025-03-14T08:55:14Z',
  mfa: false,
});

const ordersFnViaSecretsManager = { ...ordersFn, invokedBy: 'secretsmanager.amazonaws.com' };

const configRecorder = assumedRole({
  account: MAIN,
  role: 'AWSServiceRoleForConfig',
  rolePath: 'aws-service-role/config.amazonaws.com/',
  roleId: 'AROA5EXAMPLECONFIGSR',
  session: 'AwsConfigRecorderSession',
  accessKeyId: 'ASIACONFIG5EXAMPLE01',
  created: '2025-03-14T08:47:30Z',
  mfa: false,
  invokedBy: 'config.amazonaws.com',
});

const iotFleetRole = assumedRole({
  account: MAIN,
  role: 'device-fleet-manager',
  roleId: 'AROA6EXAMPLEDEVFLEET',
  session: 'rotate-device-certs',
  accessKeyId: 'ASIADEVFLEET7EXAMPLE',
  created: '2025-03-14T09:01:20Z',
  mfa: false,
});

/** A CI job that assumed its deploy role through web identity (OIDC). */
const ciDeployer = assumedRole({
  account: MAIN,
  role: 'ci-deployer',
  roleId: 'AROA3EXAMPLECIDEPLOY7',
  session: 'build-42',
  accessKeyId: 'ASIAQNZGKIQY7EXAMPLE',
  created: '2025-03-14T09:11:52Z',
  mfa: false,
});

/** A PKI administrator in a member account of the organization (file (c)). */
const pkiAdmin = assumedRole({
  account: MEMBER,
  role: 'pki-admin',
  roleId: 'AROA7EXAMPLEPKIADMIN',
  session: 'bob',
  accessKeyId: 'ASIAPKIADMIN7EXAMPLE',
  created: '2025-03-14T10:02:44Z',
  mfa: true,
});

const service = (name: string): Json => ({ type: 'AWSService', invokedBy: name });

// ---------------------------------------------------------------------------------------------
// Record builder: fields in the order CloudTrail writes them
// ---------------------------------------------------------------------------------------------

interface Call {
  version?: string;
  who: Json;
  at: string;
  source: string;
  name: string;
  region?: string;
  ip: string;
  ua: string;
  error?: { code: string; message: string };
  req: Json | null;
  resp?: Json | null;
  additionalEventData?: Json;
  requestID?: string;
  eventID: string;
  readOnly: boolean;
  resources?: Json[];
  eventType?: string;
  apiVersion?: string;
  category?: 'Management' | 'Data';
  account?: string;
  sharedEventID?: string;
  /** The endpoint the client called; omitted for calls made by AWS services. */
  host?: string;
  console?: boolean;
}

function record(c: Call): Json {
  const r: Json = {
    eventVersion: c.version ?? '1.09',
    userIdentity: c.who,
    eventTime: c.at,
    eventSource: c.source,
    eventName: c.name,
    awsRegion: c.region ?? 'us-east-1',
    sourceIPAddress: c.ip,
    userAgent: c.ua,
  };
  if (c.error) {
    r.errorCode = c.error.code;
    r.errorMessage = c.error.message;
  }
  r.requestParameters = c.req;
  r.responseElements = c.resp ?? null;
  if (c.additionalEventData) r.additionalEventData = c.additionalEventData;
  if (c.requestID) r.requestID = c.requestID;
  r.eventID = c.eventID;
  r.readOnly = c.readOnly;
  if (c.resources) r.resources = c.resources;
  r.eventType = c.eventType ?? 'AwsApiCall';
  if (c.apiVersion) r.apiVersion = c.apiVersion;
  r.managementEvent = (c.category ?? 'Management') === 'Management';
  r.recipientAccountId = c.account ?? MAIN;
  if (c.sharedEventID) r.sharedEventID = c.sharedEventID;
  r.eventCategory = c.category ?? 'Management';
  if (c.host) r.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: c.host };
  if (c.console) r.sessionCredentialFromConsole = 'true';
  return r;
}

const CONSOLE_UA = 'AWS Internal';
const BROWSER_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36';
const cli = (command: string): string =>
  `aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#${command}`;
const sdk = (api: string): string =>
  `aws-sdk-js/3.540.0 ua/2.1 os/linux#5.10.219-208.866.amzn2.x86_64 lang/js md/nodejs#20.12.2 api/${api}#3.540.0 exec-env/AWS_Lambda_nodejs20.x`;
const ciSdk = (api: string): string => `aws-sdk-js/3.540.0 ua/2.1 os/linux#6.5.0-1017-azure lang/js md/nodejs#20.11.1 api/${api}#3.540.0`;
const ALICE_IP = '203.0.113.24';
const BOB_IP = '192.0.2.77';
const CI_IP = '198.51.100.42';
const PKI_IP = '203.0.113.150';

const cert = (account: string, region: string, id: string): string => `arn:aws:acm:${region}:${account}:certificate/${id}`;
const TRAIL_KEY = `arn:aws:kms:us-east-1:${MAIN}:key/0b6f3c9e-5a7d-4e21-8c94-2d1f0e7a6b53`;
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${MAIN}:trail/management-events`;
const ORDERS_SECRET = `arn:aws:secretsmanager:us-east-1:${MAIN}:secret:orders-api/db-Xy12Ab`;

/** A ByteBuffer dump as CloudTrail printed the passphrase of ExportCertificate in older logs. */
const passphraseDump: Json = {
  hb: [42, 42, 42, 42, 42, 42, 42, 42, 42, 42],
  offset: 0,
  isReadOnly: false,
  bigEndian: true,
  nativeByteOrder: false,
  mark: -1,
  position: 0,
  limit: 10,
  capacity: 10,
  address: 0,
};

const FAKE_CERT = '-----BEGIN CERTIFICATE-----\nbase64 certificate\n-----END CERTIFICATE-----\n';

/** KMS Decrypt that Secrets Manager makes on the orders function's behalf when it reads its secret. */
/** The orders API reading its database secret; Secrets Manager then decrypts it (ordersSecretDecrypt). */
function ordersSecretGet(at: string, requestID: string, eventID: string): Json {
  return record({
    who: ordersFn,
    at,
    source: 'secretsmanager.amazonaws.com',
    name: 'GetSecretValue',
    ip: '198.51.100.23',
    ua: sdk('secrets-manager'),
    req: { secretId: 'orders-api/db' },
    requestID,
    eventID,
    readOnly: true,
    host: 'secretsmanager.us-east-1.amazonaws.com',
  });
}

function ordersSecretDecrypt(at: string, requestID: string, eventID: string): Json {
  return record({
    version: '1.08',
    who: ordersFnViaSecretsManager,
    at,
    source: 'kms.amazonaws.com',
    name: 'Decrypt',
    ip: 'secretsmanager.amazonaws.com',
    ua: 'secretsmanager.amazonaws.com',
    req: {
      encryptionContext: { SecretARN: ORDERS_SECRET, SecretVersionId: '8f2e5b1c-4d7a-4f93-a0e6-1b9c3d5e7f20' },
      encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    },
    requestID,
    eventID,
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-east-1:${MAIN}:key/e3a1d7c5-92b4-4f06-8d1e-6c0b5a2f9e47` }],
  });
}

function trailDataKey(at: string, eventID: string, requestID: string, sharedEventID: string, logKey: string): Json {
  return record({
    version: '1.08',
    who: service('cloudtrail.amazonaws.com'),
    at,
    source: 'kms.amazonaws.com',
    name: 'GenerateDataKey',
    ip: 'cloudtrail.amazonaws.com',
    ua: 'cloudtrail.amazonaws.com',
    req: {
      keySpec: 'AES_256',
      encryptionContext: { 'aws:cloudtrail:arn': TRAIL_ARN, 'aws:s3:arn': `arn:aws:s3:::${BUCKET}/${logKey}` },
      keyId: TRAIL_KEY,
    },
    requestID,
    eventID,
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::KMS::Key', ARN: TRAIL_KEY }],
    sharedEventID,
  });
}

// ---------------------------------------------------------------------------------------------
// (a) A busy five minutes in 111122223333 / us-east-1, with a break-glass export and delete
// ---------------------------------------------------------------------------------------------

const KEY_A = `AWSLogs/${MAIN}/CloudTrail/us-east-1/2025/03/14/${MAIN}_CloudTrail_us-east-1_20250314T0905Z_Kx7Qm2Vb9TzL4pRa.json.gz`;
const KEY_B = `AWSLogs/${MAIN}/CloudTrail/us-east-1/2025/03/14/${MAIN}_CloudTrail_us-east-1_20250314T0915Z_3fNw8YcHq1ZsD6uE.json.gz`;
const KEY_C = `AWSLogs/${ORG}/${MEMBER}/CloudTrail/eu-west-1/2025/03/14/${MEMBER}_CloudTrail_eu-west-1_20250314T1020Z_Vd2Lr9XkT5bJm0Qa.json.gz`;
const DIGEST_PREFIX = `AWSLogs/${MAIN}/CloudTrail-Digest/us-east-1/2025/03/14/${MAIN}_CloudTrail-Digest_us-east-1_management-events_us-east-1_`;
const KEY_D = `${DIGEST_PREFIX}20250314T100037Z.json.gz`;

const EXPORTED_CERT = cert(MAIN, 'us-east-1', '5d8c2a71-3e94-4b0f-a6d2-9c17e4b8f035');
const DELETED_CERT = cert(MAIN, 'us-east-1', 'c41e7b93-0d25-4f8a-b6e1-72a9d3c5f804');

const fileA: Json[] = [
  trailDataKey('2025-03-14T08:55:02Z', '647430ef-1309-433b-a1a5-a5800958c815', '4241bebc-ec4f-4bad-943b-8e9946f7fc00', '7f656769-055a-4fc3-a65d-993ac7d37dc1', `AWSLogs/${MAIN}/CloudTrail/us-east-1/2025/03/14/${MAIN}_CloudTrail_us-east-1_20250314T0900Z_pW4sN8dKq2LxV7mB.json.gz`),
  record({
    version: '1.08',
    who: service('lambda.amazonaws.com'),
    at: '2025-03-14T08:55:14Z',
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    ip: 'lambda.amazonaws.com',
    ua: 'lambda.amazonaws.com',
    req: { roleArn: `arn:aws:iam::${MAIN}:role/orders-api-role`, roleSessionName: 'orders-api' },
    resp: {
      credentials: { accessKeyId: 'ASIAZ3ORDERS7EXAMPLE', expiration: 'Mar 14, 2025, 9:55:14 PM' },
      assumedRoleUser: { assumedRoleId: 'AROA4EXAMPLEORDERSAPI:orders-api', arn: `arn:aws:sts::${MAIN}:assumed-role/orders-api-role/orders-api` },
    },
    requestID: '7c771772-c5b0-49cb-943d-d0bd3fad9a63',
    eventID: '179c26f8-1ee2-4672-8a12-945351492192',
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${MAIN}:role/orders-api-role` }],
    sharedEventID: 'a346273b-daf1-47d0-b7db-32421e422a1d',
  }),
  ordersSecretGet('2025-03-14T08:55:16Z', 'dd4b084a-f825-4e01-b0b9-f1c518a123de', '520f8009-cc8f-4867-a176-834d634225e6'),
  ordersSecretDecrypt('2025-03-14T08:55:16Z', '0888cfa8-87dd-4d62-ae5e-d12efbe0b34b', '48fbf796-5297-4c0e-b0f2-fbe36537471b'),
  record({
    who: ordersFn,
    at: '2025-03-14T08:55:17Z',
    source: 'logs.amazonaws.com',
    name: 'CreateLogStream',
    ip: '198.51.100.23',
    ua: 'awslambda-worker/1.0 rusoto/0.48.0 rust/1.75.0 linux',
    req: { logGroupName: '/aws/lambda/orders-api', logStreamName: '2025/03/14/[$LATEST]9c3e7a1f5b2d4e8a0c6f1b3d5e7a9c2e' },
    requestID: '98e668a9-5492-4896-b29d-b6fd2f6ba9ae',
    eventID: 'f791e6b9-1cdb-4401-8c25-df9b98b36596',
    readOnly: false,
    host: 'logs.us-east-1.amazonaws.com',
  }),
  record({
    who: ordersFn,
    at: '2025-03-14T08:55:18Z',
    source: 'ssm.amazonaws.com',
    name: 'GetParameter',
    ip: '198.51.100.23',
    ua: sdk('ssm'),
    req: { name: '/orders-api/feature-flags', withDecryption: false },
    requestID: '14e5bb93-0124-4887-afb2-674f899ee3bf',
    eventID: '041308d9-1aa6-463a-8ea3-13f4974650e2',
    readOnly: true,
    host: 'ssm.us-east-1.amazonaws.com',
  }),
  record({
    who: bobUser,
    at: '2025-03-14T08:56:20Z',
    source: 'signin.amazonaws.com',
    name: 'ConsoleLogin',
    ip: BOB_IP,
    ua: BROWSER_UA,
    req: null,
    resp: { ConsoleLogin: 'Success' },
    additionalEventData: {
      LoginTo: 'https://console.aws.amazon.com/console/home?region=us-east-1',
      MobileVersion: 'No',
      MFAIdentifier: `arn:aws:iam::${MAIN}:mfa/bob-phone`,
      MFAUsed: 'Yes',
    },
    eventID: 'ae2111e6-ae43-4ee1-b95a-91b58a99c10b',
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    host: 'us-east-1.signin.aws.amazon.com',
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:56:41Z',
    source: 'ec2.amazonaws.com',
    name: 'DescribeInstances',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { instancesSet: {}, filterSet: {} },
    requestID: 'c42cac94-0588-41ff-9f20-42c204810978',
    eventID: '628b3c7b-da6d-4c64-8eff-1a2dd13384b3',
    readOnly: true,
    host: 'ec2.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:56:42Z',
    source: 'ec2.amazonaws.com',
    name: 'DescribeSecurityGroups',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: { items: [{ name: 'vpc-id', valueSet: { items: [{ value: 'vpc-0a1b2c3d4e5f67890' }] } }] } },
    requestID: '2a9de949-9b95-4079-bf87-1280cd96a4f9',
    eventID: 'de7765f9-65c1-4aeb-8502-fe64d50161a3',
    readOnly: true,
    host: 'ec2.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:56:58Z',
    source: 'ec2.amazonaws.com',
    name: 'DescribeVpcs',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { vpcSet: {}, filterSet: {} },
    requestID: '2a4cf013-55b9-45de-958b-37901e6d24d1',
    eventID: '423d96e7-cac2-43ac-b263-7670c811a1ff',
    readOnly: true,
    host: 'ec2.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:57:10Z',
    source: 'elasticloadbalancing.amazonaws.com',
    name: 'DescribeLoadBalancers',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { pageSize: 400 },
    requestID: '652d3764-5d88-4d2d-9042-c86ef2e9bdd0',
    eventID: 'e90d30a2-6694-4200-bd8f-ad76f3d41df2',
    readOnly: true,
    apiVersion: '2015-12-01',
    host: 'elasticloadbalancing.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:57:33Z',
    source: 'acm.amazonaws.com',
    name: 'ListCertificates',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { includes: { keyTypes: ['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1'] } },
    requestID: '79544e3c-4785-4656-bb6d-b2dedc00fe4a',
    eventID: '551f3e67-d32f-41a6-8099-ab834d9f1342',
    readOnly: true,
    host: 'acm.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:57:35Z',
    source: 'acm.amazonaws.com',
    name: 'DescribeCertificate',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { certificateArn: EXPORTED_CERT },
    requestID: '70376b0d-7ceb-4460-8d9d-d91e4cd6b70d',
    eventID: '3b1ea42f-a8d5-4bc2-8842-3b2f51e0b4e6',
    readOnly: true,
    host: 'acm.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:57:50Z',
    source: 'iam.amazonaws.com',
    name: 'ListRoles',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { maxItems: 1000 },
    requestID: '9adf513e-b441-409b-89d0-8b9a049494e4',
    eventID: '4eb7bedb-c631-4516-86e3-21ff167ad628',
    readOnly: true,
    host: 'iam.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:57:52Z',
    source: 'iam.amazonaws.com',
    name: 'GetRole',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { roleName: 'SecurityBreakGlass' },
    requestID: 'f6f79cf8-8713-4fe6-bf40-6fd2234e88ec',
    eventID: 'eb12f996-2821-43c3-a3ee-651f119bf318',
    readOnly: true,
    host: 'iam.amazonaws.com',
    console: true,
  }),
  record({
    who: configRecorder,
    at: '2025-03-14T08:58:05Z',
    source: 's3.amazonaws.com',
    name: 'GetBucketAcl',
    ip: 'config.amazonaws.com',
    ua: 'config.amazonaws.com',
    req: { bucketName: 'platform-runbooks-111122223333', Host: 'platform-runbooks-111122223333.s3.us-east-1.amazonaws.com', acl: '' },
    additionalEventData: {
      SignatureVersion: 'SigV4',
      CipherSuite: 'TLS_AES_128_GCM_SHA256',
      bytesTransferredIn: 0,
      AuthenticationMethod: 'AuthHeader',
      'x-amz-id-2': 'Qf7bW1cK9yZp3Ld8Rt2Xv6Nh0Sj4Mg5Ea1Tb7Uc3Vd9We2Xf8Yg4Zh6Ai0Bj5Ck1Dl7Em3Fn9Go',
      bytesTransferredOut: 512,
    },
    requestID: 'B7F2C41D9E0A8536',
    eventID: 'e2cab5d7-5706-4da0-91a4-23427873ea32',
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::platform-runbooks-111122223333' }],
  }),
  record({
    who: configRecorder,
    at: '2025-03-14T08:58:06Z',
    source: 'cloudtrail.amazonaws.com',
    name: 'DescribeTrails',
    ip: 'config.amazonaws.com',
    ua: 'config.amazonaws.com',
    req: { includeShadowTrails: false },
    requestID: 'fdb757d1-e949-4919-8a5b-37bf55dc926a',
    eventID: 'f1dabdd3-feb2-452e-a8d3-2907b1d4a751',
    readOnly: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:58:30Z',
    source: 'lambda.amazonaws.com',
    name: 'ListFunctions20150331',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { functionVersion: 'ALL' },
    requestID: '76b25181-1af3-48a2-9333-7b532d795746',
    eventID: '9d3e3be1-0b23-41c0-8ca3-0e1d3786ee9d',
    readOnly: true,
    host: 'lambda.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T08:58:31Z',
    source: 'lambda.amazonaws.com',
    name: 'GetFunction20150331v2',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { functionName: 'orders-api' },
    requestID: 'bf1454bc-437b-458d-95f5-5a182662c0f2',
    eventID: 'ab16669f-1f1b-49dd-a6ee-de5546ac7947',
    readOnly: true,
    host: 'lambda.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceUser,
    at: '2025-03-14T08:59:02Z',
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    ip: ALICE_IP,
    ua: cli('sts.assume-role'),
    req: {
      roleArn: `arn:aws:iam::${MAIN}:role/SecurityBreakGlass`,
      roleSessionName: 'alice',
      durationSeconds: 3600,
      serialNumber: `arn:aws:iam::${MAIN}:mfa/alice-key`,
    },
    resp: {
      credentials: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', expiration: 'Mar 14, 2025, 9:59:02 AM' },
      assumedRoleUser: { assumedRoleId: 'AROACKCEVSQ6C2EXAMPLE:alice', arn: `arn:aws:sts::${MAIN}:assumed-role/SecurityBreakGlass/alice` },
    },
    requestID: 'ca4795c7-ab2b-4c27-ab4c-2bf69a029ae0',
    eventID: '3da45d91-3b9d-46b5-8346-37bcc1fbc8f9',
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${MAIN}:role/SecurityBreakGlass` }],
    host: 'sts.us-east-1.amazonaws.com',
  }),
  record({
    who: breakGlass,
    at: '2025-03-14T08:59:20Z',
    source: 'sts.amazonaws.com',
    name: 'GetCallerIdentity',
    ip: ALICE_IP,
    ua: cli('sts.get-caller-identity'),
    req: null,
    requestID: 'e9cc35f0-3a71-4db6-b804-ff20c106df85',
    eventID: 'f3feacef-4ffc-46cc-adaf-50dd84b26e5b',
    readOnly: true,
    host: 'sts.us-east-1.amazonaws.com',
  }),
  // Alerts (critical): the private key leaves ACM. Older log style: the passphrase as a ByteBuffer dump.
  record({
    version: '1.08',
    who: breakGlass,
    at: '2025-03-14T09:00:05Z',
    source: 'acm.amazonaws.com',
    name: 'ExportCertificate',
    ip: ALICE_IP,
    ua: cli('acm.export-certificate'),
    req: { passphrase: passphraseDump, certificateArn: EXPORTED_CERT },
    resp: { certificateChain: FAKE_CERT + FAKE_CERT, privateKey: '**********', certificate: FAKE_CERT },
    requestID: 'f4f7fac6-ca0e-44e0-85b5-a7e8afe01299',
    eventID: '3a0afbdb-1097-4562-b4b9-b70ee6762d0d',
    readOnly: false,
    host: 'acm.us-east-1.amazonaws.com',
  }),
  // Alerts (high).
  record({
    who: breakGlass,
    at: '2025-03-14T09:00:41Z',
    source: 'acm.amazonaws.com',
    name: 'DeleteCertificate',
    ip: ALICE_IP,
    ua: cli('acm.delete-certificate'),
    req: { certificateArn: DELETED_CERT },
    requestID: 'cfcb1ceb-f157-4373-a769-d2925fdf1eaa',
    eventID: '5884f558-e99c-40db-8186-e4ec7a1defca',
    readOnly: false,
    host: 'acm.us-east-1.amazonaws.com',
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T09:01:02Z',
    source: 'kms.amazonaws.com',
    name: 'ListAliases',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { limit: 100 },
    requestID: '4eefec82-db46-406f-b8b9-e914ccd1b4a2',
    eventID: '67ec435f-d096-45f8-91e2-cfbd216799b6',
    readOnly: true,
    host: 'kms.us-east-1.amazonaws.com',
    console: true,
  }),
  // Must not alert: an S3 data event whose key merely mentions ACM and ExportCertificate.
  record({
    version: '1.10',
    who: aliceSso,
    at: '2025-03-14T09:01:15Z',
    source: 's3.amazonaws.com',
    name: 'PutObject',
    ip: ALICE_IP,
    ua: '[aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.cp]',
    req: {
      bucketName: 'platform-runbooks-111122223333',
      Host: 'platform-runbooks-111122223333.s3.us-east-1.amazonaws.com',
      key: 'runbooks/acm.amazonaws.com/ExportCertificate-break-glass.md',
    },
    resp: { 'x-amz-server-side-encryption': 'AES256' },
    additionalEventData: {
      SignatureVersion: 'SigV4',
      CipherSuite: 'TLS_AES_128_GCM_SHA256',
      bytesTransferredIn: 2318,
      SSEApplied: 'Default_SSE_S3',
      AuthenticationMethod: 'AuthHeader',
      'x-amz-id-2': 'Lm3Np8Qr2St7Uv1Wx6Yz0Ab5Cd9Ef4Gh8Ij3Kl7Mn2Op6Qr1St5Uv0Wx4Yz9Ab3Cd8Ef2Gh7Ij1K',
      bytesTransferredOut: 0,
    },
    requestID: '5C8D1E4F7A2B9C03',
    eventID: 'b7f35c5e-9641-4a08-9fa1-ddf297e815bf',
    readOnly: false,
    resources: [
      { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::platform-runbooks-111122223333/runbooks/acm.amazonaws.com/ExportCertificate-break-glass.md' },
      { accountId: MAIN, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::platform-runbooks-111122223333' },
    ],
    category: 'Data',
    host: 'platform-runbooks-111122223333.s3.us-east-1.amazonaws.com',
  }),
  // Must not alert: IoT's DeleteCertificate shares the name, not the event source.
  record({
    who: iotFleetRole,
    at: '2025-03-14T09:01:40Z',
    source: 'iot.amazonaws.com',
    name: 'DeleteCertificate',
    ip: '198.51.100.61',
    ua: 'Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69',
    req: { certificateId: '7c1f4e9a2b6d8035e1c7a94f2d6b8e03a5c9f1e7b2d4a6c8e0f3b5d7a9c1e3f5', forceDelete: false },
    requestID: 'fd5ef779-94a8-426c-88d8-638bce39066e',
    eventID: '5b248b88-e845-4a41-b98c-44265a587c8e',
    readOnly: false,
    host: 'iot.us-east-1.amazonaws.com',
  }),
  // Must not alert: a search for export events mentions ExportCertificate in its parameters.
  record({
    who: aliceSso,
    at: '2025-03-14T09:02:03Z',
    source: 'cloudtrail.amazonaws.com',
    name: 'LookupEvents',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { lookupAttributes: [{ attributeKey: 'EventName', attributeValue: 'ExportCertificate' }], maxResults: 50 },
    requestID: '83853392-fbe0-44bf-83c0-28ad1276386e',
    eventID: 'c4daf5a5-9104-4bcb-b3d9-382e408afedc',
    readOnly: true,
    host: 'cloudtrail.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: ordersFn,
    at: '2025-03-14T09:02:30Z',
    source: 'dynamodb.amazonaws.com',
    name: 'DescribeTable',
    ip: '198.51.100.23',
    ua: sdk('dynamodb'),
    req: { tableName: 'orders' },
    requestID: 'Q2HV8M0L5R9K3T7B1N4P6S8D0F2G4J6L8C0X2Z4V6B8N0M2AAJG',
    eventID: 'e722d6af-8d3a-4082-8b84-cc7f9cbe1f73',
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::DynamoDB::Table', ARN: `arn:aws:dynamodb:us-east-1:${MAIN}:table/orders` }],
    host: 'dynamodb.us-east-1.amazonaws.com',
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T09:02:31Z',
    source: 'monitoring.amazonaws.com',
    name: 'DescribeAlarms',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { maxRecords: 100, alarmTypes: ['CompositeAlarm', 'MetricAlarm'] },
    requestID: 'd488dd6d-9da9-401b-a4dd-b6da63e45114',
    eventID: '0faf8165-b267-49ee-8df4-72e1826647e3',
    readOnly: true,
    host: 'monitoring.us-east-1.amazonaws.com',
    console: true,
  }),
  ordersSecretGet('2025-03-14T09:03:00Z', 'b0af15e2-d579-4cec-8977-88ba7cfcd762', 'f404e1cc-a118-4af3-8d20-11542a10d761'),
  ordersSecretDecrypt('2025-03-14T09:03:00Z', '21864d20-5f86-4609-9037-0fe1988c7f6f', '97ef3a74-0952-430e-8c1e-e3aa8d32508a'),
  record({
    who: aliceSso,
    at: '2025-03-14T09:03:20Z',
    source: 'ecr.amazonaws.com',
    name: 'GetAuthorizationToken',
    ip: ALICE_IP,
    ua: cli('ecr.get-login-password'),
    req: null,
    requestID: 'eee9a8fb-dad7-4e23-b401-f6d1c06c3e62',
    eventID: 'e3498652-2fe6-487a-8142-ae74a4f4a31f',
    readOnly: true,
    host: 'api.ecr.us-east-1.amazonaws.com',
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T09:03:45Z',
    source: 'cloudformation.amazonaws.com',
    name: 'DescribeStacks',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { stackName: `arn:aws:cloudformation:us-east-1:${MAIN}:stack/AcmSentinel/4b7e2c90-e1d3-11ef-9a5c-0e8f6d2b4a17` },
    requestID: 'c7b3d502-fd2f-42d0-a96d-7e9125a11bcd',
    eventID: 'd7734799-5272-47ec-a270-f75bec1e30dc',
    readOnly: true,
    host: 'cloudformation.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T09:04:10Z',
    source: 'route53.amazonaws.com',
    name: 'ListHostedZones',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: null,
    requestID: '2a5e6f71-5edb-4a06-86a3-78bc51a26f40',
    eventID: 'd8d35cba-5443-4756-97d3-7bcb4bdc7029',
    readOnly: true,
    apiVersion: '2013-04-01',
    host: 'route53.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T09:04:33Z',
    source: 'health.amazonaws.com',
    name: 'DescribeEventAggregates',
    ip: ALICE_IP,
    ua: CONSOLE_UA,
    req: { aggregateField: 'eventTypeCategory', filter: { eventStatusCodes: ['open', 'upcoming'] } },
    requestID: '109688dc-3083-4766-aeee-4d319f2d06eb',
    eventID: '7fe03bcc-05e9-4cef-be1d-ea976241da1c',
    readOnly: true,
    host: 'health.us-east-1.amazonaws.com',
    console: true,
  }),
  record({
    who: aliceSso,
    at: '2025-03-14T09:04:50Z',
    source: 's3.amazonaws.com',
    name: 'ListBuckets',
    ip: ALICE_IP,
    ua: '[aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.ls]',
    req: { Host: 's3.us-east-1.amazonaws.com' },
    additionalEventData: {
      SignatureVersion: 'SigV4',
      CipherSuite: 'TLS_AES_128_GCM_SHA256',
      bytesTransferredIn: 0,
      AuthenticationMethod: 'AuthHeader',
      'x-amz-id-2': 'Rb4Tc8Ud2Ve6Wf0Xg3Yh7Zi1Aj5Bk9Cl2Dm6En0Fo4Gp8Hq1Ir5Js9Kt3Lu7Mv0Nw4Ox8Py2Qz6R',
      bytesTransferredOut: 1874,
    },
    requestID: '2E9A6C3F1B8D4075',
    eventID: '40c9077b-851e-4155-950e-ab472aa11ed1',
    readOnly: true,
    host: 's3.us-east-1.amazonaws.com',
  }),
];

// ---------------------------------------------------------------------------------------------
// (b) A CI job tries to export a certificate and is denied
// ---------------------------------------------------------------------------------------------

const DENIED_CERT = cert(MAIN, 'us-east-1', '2e6d0b9f-4a13-47c8-8f5e-c1a0d7b3e962');

const fileB: Json[] = [
  record({
    version: '1.08',
    who: {
      type: 'WebIdentityUser',
      principalId: 'oidc.ci.example.com:sts.amazonaws.com:project/shop:ref/main',
      userName: 'project/shop:ref/main',
      identityProvider: `arn:aws:iam::${MAIN}:oidc-provider/oidc.ci.example.com`,
    },
    at: '2025-03-14T09:11:52Z',
    source: 'sts.amazonaws.com',
    name: 'AssumeRoleWithWebIdentity',
    ip: CI_IP,
    ua: ciSdk('sts'),
    req: { roleArn: `arn:aws:iam::${MAIN}:role/ci-deployer`, roleSessionName: 'build-42', durationSeconds: 3600 },
    resp: {
      credentials: { accessKeyId: 'ASIAQNZGKIQY7EXAMPLE', expiration: 'Mar 14, 2025, 10:11:52 AM' },
      subjectFromWebIdentityToken: 'project/shop:ref/main',
      assumedRoleUser: { assumedRoleId: 'AROA3EXAMPLECIDEPLOY7:build-42', arn: `arn:aws:sts::${MAIN}:assumed-role/ci-deployer/build-42` },
      provider: `arn:aws:iam::${MAIN}:oidc-provider/oidc.ci.example.com`,
      audience: 'sts.amazonaws.com',
    },
    additionalEventData: { identityProviderConnectionVerificationMethod: 'IAMTrustStore' },
    requestID: 'd1059f87-8ad5-4dff-9abd-99dbd833b49a',
    eventID: 'ef09e0fc-36c4-465c-aee7-bb3da51827b6',
    readOnly: true,
    resources: [{ accountId: MAIN, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${MAIN}:role/ci-deployer` }],
    host: 'sts.amazonaws.com',
  }),
  record({
    who: ciDeployer,
    at: '2025-03-14T09:12:03Z',
    source: 'sts.amazonaws.com',
    name: 'GetCallerIdentity',
    ip: CI_IP,
    ua: ciSdk('sts'),
    req: null,
    requestID: '07dc4e0a-4575-48aa-b5ed-f993e73e7c00',
    eventID: '6a93d34e-7e10-4b65-bc89-d8828ae5b524',
    readOnly: true,
    host: 'sts.us-east-1.amazonaws.com',
  }),
  record({
    who: ciDeployer,
    at: '2025-03-14T09:12:10Z',
    source: 'acm.amazonaws.com',
    name: 'ListCertificates',
    ip: CI_IP,
    ua: ciSdk('acm'),
    req: { certificateStatuses: ['ISSUED'], maxItems: 100 },
    requestID: '286a996c-c966-4a54-a96e-c28437d3f9c9',
    eventID: '96554df9-adb7-4ea6-8eb2-4b35d4c28ed9',
    readOnly: true,
    host: 'acm.us-east-1.amazonaws.com',
  }),
  // Alerts (critical, failed): the attempt matters even though IAM denied it.
  record({
    who: ciDeployer,
    at: '2025-03-14T09:12:17Z',
    source: 'acm.amazonaws.com',
    name: 'ExportCertificate',
    ip: CI_IP,
    ua: ciSdk('acm'),
    error: {
      code: 'AccessDenied',
      message: `User: arn:aws:sts::${MAIN}:assumed-role/ci-deployer/build-42 is not authorized to perform: acm:ExportCertificate on resource: ${DENIED_CERT} because no identity-based policy allows the acm:ExportCertificate action`,
    },
    req: { certificateArn: DENIED_CERT, passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    resp: null,
    requestID: 'e827bfac-7eb7-48fb-8a21-33fb75ba693a',
    eventID: '69accfbf-7eb9-495d-81c1-4478c4ef2c51',
    readOnly: false,
    host: 'acm.us-east-1.amazonaws.com',
  }),
  record({
    who: ciDeployer,
    at: '2025-03-14T09:12:40Z',
    source: 'cloudformation.amazonaws.com',
    name: 'DescribeStacks',
    ip: CI_IP,
    ua: ciSdk('cloudformation'),
    req: { stackName: 'shop-web' },
    requestID: '4e6ca0d8-0d26-42fc-ba60-22d4a05ccbfc',
    eventID: '25fe282f-3914-4a6c-bee7-05cfe22cb67c',
    readOnly: true,
    host: 'cloudformation.us-east-1.amazonaws.com',
  }),
  record({
    who: ciDeployer,
    at: '2025-03-14T09:13:02Z',
    source: 'lambda.amazonaws.com',
    name: 'UpdateFunctionCode20150331v2',
    ip: CI_IP,
    ua: ciSdk('lambda'),
    req: { functionName: 'shop-web-render', s3Bucket: 'shop-build-artifacts-111122223333', s3Key: 'shop-web/build-42/render.zip', publish: true, dryRun: false },
    resp: {
      functionName: 'shop-web-render',
      functionArn: `arn:aws:lambda:us-east-1:${MAIN}:function:shop-web-render:17`,
      runtime: 'nodejs20.x',
      role: `arn:aws:iam::${MAIN}:role/shop-web-render-role`,
      handler: 'index.handler',
      codeSize: 1843211,
      timeout: 10,
      memorySize: 512,
      lastModified: '2025-03-14T09:13:02.418+0000',
      version: '17',
      state: 'Active',
      lastUpdateStatus: 'InProgress',
      lastUpdateStatusReason: 'The function is being created.',
      lastUpdateStatusReasonCode: 'Creating',
      architectures: ['arm64'],
    },
    requestID: '901efc89-5568-42d5-bc74-652ff2cb9ced',
    eventID: '48c8710c-f535-42cf-b929-28559742c547',
    readOnly: false,
    host: 'lambda.us-east-1.amazonaws.com',
  }),
  trailDataKey('2025-03-14T09:13:30Z', 'b4f29104-1f60-4e7f-8cc7-d522da052afa', '6840f838-4981-45e3-a87c-3d3d92f1ab86', '4c37e1cf-3fcd-432b-a0c8-dcbb25fb4144', KEY_B),
];

// ---------------------------------------------------------------------------------------------
// (c) Organization trail, member account 444455556666 / eu-west-1
// ---------------------------------------------------------------------------------------------

const ORG_CA = `arn:aws:acm-pca:eu-west-1:${MEMBER}:certificate-authority/8d4b1f6e-2c07-4a93-b5e8-0f3d9a7c1e26`;

const fileC: Json[] = [
  record({
    who: pkiAdmin,
    at: '2025-03-14T10:14:03Z',
    source: 'sts.amazonaws.com',
    name: 'GetCallerIdentity',
    region: 'eu-west-1',
    ip: PKI_IP,
    ua: cli('sts.get-caller-identity'),
    req: null,
    requestID: '6e9e7daf-a01d-421b-b49c-819fb8569f6c',
    eventID: '3d295d14-928d-4878-8b28-d39da49af264',
    readOnly: true,
    account: MEMBER,
    host: 'sts.eu-west-1.amazonaws.com',
  }),
  // Alerts (high): newer log style, key and certificates hidden by CloudTrail.
  record({
    who: pkiAdmin,
    at: '2025-03-14T10:14:40Z',
    source: 'acm.amazonaws.com',
    name: 'ImportCertificate',
    region: 'eu-west-1',
    ip: PKI_IP,
    ua: cli('acm.import-certificate'),
    req: {
      certificate: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      privateKey: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      certificateChain: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      tags: [
        { key: 'owner', value: 'payments' },
        { key: 'environment', value: 'production' },
      ],
    },
    resp: { certificateArn: cert(MEMBER, 'eu-west-1', 'f07a3c8d-6b21-4e95-9d4c-3a8e1b7f0c52') },
    requestID: 'a4a481c2-5f48-4093-90a1-3e2d9fff74e7',
    eventID: 'b1a2a1f0-b3c9-40dd-b861-8971f62e886e',
    readOnly: false,
    account: MEMBER,
    host: 'acm.eu-west-1.amazonaws.com',
  }),
  // Alerts (critical).
  record({
    who: pkiAdmin,
    at: '2025-03-14T10:15:22Z',
    source: 'acm-pca.amazonaws.com',
    name: 'DeleteCertificateAuthority',
    region: 'eu-west-1',
    ip: PKI_IP,
    ua: cli('acm-pca.delete-certificate-authority'),
    req: { certificateAuthorityArn: ORG_CA, permanentDeletionTimeInDays: 30 },
    requestID: '6091de30-a9d6-403e-8055-e72c5a54f887',
    eventID: '1ecad549-881c-42d0-a337-4b1134a81594',
    readOnly: false,
    account: MEMBER,
    host: 'acm-pca.eu-west-1.amazonaws.com',
  }),
  record({
    who: pkiAdmin,
    at: '2025-03-14T10:16:05Z',
    source: 'ec2.amazonaws.com',
    name: 'DescribeRegions',
    region: 'eu-west-1',
    ip: PKI_IP,
    ua: cli('ec2.describe-regions'),
    req: { regionSet: {}, allRegions: false },
    requestID: '110712ed-5fa6-45f5-8a93-cc94e1262199',
    eventID: 'b543c0b1-a930-4f92-aa25-eab9b9f861b7',
    readOnly: true,
    account: MEMBER,
    host: 'ec2.eu-west-1.amazonaws.com',
  }),
  record({
    who: pkiAdmin,
    at: '2025-03-14T10:16:31Z',
    source: 'logs.amazonaws.com',
    name: 'DescribeLogGroups',
    region: 'eu-west-1',
    ip: PKI_IP,
    ua: cli('logs.describe-log-groups'),
    req: { logGroupNamePrefix: '/aws/acm-pca' },
    requestID: '783f96e2-c381-47ba-90e6-de7ff2fa81d4',
    eventID: 'b54cfec2-bc9a-4504-8c66-d8039eb30a77',
    readOnly: true,
    account: MEMBER,
    host: 'logs.eu-west-1.amazonaws.com',
  }),
];

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/** One CloudTrail log file as CloudTrail writes it: compact JSON, one `Records` array. */
const logDocument = (records: Json[]): Buffer => Buffer.from(JSON.stringify({ Records: records }), 'utf8');

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * Gzip without a timestamp (Node writes mtime 0) and with the header's OS byte fixed to Unix,
 * which zlib otherwise sets from the platform it was built for.
 */
function gzip(data: Buffer): Buffer {
  const out = gzipSync(data, { level: 9 });
  out[9] = 3;
  return out;
}

function eventTimes(records: Json[]): { oldest: string; newest: string } {
  const times = records.map((r) => String(r.eventTime)).sort();
  return { oldest: times[0] ?? '', newest: times[times.length - 1] ?? '' };
}

/** A CloudTrail digest file covering the log files of (a) and (b); acm-sentinel must skip it. */
function digestDocument(logFiles: Array<{ key: string; body: Buffer; records: Json[] }>): Buffer {
  const all = logFiles.flatMap((f) => f.records);
  const span = eventTimes(all);
  // Not a real signature: hex made from fixed text, the length of an RSA-2048 signature.
  const signature = Array.from({ length: 8 }, (_, i) => sha256(`acm-sentinel sample digest signature ${i}`)).join('');
  const doc = {
    awsAccountId: MAIN,
    digestStartTime: '2025-03-14T09:00:37Z',
    digestEndTime: '2025-03-14T10:00:37Z',
    digestS3Bucket: BUCKET,
    digestS3Object: KEY_D,
    digestPublicKeyFingerprint: sha256('acm-sentinel sample public key').slice(0, 32),
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: span.newest,
    oldestEventTime: span.oldest,
    previousDigestS3Bucket: BUCKET,
    previousDigestS3Object: `${DIGEST_PREFIX}20250314T090037Z.json.gz`,
    previousDigestHashValue: sha256('acm-sentinel sample previous digest'),
    previousDigestHashAlgorithm: 'SHA-256',
    previousDigestSignature: signature,
    logFiles: logFiles.map((f) => {
      const times = eventTimes(f.records);
      return {
        s3Bucket: BUCKET,
        s3Object: f.key,
        hashValue: sha256(f.body),
        hashAlgorithm: 'SHA-256',
        newestEventTime: times.newest,
        oldestEventTime: times.oldest,
      };
    }),
  };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** The key as S3 writes it into event notifications: URL-encoded, `+` for spaces, `/` kept. */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
    .join('/');
}

interface Delivery {
  key: string;
  body: Buffer;
  eventTime: string;
  requestId: string;
  id2: string;
  sequencer: string;
}

function s3EventRecord(d: Delivery): Json {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: BUCKET_REGION,
    eventTime: d.eventTime,
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AROA6EXAMPLECTDELIVRY:regionalDeliverySession' },
    requestParameters: { sourceIPAddress: '192.0.2.200' },
    responseElements: { 'x-amz-request-id': d.requestId, 'x-amz-id-2': d.id2 },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'acm-sentinel-log-delivery',
      bucket: { name: BUCKET, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${BUCKET}` },
      object: {
        key: encodeS3EventKey(d.key),
        size: d.body.length,
        eTag: createHash('md5').update(d.body).digest('hex'),
        sequencer: d.sequencer,
      },
    },
  };
}

const pretty = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

/**
 * Every file the generator writes, by path relative to the `events/` folder. Pure: nothing is
 * written, so a test can compare it with what is committed.
 */
export function buildSampleFiles(): Map<string, Buffer> {
  const plainA = logDocument(fileA);
  const plainB = logDocument(fileB);
  const plainC = logDocument(fileC);
  const plainD = digestDocument([
    { key: KEY_A, body: plainA, records: fileA },
    { key: KEY_B, body: plainB, records: fileB },
  ]);

  const deliveries: Delivery[] = [
    { key: KEY_A, body: gzip(plainA), eventTime: '2025-03-14T09:05:21.512Z', requestId: 'C3D13FE58DE4C810', id2: 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD', sequencer: '0067D3F1B5E2A4C9D1' },
    { key: KEY_B, body: gzip(plainB), eventTime: '2025-03-14T09:15:09.087Z', requestId: '8A61E2C07B9F4D35', id2: 'uT5w0RHq2MpL7sVxK3cYbN9eJ4aZ6fG1iO8kD2nQ7rS5tU0vW3xY6zA9bC2dE5fH', sequencer: '0067D3F40D91B7E6A2' },
    { key: KEY_C, body: gzip(plainC), eventTime: '2025-03-14T10:20:44.930Z', requestId: 'F27B9D14C6E3A805', id2: 'pQ3rS6tU9vW2xY5zA8bC1dE4fG7hI0jK3lM6nO9pQ2rS5tU8vW1xY4zA7bC0dE3f', sequencer: '0067D402ECF1D3A2B8' },
    { key: KEY_D, body: gzip(plainD), eventTime: '2025-03-14T10:00:52.276Z', requestId: '4E0C8B26D1A97F53', id2: 'kL8mN1oP4qR7sT0uV3wX6yZ9aB2cD5eF8gH1iJ4kL7mN0oP3qR6sT9uV2wX5yZ8a', sequencer: '0067D3FEBC1A5E7D40' },
  ];

  const files = new Map<string, Buffer>();
  for (const d of deliveries) files.set(`objects/${BUCKET}/${d.key}`, d.body);
  const [a, b, c, digest] = deliveries as [Delivery, Delivery, Delivery, Delivery];
  files.set('s3-put.json', pretty({ Records: [a, b, c, digest].map(s3EventRecord) }));
  files.set('s3-put-single.json', pretty({ Records: [s3EventRecord(a)] }));
  files.set(
    's3-test-event.json',
    pretty({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2025-03-14T08:40:03.615Z',
      Bucket: BUCKET,
      RequestId: '5582815E1AEA5ADF',
      HostId: '8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE',
    }),
  );
  const hostile: Delivery[] = HOSTILE_LOGS.map(({ name, records }, i) => {
    const key = hostileKey(name, i);
    const tag = createHash('sha256').update(key).digest('hex').toUpperCase();
    return { key, body: gzip(logDocument(records)), eventTime: `2025-03-15T09:${String(i).padStart(2, '0')}:30.000Z`, requestId: tag.slice(0, 16), id2: tag.slice(16, 64), sequencer: `0067D5${tag.slice(0, 12)}` };
  });
  for (const d of hostile) files.set(`objects/${BUCKET}/${d.key}`, d.body);
  files.set('s3-put-hostile.json', pretty({ Records: hostile.map(s3EventRecord) }));
  return files;
}

if (require.main === module) {
  const eventsDir = join(__dirname, '..');
  for (const [path, body] of buildSampleFiles()) {
    const target = join(eventsDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, body);
    console.log(`wrote events/${path} (${body.length} bytes)`);
  }
}
