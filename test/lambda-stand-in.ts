/**
 * A local stand-in for Lambda's Invoke API, enough for `acm-sentinel redrive`: it answers
 * `POST /2015-03-31/functions/{name}/invocations` on 127.0.0.1 (an OS-chosen port) the way
 * Lambda does, records what it received, and can answer some calls with an error. The CLI
 * reaches it only through the SDK's standard `AWS_ENDPOINT_URL_LAMBDA`.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in received it. */
export interface ReceivedInvoke {
  /** The FunctionName path segment, URL-decoded: a name, or an ARN with its qualifier. */
  readonly functionName: string;
  readonly invocationType: string | undefined;
  readonly payload: unknown;
  /** Whatever the `onInvoke` hook chose to record at that moment (e.g. the queue's depth). */
  readonly observed?: unknown;
  readonly status: number;
}

/** How to answer one call: accept it (202) or fail it the way Lambda does. */
export type StandInAnswer = 'accept' | { readonly status: number; readonly errorType: string; readonly message: string };

export const notFound = (functionName: string): StandInAnswer => ({ status: 404, errorType: 'ResourceNotFoundException', message: `Function not found: ${functionName}` });
export const throttled: StandInAnswer = { status: 429, errorType: 'TooManyRequestsException', message: 'Rate exceeded' };
export const serviceError: StandInAnswer = { status: 500, errorType: 'ServiceException', message: 'Lambda was unable to handle the request' };

export interface LambdaStandIn {
  readonly endpoint: string;
  readonly received: ReceivedInvoke[];
  /** Chooses each answer (default: accept); `observe` runs before the answer is sent. */
  answer: (call: { functionName: string; payload: unknown }) => StandInAnswer;
  observe: (() => Promise<unknown>) | undefined;
  stop(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLambdaStandIn(): Promise<LambdaStandIn> {
  const standIn: LambdaStandIn = {
    endpoint: '',
    received: [],
    answer: () => 'accept',
    observe: undefined,
    stop: async () => {},
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const match = INVOKE_PATH.exec(url.pathname);
      const body = await readBody(req);
      const fail = (status: number, errorType: string, message: string) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': errorType, 'x-amzn-requestid': 'stand-in' });
        res.end(JSON.stringify({ Type: status >= 500 ? 'Service' : 'User', message }));
      };
      if (req.method !== 'POST' || !match) {
        fail(404, 'UnknownOperationException', `the stand-in only answers Invoke, not ${req.method} ${url.pathname}`);
        return;
      }
      const functionName = decodeURIComponent(match[1]!);
      const invocationType = req.headers['x-amz-invocation-type'] as string | undefined;
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        payload = body;
      }
      const observed = standIn.observe ? await standIn.observe() : undefined;
      const answer: StandInAnswer =
        invocationType === 'Event'
          ? standIn.answer({ functionName, payload })
          : { status: 400, errorType: 'InvalidParameterValueException', message: `the stand-in takes asynchronous invokes only (X-Amz-Invocation-Type: ${invocationType})` };
      // Recorded before the answer leaves, so the caller can never see an answer that is not recorded yet.
      standIn.received.push({ functionName, invocationType, payload, ...(observed !== undefined ? { observed } : {}), status: answer === 'accept' ? 202 : answer.status });
      if (answer === 'accept') {
        res.writeHead(202, { 'x-amzn-requestid': 'stand-in' });
        res.end();
      } else {
        fail(answer.status, answer.errorType, answer.message);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(standIn, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
