/**
 * The real handler against the local emulator, for one test file: starts the emulator (and a
 * local dedupe table when asked), points the SDK's standard endpoint settings at it as Lambda's
 * environment would, and afterwards stops it and puts the environment back. With `drain`, each
 * test starts from an empty delivery queue.
 */
import { receiveDelivered, startSandbox, type LocalSandbox } from '../lambda/local/sandbox';
import { s3Handler, type S3Handler } from './support';

export interface HandlerSandboxOptions {
  /** A local DynamoDB dedupe table beside the emulator. @default false */
  readonly dedupe?: boolean;
  /** More of the function's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Read away what earlier tests delivered, before each test. @default true */
  readonly drain?: boolean;
}

/** Registers the hooks; `started` receives the emulator and the handler once they are up. */
export function handlerSandbox(options: HandlerSandboxOptions, started: (ready: { sandbox: LocalSandbox; handler: S3Handler }) => void): void {
  const savedEnv = { ...process.env };
  let sandbox: LocalSandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox({ dedupe: options.dedupe === true });
    Object.assign(process.env, sandbox.handlerEnv, { POWERTOOLS_LOG_LEVEL: 'SILENT' }, options.env);
    started({ sandbox, handler: s3Handler() });
  });
  afterAll(async () => {
    process.env = savedEnv;
    await sandbox?.stop();
  });
  if (options.drain !== false) {
    beforeEach(async () => {
      await receiveDelivered(sandbox!);
    });
  }
}
