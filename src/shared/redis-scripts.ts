/**
 * The operations of the Redis backend, as Lua functions run by one batch script. Each
 * runs atomically on the server, so a change and its notification, or a check and its
 * write, cannot be interleaved with another node's. RedisConn gathers the operations made
 * in one tick of the event loop and sends them as one EVALSHA of BATCH_SCRIPT (in order;
 * one operation's error does not stop the others): a few large commands cost Node and
 * Redis far less than many small ones. Operations of one kind on one key in the same tick
 * are merged into one function call (the *Many functions: N gets of a bucket are one HMGET,
 * N sets one HSET, N pushes to a queue one RPUSH, N pops one LPOP/RPOP with a count; N
 * increments of a counter one INCRBY), and their results come back as one reply (a JSON
 * array where there is a value per operation), which the client splits. ioredis reloads
 * the script after a server restart. Redis Cluster is not supported (a batch names keys of
 * many slots).
 *
 * Key layout under the prefix P (default "remon:"):
 *   P s:<bucket>   hash: key → JSON value            P w:<bucket>  pub/sub channel of changes
 *   P c:<name>     string: counter (INCRBY)
 *   P l:<name>     string: "<token> <owner>", PX ttl  P f:<name>    fencing counter of the lock
 *   P q:<name>     list: "<expiry ms or empty>|<JSON>" a message
 *   P qx:<name>    marker: the queue has had messages with a maxAge (else expiry is not checked)
 *   P g:<name>     stream: the queue's group log, {m: JSON, x?: expiry}; its consumer groups
 *
 * A change of state is published on the bucket's channel, as a JSON array of changes
 * ({"key", "value"} or {"key", "deleted": true}), only when someone subscribes to it
 * (PUBSUB CHANNELS, once per batch), so writes nobody watches build no message.
 */

import { DROP_EXPIRED, GOT_REPLY, GROUPS, NOW, PUBLISH } from './redis-lua';

