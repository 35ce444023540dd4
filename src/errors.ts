/**
 * Typed errors. Each edge (CLI, HTTP, BullMQ processor, MNS loop) maps these to its own
 * outcome in exactly one place; everything else just throws them.
 */

export interface AppErrorOptions {
  cause?: unknown;
  /** Whether trying again later can succeed. */
  retryable?: boolean;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad configuration or command-line usage: the CLI exits with code 2. */
export class ConfigError extends AppError {
  constructor(message: string) {
    super("CONFIG_INVALID", message);
  }
}

/** PostgreSQL or Redis is unreachable; callers answer 503 / keep the MNS message. */
export class StorageUnavailableError extends AppError {
  constructor(what: "postgres" | "redis", options: AppErrorOptions = {}) {
    super("STORAGE_UNAVAILABLE", `${what} is unavailable`, { ...options, retryable: true });
  }
}

/** An upstream (Alibaba) call failed in a way that may succeed later (5xx, network, timeout). */
export class UpstreamError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super("UPSTREAM_FAILED", message, { retryable: true, ...options });
  }
}

/** An upstream throttled us; retry after the given delay without counting an attempt. */
export class RateLimitedError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super("RATE_LIMITED", message, { ...options, retryable: true });
  }
}

/** Turn anything thrown into an Error (graphile-worker's coerceError). */
export function coerceError(err: unknown): Error & { code?: unknown } {
  if (err instanceof Error) {
    return err;
  }
  const wrapped = new Error(typeof err === "string" ? err : `Non-error thrown: ${String(err)}`, {
    cause: err,
  });
  return wrapped;
}
