#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx acm-sentinel` works straight from a clone without a build step.
require('tsx/cjs');
require('../lambda/cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 2; });