export const OPS = {
  /**
   * A range of the batch's arguments: groups of a hash and its keys (the gets of a bucket,
   * as many buckets as the batch has), then the shape: the number of keys per group ("3,1"),
   * empty when each group has one. Returns gotReply's {flags, JSON pieces...}, which the
   * client parses at once. When the server refuses a group (WRONGTYPE), it returns "!" then
   * such a reply or the error per group.
   */
  remonStateGets: {
    numberOfKeys: 0,
    range: true,
    lua: `local out, nils, k = {}, nil, 0
-- One key per bucket (a burst over many): a plain loop; a refusal falls back to the loop below.
if A[to] == '' and pcall(function()
  for i = from, to - 1, 2 do
    k = k + 1
    local v = redis.call('HGET', A[i], A[i + 1])
    if v then out[k] = v else out[k] = 'null' nils = nils or {} nils[k] = true end
  end
end) then return gotReply(out, nils, 1, k) end
out, nils, k = {}, nil, 0
local ends, bad = {}, nil
for g, i, n in groups(A, from, to) do
  local vs
  if n == 1 then vs = {redis.pcall('HGET', A[i], A[i + 1])} else vs = redis.pcall('HMGET', A[i], unpack(A, i + 1, i + n)) end
  if type(vs[1]) == 'table' and vs[1].err then vs = vs[1] end
  if vs.err then
    bad = bad or {}
    bad[g] = vs
  else
    for j = 1, n do
      k = k + 1
      if vs[j] then out[k] = vs[j] else out[k] = 'null' nils = nils or {} nils[k] = true end
    end
  end
  ends[g] = k
end
if not bad then return gotReply(out, nils, 1, k) end
local r, first = {'!'}, 1
for g = 1, #ends do
  r[g + 1] = bad[g] or gotReply(out, nils, first, ends[g])
  first = ends[g] + 1
end
return r`,
  },
  /** KEYS: hash. ARGV: key. */
  remonStateExists: { numberOfKeys: 1, lua: `return redis.call('HEXISTS', KEYS[1], ARGV[1])` },
  /** KEYS: hash. */
  remonStateKeys: { numberOfKeys: 1, lua: `return redis.call('HKEYS', KEYS[1])` },
  /** KEYS: counter. */
  remonCounterGet: { numberOfKeys: 1, lua: `return redis.call('GET', KEYS[1])` },
  /** KEYS: counter. ARGV: value. */
  remonCounterSet: { numberOfKeys: 1, lua: `redis.call('SET', KEYS[1], ARGV[1]) return 1` },
  /** KEYS: counter. ARGV: n. Returns the new value. */
  remonCounterIncr: { numberOfKeys: 1, lua: `return redis.call('INCRBY', KEYS[1], ARGV[1])` },
  /** KEYS: lock. */
  remonLockExists: { numberOfKeys: 1, lua: `return redis.call('EXISTS', KEYS[1])` },
  /**
   * A range of the batch's arguments: groups of a hash and its key, JSON pairs (the sets of
   * a bucket in order: HSET keeps the last of a key; as many buckets as the batch has),
   * then the shape: the number of pairs per group, empty when each group has one. Sets each
   * bucket's with one HSET and publishes its changes on the bucket's channel when watched.
   * Returns 1, or, when the server refuses a group (WRONGTYPE), "!" then 1 or the error per
   * group.
   */
  remonStateSets: {
    numberOfKeys: 0,
    range: true,
    lua: `local bad, last = nil, 0
-- One pair per bucket (a burst over many): a plain loop, then the changes of the watched;
-- a refusal falls back to the loop below, which sets each bucket again (the same values)
-- and publishes.
if A[to] == '' and pcall(function()
  for i = from, to - 1, 3 do redis.call('HSET', A[i], A[i + 1], A[i + 2]) end
end) then
  if anyWatched() then
    for i = from, to - 1, 3 do
      local ch = channelOf(A[i])
      if watched(ch) then redis.call('PUBLISH', ch, '[' .. change(A[i + 1], A[i + 2]) .. ']') end
    end
  end
  return 1
end
for g, i, n in groups(A, from, to, 2) do
  local h, r = A[i], nil
  last = g
  if n == 1 then r = redis.pcall('HSET', h, A[i + 1], A[i + 2])
  else
    for j = i + 1, i + 2 * n, 1000 do
      r = redis.pcall('HSET', h, unpack(A, j, math.min(j + 999, i + 2 * n)))
      if type(r) == 'table' then break end
    end
  end
  if type(r) == 'table' then
    bad = bad or {}
    bad[g] = r
  elseif anyWatched() then
    local ch = channelOf(h)
    if watched(ch) then
      local cs = {}
      for j = i + 1, i + 2 * n, 2 do cs[#cs + 1] = change(A[j], A[j + 1]) end
      redis.call('PUBLISH', ch, '[' .. table.concat(cs, ',') .. ']')
    end
  end
end
if not bad then return 1 end
local r = {'!'}
for g = 1, last do r[g + 1] = bad[g] or 1 end
return r`,
  },
  /** KEYS: hash. ARGV: key, JSON, channel. Returns the previous JSON or nil. */
  remonStateGetSet: {
    numberOfKeys: 1,
    lua: `local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if watched(ARGV[3]) then redis.call('PUBLISH', ARGV[3], '[' .. change(ARGV[1], ARGV[2]) .. ']') end
return old`,
  },
  /** KEYS: hash. ARGV: key, JSON, channel. Returns 1 when it set. */
  remonStateSetNX: {
    numberOfKeys: 1,
    lua: `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if watched(ARGV[3]) then redis.call('PUBLISH', ARGV[3], '[' .. change(ARGV[1], ARGV[2]) .. ']') end
return 1`,
  },
  /** KEYS: hash. ARGV: key, channel. Returns 1 when the key was there. */
  remonStateDel: {
    numberOfKeys: 1,
    lua: `if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if watched(ARGV[2]) then redis.call('PUBLISH', ARGV[2], '[' .. change(ARGV[1]) .. ']') end
return 1`,
  },
  /**
   * KEYS: lock, fence. ARGV: owner, ttl ms. A free lock is granted with the next fencing
   * token: returns {token, ""}; a held one returns {0, "<token> <owner>", pttl}.
   */
  remonLockAcquire: {
    numberOfKeys: 2,
    lua: `local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[1], 'NX', 'PX', ARGV[2])
return {token, ''}`,
  },
  /** KEYS: lock. ARGV: "<token> <owner>". Returns {1} or {0, current value or nil}. */
  remonLockRelease: {
    numberOfKeys: 1,
    lua: `local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('DEL', KEYS[1]) return {1} end
return {0, cur}`,
  },
  /** KEYS: lock. ARGV: "<token> <owner>", ttl ms. Returns {1} or {0, current value or nil}. */
  remonLockExtend: {
    numberOfKeys: 1,
    lua: `local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return {1} end
return {0, cur}`,
  },
  /**
   * KEYS: list, marker, log. ARGV: maxLength (0: none), maxAge ms (0: none), then one
   * "|<JSON>" per push, in order. Appends them to the list (and to the group log when the
   * queue has groups); returns the list's length after each push. A queue without groups
   * or expiry (and no maxAge now) takes them with one RPUSH and at most one LTRIM, and
   * returns just the length after the RPUSH (before the trim): the client works out the rest.
   */
  remonQueuePushMany: {
    numberOfKeys: 3,
    lua: `local maxLen, age = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = #ARGV - 2
local marked = redis.call('EXISTS', KEYS[2]) == 1
local logged = redis.call('EXISTS', KEYS[3]) == 1
local out = {}
if age == 0 and not marked and not logged then
  local len = 0
  for i = 3, #ARGV, 1000 do len = redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
  if maxLen > 0 and len > maxLen then redis.call('LTRIM', KEYS[1], -maxLen, -1) end
  return len
end
local t, x = now(), ''
if age > 0 then
  x = string.format('%d', t + age)
  if not marked then redis.call('SET', KEYS[2], '1') marked = true end
end
for i = 3, #ARGV do
  local len = redis.call('RPUSH', KEYS[1], x .. ARGV[i])
  if maxLen > 0 and len > maxLen then redis.call('LTRIM', KEYS[1], -maxLen, -1) end
  if logged then
    local args = {'XADD', KEYS[3]}
    if maxLen > 0 then table.insert(args, 'MAXLEN') table.insert(args, maxLen) end
    table.insert(args, '*') table.insert(args, 'm') table.insert(args, string.sub(ARGV[i], 2))
    if x ~= '' then table.insert(args, 'x') table.insert(args, x) end
    redis.call(unpack(args))
  end
  if marked then dropExpired(KEYS[1], t) end
  out[i - 2] = redis.call('LLEN', KEYS[1])
end
return out`,
  },
  /**
   * KEYS: list, marker. ARGV: "old" or "new", n. Pops n messages (fewer when the list runs
   * out) from that end and returns the JSON text of an array of them, in the order popped.
   * A queue that never had a maxAge is one LPOP/RPOP with a count; otherwise expired items
   * are dropped, never returned.
   */
  remonQueuePopMany: {
    numberOfKeys: 2,
    lua: `local pop, n = ARGV[1] == 'old' and 'LPOP' or 'RPOP', tonumber(ARGV[2])
local items
if redis.call('EXISTS', KEYS[2]) == 0 then
  items = redis.call(pop, KEYS[1], n) or {}
else
  local t = now()
  dropExpired(KEYS[1], t)
  items = {}
  while #items < n do
    local v = redis.call(pop, KEYS[1])
    if not v then break end
    if not itemExpired(v, t) then items[#items + 1] = v end
  end
end
for i = 1, #items do items[i] = string.sub(items[i], string.find(items[i], '|', 1, true) + 1) end
return '[' .. table.concat(items, ',') .. ']'`,
  },
  /** KEYS: list, marker. ARGV: n (-1: all). Returns the newest n items, oldest first. */
  remonQueuePeek: {
    numberOfKeys: 2,
    lua: `local n = tonumber(ARGV[1])
local from = n < 0 and 0 or -n
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('LRANGE', KEYS[1], from, -1) end
local t = now()
dropExpired(KEYS[1], t)
local out = {}
for _, v in ipairs(redis.call('LRANGE', KEYS[1], from, -1)) do
  if not itemExpired(v, t) then table.insert(out, v) end
end
return out`,
  },
  /** KEYS: list, marker. Returns the length after dropping expired messages. */
  remonQueueLength: {
    numberOfKeys: 2,
    lua: `if redis.call('EXISTS', KEYS[2]) == 1 then dropExpired(KEYS[1], now()) end
return redis.call('LLEN', KEYS[1])`,
  },
  /**
   * KEYS: list, marker, log. ARGV: group, consumer, count, visibility ms, claim cursor.
   * The first group of a queue starts its log with the messages the list holds. Claims
   * deliveries idle past the visibility timeout (XAUTOCLAIM), then reads new entries
   * (XREADGROUP >), creating the group at the start of the log on first use; expired
   * entries are acknowledged and skipped; then trims what every group is done with.
   * Returns {cursor, id, JSON, redelivered, ...}.
   */
  remonQueueConsume: {
    numberOfKeys: 3,
    lua: `local t = now()
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[3]) == 0 then
  if redis.call('EXISTS', KEYS[2]) == 1 then dropExpired(KEYS[1], t) end
  for _, v in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local i = string.find(v, '|', 1, true)
    if i > 1 then redis.call('XADD', KEYS[3], '*', 'm', string.sub(v, i + 1), 'x', string.sub(v, 1, i - 1))
    else redis.call('XADD', KEYS[3], '*', 'm', string.sub(v, i + 1)) end
  end
end
local function claim() return redis.call('XAUTOCLAIM', KEYS[3], group, consumer, ARGV[4], ARGV[5], 'COUNT', count) end
local ok, c = pcall(claim)
if not ok then
  local msg = type(c) == 'table' and c.err or tostring(c)
  if not string.find(msg, 'NOGROUP') then return redis.error_reply(msg) end
  redis.call('XGROUP', 'CREATE', KEYS[3], group, '0', 'MKSTREAM')
  c = claim()
end
local out = {c[1]}
local got = 0
for _, e in ipairs(c[2]) do
  if not e[2] or entryExpired(e[2], t) then redis.call('XACK', KEYS[3], group, e[1])
  else
    table.insert(out, e[1]) table.insert(out, e[2][2]) table.insert(out, 1)
    got = got + 1
  end
end
if got < count then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count - got, 'STREAMS', KEYS[3], '>')
  if r then
    for _, e in ipairs(r[1][2]) do
      if entryExpired(e[2], t) then redis.call('XACK', KEYS[3], group, e[1])
      else table.insert(out, e[1]) table.insert(out, e[2][2]) table.insert(out, 0) end
    end
  end
end
trimLog(KEYS[3])
return out`,
  },
  /** KEYS: log. ARGV: group, ids... Returns how many were pending. */
  remonQueueAck: {
    numberOfKeys: 1,
    lua: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ok, r = pcall(redis.call, 'XACK', KEYS[1], unpack(ARGV))
if not ok then return 0 end
return r`,
  },
  /** KEYS: log. ARGV: group. Returns the group's pending count (0 when there is no group). */
  remonQueuePending: {
    numberOfKeys: 1,
    lua: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ok, r = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])
if not ok then return 0 end
return r[1]`,
  },
} as const;

