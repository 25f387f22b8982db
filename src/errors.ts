/**
 * RemonError is the one error class remon throws on purpose. Every instance carries a
 * stable code (`REMON_ERR_<AREA>_<WHAT>`) that tests and callers match on; an error from a
 * dependency is wrapped with the original kept as `cause`.
 */
export class RemonError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemonError';
    this.code = code;
  }
}

/** ErrorCodes lists every code remon raises, with a short description of when. */
export const ErrorCodes = {
  REMON_ERR_CONFIG_INVALID: 'monitor.yaml failed validation (see ConfigError.problems)',
  REMON_ERR_CONFIG_READ: 'the config file could not be read',
  REMON_ERR_BLOCK_TYPE_LOAD: 'a user block type could not be loaded',
  REMON_ERR_BLOCK_TIMEOUT: 'a block run exceeded its timeout',
  REMON_ERR_BLOCK_ABORTED: 'a block run was aborted because the node is stopping',
  REMON_ERR_BLOCK_UNKNOWN: 'a block name that is not configured',
  REMON_ERR_BLOCK_BUSY: 'a block was asked to run while a run is in progress',
  REMON_ERR_EXPR_SYNTAX: 'a condition or expression could not be parsed',
  REMON_ERR_EXPR_EVAL: 'a condition or expression could not be evaluated',
  REMON_ERR_SHARED_LOCK_NOT_HELD: 'a lock was released by someone who does not hold it',
  REMON_ERR_SHARED_LOCK_TIMEOUT: 'a lock could not be acquired within its wait time',
  REMON_ERR_SHARED_BACKEND: 'the shared backend failed',
  REMON_ERR_WEB_INSECURE_LISTEN: 'a non-loopback listen address without node.token',
  REMON_ERR_WEB_LISTEN: 'the HTTP server could not listen',
  REMON_ERR_CLI_USAGE: 'bad command-line usage',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** createError builds a RemonError; the one place errors are made. */
export function createError(code: ErrorCode, message: string, cause?: unknown): RemonError {
  return new RemonError(code, message, cause === undefined ? undefined : { cause });
}

/** errorMessage renders anything thrown as a one-line message. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
