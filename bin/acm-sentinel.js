#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx acm-sentinel` works straight from a clone without a build step.
// The local commands run on Node 20 as well as 22+; the AWS SDK's notice about its future Node
// requirement would only clutter their output (the deployed Lambda runs the newest runtime).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `acm-sentinel scan … | head` closes stdout early: stop quietly, as other command-line tools do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
require('tsx/cjs');
require('../lambda/cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => { console.error(`error: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; });
