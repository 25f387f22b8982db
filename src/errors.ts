/**
 * RemonError is the one error class remon throws on purpose. Every instance carries a
 * stable code (`REMON_ERR_<AREA>_<WHAT>`) that tests and callers match on; an error from a
 * dependency is wrapped with the original kept as `cause`.
 */
export class RemonError extends Error {
  readonly code: ErrorCode;
  /** More for the caller than the message says (a reload's list of problems); sent with the error. */
  details?: Record<string, unknown>;
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
  REMON_ERR_CONFIG_SECTION: 'config sections were registered wrongly (a key twice, a reserved key, a loop of `after`, clashing definitions)',
  REMON_ERR_BLOCK_TYPE_LOAD: 'a user block type could not be loaded',
  REMON_ERR_BLOCK_TIMEOUT: 'a block run exceeded its timeout',
  REMON_ERR_BLOCK_ABORTED: 'a block run was aborted because the node is stopping',
  REMON_ERR_BLOCK_UNKNOWN: 'a block name that is not configured',
  REMON_ERR_BLOCK_BUSY: 'a block was asked to run while a run is in progress',
  REMON_ERR_EXPR_SYNTAX: 'a condition or expression could not be parsed',
  REMON_ERR_EXPR_EVAL: 'a condition or expression could not be evaluated',
  REMON_ERR_DERIVE_REBUILD: 'the windows of derived series could not be read back from the store at start or reload (they start empty)',
  REMON_ERR_RRD_UPDATE: 'an RRD update was refused (time not after the last update, bad value)',
  REMON_ERR_RRD_CREATE: 'an RRD definition is invalid',
  REMON_ERR_RRD_FILE: 'an RRD file is missing, unreadable or corrupt',
  REMON_ERR_RRD_UNFINISHED: 'an RRD file whose making was cut short (its header never written); the store makes it again from its journal',
  REMON_ERR_SQL_KEYS: "the sql block's store of seen keys could not be opened or written",
  REMON_ERR_SQL_QUERY: 'an sql block query failed or timed out',
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
  REMON_ERR_TRAP_UNKNOWN: 'a trap sent (PUT /trap, trap.send) to a name that is no trap block',
  REMON_ERR_TRAP_INVALID: 'a trap sent over HTTP with bad values (a value that is not a finite number, a message too long)',
  REMON_ERR_BUS_BACKLOG: 'a bus subscriber had too many deliveries pending; messages to it were dropped',
  REMON_ERR_OP_UNKNOWN: 'an operation (API route, RPC method) that does not exist',
  REMON_ERR_OP_PARAMS: 'an operation was given parameters that fail its schema or its checks',
  REMON_ERR_OP_UNAUTHORIZED: 'a write or RPC without the node token (Authorization: Bearer <node.token>)',
  REMON_ERR_WEB_FORBIDDEN: 'a request from another origin, or to a Host name this node does not answer to',
  REMON_ERR_WEB_MEDIA_TYPE: 'a write whose body is not JSON',
  REMON_ERR_WEB_TOO_LARGE: 'a request body over the limit',
  REMON_ERR_PAGE_UNKNOWN: 'a drop-in page, or a method of one, that does not exist (no NAME.html, NAME.js or NAME.ts in the page folders)',
  REMON_ERR_PAGE_METHOD: 'a page was sent a method its script does not handle (a POST to a page without POST)',
  REMON_ERR_PAGE_PATH: 'a template named a file outside the page folders (absolute, .., a link out): refused',
  REMON_ERR_PAGE_TEMPLATE: 'a page template failed to parse or render (Liquid syntax, an unknown tag or filter, a missing include)',
  REMON_ERR_PAGE_SCRIPT: 'a page script failed to load or has the wrong shape (module.exports = { GET, POST, rpc })',
  REMON_ERR_PAGE_TYPESCRIPT: 'a .ts page script, and the typescript package is not installed',
  REMON_ERR_PAGE_RPC: 'a page script declares an RPC method whose name a built-in operation or another page has',
  REMON_ERR_PAGE_HANDLER: 'a page handler threw or returned what cannot be answered',
  REMON_ERR_SERIES_UNKNOWN: 'a series name that the store does not have',
  REMON_ERR_RELOAD_INVALID: 'a reload was refused: the new monitor.yaml has errors; the running config is kept',
  REMON_ERR_UNAVAILABLE: 'the node cannot do it now (stopping, not started, a part is missing)',
  REMON_ERR_DURABLE_WRITE: 'a durable log could not write or sync a record (disk full, read-only file system, I/O error); the record was not acknowledged',
  REMON_ERR_DURABLE_READ: 'a durable log could not be opened or read, or its snapshot is damaged',
  REMON_ERR_DURABLE_CLOSED: 'a record was appended to a durable log that is closed',
  REMON_ERR_SLA_INVALID: 'an SLA was built from a spec that does not hold (slots without `during`, a target not below 1, a duplicate name)',
  REMON_ERR_SLA_EVAL: 'an SLA test threw while being evaluated; the outcome counts as unknown',
  REMON_ERR_SLA_BACKFILL: 'the evaluator for slots missed during an outage could not be made from stored data; those slots count as unknown',
  REMON_ERR_SLA_LOG: 'the SLA log (watermarks and states under node.data/sla) could not be read or written',
  REMON_ERR_SLA_UNKNOWN: 'an SLA name that is not configured',
  REMON_ERR_ALERT_UNKNOWN: 'an alert or silence id that this node does not have',
  REMON_ERR_ALERT_STATE: 'an alert cannot do that in its state (acknowledge a resolved alert)',
  REMON_ERR_ALERT_LINK: 'an ack link that is not signed by this node, was used already, or expired',
  REMON_ERR_ALERT_LOG: 'the alert log (node.data/alerts) could not be opened or written',
  REMON_ERR_SILENCE_LIMIT: 'a silence was refused: the node keeps at most 1000 active silences made over the API',
  REMON_ERR_RPC_PARSE: 'a JSON-RPC message that is not valid JSON (JSON-RPC -32700)',
  REMON_ERR_RPC_INVALID: 'a JSON-RPC message that is not a valid request: no jsonrpc "2.0", no method, a bad id, an empty or oversized batch (JSON-RPC -32600)',
  REMON_ERR_RPC_TRANSPORT: 'a JSON-RPC method that needs the WebSocket /rpc (live.subscribe, live.unsubscribe) was called over POST /rpc',
  REMON_ERR_RPC_LIMIT: 'a WebSocket client went over a bound: too many subscriptions, series names, calls in flight or connections',
  REMON_ERR_RPC_UNREACHABLE: 'the RPC client could not reach a node (connection refused, reset, no answer within the timeout) or its WebSocket closed with calls unanswered',
  REMON_ERR_RPC_REMOTE: 'a node answered a JSON-RPC call with an error that carries no remon code, or with something that is not a JSON-RPC answer',
  REMON_ERR_PEER_UNKNOWN: 'a peer name that is not under `peers:`',
  REMON_ERR_NOTIFY_FAILED: 'a notification could not be delivered (receiver down or refusing, mail server, command failed or timed out)',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/**
 * HTTP_STATUS is the one map from error codes to HTTP statuses; JSON-RPC codes derive from
 * it (rpcCodeOf). Codes not listed are server errors (500).
 */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  REMON_ERR_OP_PARAMS: 400,
  REMON_ERR_HEARTBEAT_INVALID: 400,
  REMON_ERR_TRAP_INVALID: 400,
  REMON_ERR_EXPR_SYNTAX: 400,
  REMON_ERR_SHARED_INVALID: 400,
  REMON_ERR_RRD_FETCH: 400,
  REMON_ERR_RELOAD_INVALID: 400,
  REMON_ERR_CONFIG_INVALID: 400,
  REMON_ERR_OP_UNAUTHORIZED: 401,
  REMON_ERR_WEB_FORBIDDEN: 403,
  REMON_ERR_HEARTBEAT_LIMIT: 403,
  REMON_ERR_SILENCE_LIMIT: 403,
  REMON_ERR_OP_UNKNOWN: 404,
  REMON_ERR_BLOCK_UNKNOWN: 404,
  REMON_ERR_HEARTBEAT_UNKNOWN: 404,
  REMON_ERR_TRAP_UNKNOWN: 404,
  REMON_ERR_SERIES_UNKNOWN: 404,
  REMON_ERR_SLA_UNKNOWN: 404,
  REMON_ERR_ALERT_UNKNOWN: 404,
  REMON_ERR_PAGE_UNKNOWN: 404,
  REMON_ERR_PAGE_METHOD: 405,
  REMON_ERR_ALERT_STATE: 409,
  REMON_ERR_ALERT_LINK: 410,
  REMON_ERR_ALERT_LOG: 503,
  REMON_ERR_BLOCK_BUSY: 409,
  REMON_ERR_BLOCK_EXISTS: 409,
  REMON_ERR_SHARED_LOCK_NOT_HELD: 409,
  REMON_ERR_SHARED_LOCK_TIMEOUT: 409,
  REMON_ERR_WEB_TOO_LARGE: 413,
  REMON_ERR_RPC_PARSE: 400,
  REMON_ERR_RPC_INVALID: 400,
  REMON_ERR_RPC_TRANSPORT: 405,
  REMON_ERR_RPC_LIMIT: 429,
  REMON_ERR_PEER_UNKNOWN: 404,
  REMON_ERR_RPC_UNREACHABLE: 502,
  REMON_ERR_RPC_REMOTE: 502,
  REMON_ERR_WEB_MEDIA_TYPE: 415,
  REMON_ERR_BLOCK_ABORTED: 503,
  REMON_ERR_UNAVAILABLE: 503,
  REMON_ERR_HEARTBEAT_JOURNAL: 503,
  REMON_ERR_SHARED_BACKEND: 503,
  REMON_ERR_STORE_UNREACHABLE: 503,
  REMON_ERR_STORE_UNAVAILABLE: 503,
  REMON_ERR_STORE_QUERY: 502,
};

