/** Every error class of acm-sentinel. Messages say what was wrong, where, and what to do; they never carry record contents. */

/** A configuration value (environment variable, CLI option, file or CDK context) is invalid. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** An invocation's event (or one SQS message of it) is not a shape the function handles; the message names the shape it saw. */
export class UnsupportedEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnsupportedEventError';
  }
}

/** A log file could not be read, decompressed or parsed. */
export class LogObjectReadError extends Error {
  /** What went wrong and what to do, without the object's name (the message leads with it). */
  readonly reason: string;

  constructor(message: string, options?: ErrorOptions & { reason?: string }) {
    super(message, options);
    this.name = 'LogObjectReadError';
    this.reason = options?.reason ?? message;
  }
}

/** One or more objects of an invocation failed; names each so the retry and the failure destination say what was lost. */
export class InvocationFailedError extends Error {
  /** What the invocation did before failing, for callers that report it (the local `invoke`). */
  summary?: unknown;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvocationFailedError';
  }
}

/** Slack refused the webhook or its configuration (revoked webhook, archived channel, bad secret): retrying will not help until someone fixes it. */
export class SlackConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SlackConfigurationError';
  }
}

/** A Slack notification could not be delivered after retries (rate limits, Slack errors, network); a later retry may succeed. */
export class SlackDeliveryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SlackDeliveryError';
  }
}

/** Reading a log object reached the invocation's deadline: what was found is published, the retry reads the rest. */
export class ObjectDeadlineError extends Error {
  constructor(reserveMs: number, options?: ErrorOptions) {
    super(`reading stopped ${Math.round(reserveMs / 1000)} s before the invocation's timeout (the object stalled or is too slow to read); the retry reads it again`, options);
    this.name = 'ObjectDeadlineError';
  }
}
