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
  REMON_ERR_RRD_UPDATE: 'an RRD update was refused (time not after the last update, bad value)',
  REMON_ERR_RRD_CREATE: 'an RRD definition is invalid',
  REMON_ERR_RRD_FILE: 'an RRD file is missing, unreadable or corrupt',
  REMON_ERR_DATA_IN_USE: 'a directory under node.data is in use by another remon process (two nodes cannot share one node.data)',
  REMON_ERR_RRD_FETCH: 'an RRD fetch was refused (bad range, no matching archive)',
  REMON_ERR_STORE_UNREACHABLE: 'the storage server could not be reached (connection refused, unknown host, timeout)',
  REMON_ERR_STORE_UNAVAILABLE: 'the storage server answered with a server error (HTTP 429 or 5xx)',
  REMON_ERR_STORE_REFUSED: 'the storage server refused the request (HTTP 401, 403, 404: token, org, bucket or URL)',
  REMON_ERR_STORE_REJECTED: 'the storage server rejected written data as malformed (HTTP 400, 422); it is dropped',
  REMON_ERR_STORE_QUERY: 'a read from the storage server failed or gave an answer remon does not understand',
  REMON_ERR_STORE_SPOOL: 'the on-disk write spool could not be written or read',
  REMON_ERR_SHARED_LOCK_NOT_HELD: 'a lock was released by someone who does not hold it',
  REMON_ERR_SHARED_LOCK_TIMEOUT: 'a lock could not be acquired within its wait time',
  REMON_ERR_SHARED_BACKEND: 'the shared backend failed',
  REMON_ERR_SHARED_INVALID: 'a shared operation was given a bad argument (not JSON, a bad pattern, a ttl of 0)',
  REMON_ERR_WEB_INSECURE_LISTEN: 'a non-loopback listen address without node.token',
  REMON_ERR_WEB_LISTEN: 'the HTTP server could not listen',
  REMON_ERR_CLI_USAGE: 'bad command-line usage',
  REMON_ERR_BLOCK_EXISTS: 'a block was added under a name that is taken',
  REMON_ERR_HEARTBEAT_UNKNOWN: 'a signal or edit for a heartbeat that does not exist',
  REMON_ERR_HEARTBEAT_INVALID: 'a heartbeat signal or definition with bad values',
  REMON_ERR_HEARTBEAT_LIMIT: 'auto_create would make more heartbeats than the node keeps',
  REMON_ERR_HEARTBEAT_JOURNAL: 'the heartbeat journal could not be read or written',
  REMON_ERR_DURABLE_WRITE: 'a durable log could not write or sync a record (disk full, read-only file system, I/O error); the record was not acknowledged',
  REMON_ERR_DURABLE_READ: 'a durable log could not be opened or read, or its snapshot is damaged',
  REMON_ERR_DURABLE_CLOSED: 'a record was appended to a durable log that is closed',
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