export type OpName = keyof typeof OPS;

/**
 * BATCH_SCRIPT runs a list of operations given one after the other in ARGV after the glob
 * pattern of this setup's watch channels and its key prefix, each as its name, its key
 * count, its argument count, its keys, its arguments (all strings; see redis-batch.ts,
 * which writes them). An operation marked `range` has no keys and reads its arguments in
 * place (A, from, to: no copy, however many). It returns one reply per operation, an error
 * reply for one that failed; one operation's error does not stop the others.
 */
export const BATCH_SCRIPT = [
  NOW,
  GROUPS,
  GOT_REPLY,
  DROP_EXPIRED,
  PUBLISH,
  'local OPS = {}',
  'local RANGE = {}',
  ...Object.entries(OPS).map(([name, op]) =>
    'range' in op
      ? `RANGE['${name}'] = function(A, from, to)\n${op.lua}\nend`
      : `OPS['${name}'] = function(KEYS, ARGV)\n${op.lua}\nend`),
  `WATCH_PATTERN, PREFIX = ARGV[1], ARGV[2]
local out, n, i, argc = {}, 0, 3, #ARGV
while i <= argc do
  local first = i + 3
  local nk = tonumber(ARGV[i + 1])
  local rest = first + nk
  local after = rest + tonumber(ARGV[i + 2])
  local ok, r
  local ranged = RANGE[ARGV[i]]
  if ranged then ok, r = pcall(ranged, ARGV, rest, after - 1)
  else ok, r = pcall(OPS[ARGV[i]], {unpack(ARGV, first, rest - 1)}, {unpack(ARGV, rest, after - 1)}) end
  if not ok then r = {err = type(r) == 'table' and r.err or tostring(r)} elseif r == nil then r = false end
  n = n + 1
  out[n] = r
  i = after
end
return out`,
].join('\n');
