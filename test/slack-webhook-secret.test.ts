/**
 * The webhook URL from Secrets Manager: what a secret may hold, what each read failure tells the
 * operator, caching per container, and that the URL itself never appears in an error.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { inspect } from 'node:util';
import { parseWebhookSecret, SecretsManagerWebhookSource } from '../lambda/adapters/webhook-secret';
import { SlackConfigurationError, SlackDeliveryError } from '../lambda/errors';

const secretsMock = mockClient(SecretsManagerClient);
const SECRET_ID = 'acm-sentinel/slack-webhook';
const TOKEN = 'xq7SECRETwebhookTOKENz9';
const WEBHOOK = `https://hooks.slack.com/services/T00000000/B00000000/${TOKEN}`;
const awsError = (name: string, message: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: fault === 'client' ? 400 : 500 } });

/** The error `action` throws, checked not to carry the token anywhere, causes included. */
function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (err) {
    expect(inspect(err, { depth: 10 })).not.toContain(TOKEN);
    return err as Error;
  }
  throw new Error('expected an error');
}

beforeEach(() => secretsMock.reset());

describe('what the secret may hold', () => {
  it.each([
    ['the bare URL', WEBHOOK],
    ['the URL with a trailing line break', `${WEBHOOK}\n`],
    ['JSON with a url', JSON.stringify({ url: WEBHOOK, channel: '#security' })],
    ['a workflow webhook', `https://hooks.slack.com/triggers/T00000000/1234/${TOKEN}`],
    ['plain http to the loopback address with a port, for local testing', `http://127.0.0.1:8080/services/x/${TOKEN}`],
  ])('accepts %s', (_, value) => {
    const target = parseWebhookSecret(value, SECRET_ID);
    expect(target.url.href).toContain(TOKEN);
    expect(target.label).toBe(`the webhook URL from secret ${SECRET_ID}`);
  });

  it.each([
    ['an empty value', '  ', /is empty/],
    ['broken JSON', `{"url": "${WEBHOOK}"`, /looks like JSON but does not parse/],
    ['JSON without a url', JSON.stringify({ webhook: WEBHOOK }), /without a "url" string/],
    ['something not a URL', `hooks.slack.com/services/${TOKEN}`, /is not a URL/],
    ['plain http to Slack', WEBHOOK.replace('https:', 'http:'), /not a Slack incoming webhook URL/],
    ['another host', `https://hooks.example.com/services/${TOKEN}`, /not a Slack incoming webhook URL/],
    ['a look-alike host', `https://hooks.slack.com.example.net/services/${TOKEN}`, /not a Slack incoming webhook URL/],
    ['a non-default port', `https://hooks.slack.com:8443/services/${TOKEN}`, /not a Slack incoming webhook URL/],
    ['credentials in the URL', `https://user:${TOKEN}@hooks.slack.com/services/x`, /not a Slack incoming webhook URL/],
    ['no path', 'https://hooks.slack.com/', /not a Slack incoming webhook URL/],
    ['loopback without a port', `http://127.0.0.1/services/${TOKEN}`, /not a Slack incoming webhook URL/],
    ['localhost by name', `http://localhost:8080/services/${TOKEN}`, /not a Slack incoming webhook URL/],
  ])('rejects %s, naming the secret and never its value', (_, value, message) => {
    const error = errorOf(() => parseWebhookSecret(value, SECRET_ID));
    expect(error).toBeInstanceOf(SlackConfigurationError);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`the webhook URL from secret ${SECRET_ID}`);
    expect(error.message).toContain('https://hooks.slack.com/services/…');
  });
});

describe('reading the secret', () => {
  it('reads once per container, however many alerts and concurrent calls ask', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const source = new SecretsManagerWebhookSource(new SecretsManagerClient({}), SECRET_ID);
    const targets = await Promise.all([source.get(), source.get()]);
    await source.get();
    expect(targets[0]!.url.href).toBe(WEBHOOK);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ID });
  });

  it('reads again after invalidate, so a replaced webhook is picked up without a cold start', async () => {
    const replaced = WEBHOOK.replace(TOKEN, 'replacement');
    secretsMock.on(GetSecretValueCommand).resolvesOnce({ SecretString: WEBHOOK }).resolves({ SecretString: JSON.stringify({ url: replaced }) });
    const source = new SecretsManagerWebhookSource(new SecretsManagerClient({}), SECRET_ID);
    expect((await source.get()).url.href).toBe(WEBHOOK);
    source.invalidate();
    expect((await source.get()).url.href).toBe(replaced);
  });

  it('does not keep a failed read: the next invocation tries again', async () => {
    secretsMock.on(GetSecretValueCommand).rejectsOnce(awsError('InternalServiceError', 'oops', 'server')).resolves({ SecretString: WEBHOOK });
    const source = new SecretsManagerWebhookSource(new SecretsManagerClient({}), SECRET_ID);
    await expect(source.get()).rejects.toThrow(SlackDeliveryError);
    expect((await source.get()).url.href).toBe(WEBHOOK);
  });

  it('decodes a binary secret', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: new TextEncoder().encode(WEBHOOK) });
    const source = new SecretsManagerWebhookSource(new SecretsManagerClient({}), SECRET_ID);
    expect((await source.get()).url.href).toBe(WEBHOOK);
  });

  it.each([
    ['ResourceNotFoundException', "Secrets Manager can't find the specified secret.", SlackConfigurationError, /does not exist in this account and region/],
    ['AccessDeniedException', 'User is not authorized to perform: secretsmanager:GetSecretValue', SlackConfigurationError, /grant the function secretsmanager:GetSecretValue on the secret, and kms:Decrypt/],
    ['DecryptionFailure', 'Access to KMS is not allowed', SlackConfigurationError, /grant the function kms:Decrypt on the secret's KMS key/],
    ['ThrottlingException', 'Rate exceeded', SlackDeliveryError, /the delivery is retried later/],
  ])('%s fails naming the secret and what to do', async (name, message, type, advice) => {
    secretsMock.on(GetSecretValueCommand).rejects(awsError(name, message, name === 'ThrottlingException' ? 'server' : 'client'));
    const source = new SecretsManagerWebhookSource(new SecretsManagerClient({}), SECRET_ID);
    const error = await source.get().catch((err: Error) => err);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(`could not read secret ${SECRET_ID} holding the Slack webhook URL: ${name}`);
    expect((error as Error).message).toMatch(advice);
  });
});
