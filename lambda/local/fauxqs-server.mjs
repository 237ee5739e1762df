// Child process that runs the S3/SNS/SQS emulator on 127.0.0.1 and an OS-chosen port. It prints
// one JSON line with the port, and exits when its parent closes stdin, so no emulator outlives
// the command that started it, whatever way that command ends.
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