/** httpStatusOf is the HTTP status that answers an error (500 for anything not coded). */
export function httpStatusOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  return (typeof code === 'string' && HTTP_STATUS[code as ErrorCode]) || 500;
}

/**
 * rpcCodeOf is the JSON-RPC 2.0 error code of an error: -32602 (invalid params) for a 400,
 * -32601 (method not found) for an unknown operation, -32603 (internal) for a server error,
 * and -32000 - (status - 400) in the server-error range for other 4xx (401 → -32001, 404
 * → -32004, 409 → -32009), -32050 for unavailable (503); -32700 (parse error) and -32600
 * (invalid request) for messages that are not JSON or not a JSON-RPC request.
 */
export function rpcCodeOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  if (code === 'REMON_ERR_OP_UNKNOWN') return -32601;
  if (code === 'REMON_ERR_RPC_PARSE') return -32700;
  if (code === 'REMON_ERR_RPC_INVALID') return -32600;
  const status = httpStatusOf(err);
  if (status === 400) return -32602;
  if (status === 503) return -32050;
  if (status >= 500) return -32603;
  return -32000 - (status - 400);
}

/** createError builds a RemonError; the one place errors are made. */
export function createError(code: ErrorCode, message: string, cause?: unknown): RemonError {
  return new RemonError(code, message, cause === undefined ? undefined : { cause });
}

/** errorMessage renders anything thrown as a one-line message. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
