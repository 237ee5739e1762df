import type { Output } from './output';

export interface InvokeOptions {
  readonly event: string;
  readonly objects?: string;
  readonly format?: string;
  readonly config?: string;
}

export async function runInvoke(_options: InvokeOptions, io: Output): Promise<number> {
  io.err('invoke is not available yet');
  return 1;
}

export async function runDemo(_options: Omit<InvokeOptions, 'event' | 'objects'>, io: Output): Promise<number> {
  io.err('demo is not available yet');
  return 1;
}
