import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Logger as LoggerPort } from '../core/ports';

/**
 * A Powertools Logger (structured JSON lines, level from POWERTOOLS_LOG_LEVEL) and the core's
 * logger port over it. The edge keeps `powertools` to add the Lambda context.
 */
export function createPowertoolsLogger(serviceName: string): { powertools: Logger; logger: LoggerPort } {
  const powertools = new Logger({ serviceName });
  const logger: LoggerPort = {
    debug: (message, fields) => powertools.debug(message, (fields ?? {}) as LogAttributes),
    info: (message, fields) => powertools.info(message, (fields ?? {}) as LogAttributes),
    warn: (message, fields) => powertools.warn(message, (fields ?? {}) as LogAttributes),
    error: (message, fields) => powertools.error(message, (fields ?? {}) as LogAttributes),
  };
  return { powertools, logger };
}
