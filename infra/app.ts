/**
 * The CDK app `cdk synth` and `cdk deploy` run (see cdk.json). Settings come from context:
 * cdk.json's "context" or `-c key=value`; the deploy section of the README lists them.
 */
import { ConfigError } from '../lambda/errors';
import { createApp } from './create-app';

try {
  createApp();
} catch (err) {
  // A wrong setting is the user's to fix: say which and how, without a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  console.error(`acm-sentinel: ${err.message}`);
  // Exit now: letting the process wind down would synthesize the half-built app.
  process.exit(1);
}
