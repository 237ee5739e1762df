import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LogReader } from '../core/ports';
import type { ObjectRef } from '../core/types';

/** Streams log objects from S3 with GetObject; the body is consumed as it arrives, never buffered whole. */
export class S3LogReader implements LogReader {
  constructor(private readonly s3: S3Client) {}

  async open(ref: ObjectRef, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), signal ? { abortSignal: signal } : {});
    const body = response.Body as AsyncIterable<Uint8Array> | undefined;
    if (!body || typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function') {
      throw new Error('GetObject returned no readable body');
    }
    return body;
  }
}
