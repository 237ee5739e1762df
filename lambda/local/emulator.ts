import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as path from 'node:path';

/** A running local S3/SNS/SQS emulator. */
export interface Emulator {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const SERVER_SCRIPT = path.join(__dirname, 'fauxqs-server.mjs');
const START_TIMEOUT_MS = 20_000;

/**
 * Starts the emulator in a child process on 127.0.0.1 with a free port. The child exits when
 * this process closes its stdin, so it is stopped on every path, including a crash or Ctrl-C.
 */
export async function startEmulator(): Promise<Emulator> {
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local emulator did not start within ${START_TIMEOUT_MS / 1000}s: ${stderr}`)), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`the local emulator printed an unexpected line: ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the local emulator exited with code ${code} before it started: ${stderr}`));
    });
  });
  // Let the parent exit even if a caller forgets stop(); the child then sees stdin close.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.ref(); // keep this process alive until the child has gone
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
