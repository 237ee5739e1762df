import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';

/**
 * Credentials from assuming the log account's read role, renewed by the SDK before they expire.
 * A module of its own, which the handler requires only for a bucket in another account; its
 * static import also lets the bundle keep this one provider instead of the whole package.
 */
export function logReaderCredentials(roleArn: string): ReturnType<typeof fromTemporaryCredentials> {
  return fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: 'acm-sentinel', DurationSeconds: 3600 } });
}
