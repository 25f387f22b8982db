/**
 * The Lua helpers the batch script (redis-scripts.ts) defines before the operations, which
 * call them: iterating a spread operation's groups, answering gets, server time, queue
 * expiry, and publishing changes to watchers.
 */

/**
 * groups iterates over a spread operation's arguments A[from..to] (see RedisConn.submitSpread):
 * groups of a key and its items, \`width\` arguments an item, then the shape (items per
 * group, comma-separated; empty when each group has one). It yields the group's number, the
 * index of its key, and its item count.
 */
export const GROUPS = `
local function groups(A, from, to, width)
  width = width or 1
  local shape, g, i = A[to], 0, from
  if shape == '' then
    return function()
      if i >= to then return nil end
      g = g + 1
      local at = i
      i = i + 1 + width
      return g, at, 1
    end
  end
  local counts = string.gmatch(shape, '%d+')
  return function()
    local c = counts()
    if not c then return nil end
    local n = tonumber(c)
    g = g + 1
    local at = i
    i = i + 1 + width * n
    return g, at, n
  end
end`;

/**
 * gotReply is the reply of gets first..last (out: their values as JSON text, nils: the
 * places of those not set): {flags, JSON, ...}. flags is "" when every key was set, else
 * "1" or "0" per get; the JSON pieces, joined with commas, are the text of the array of
 * the values (null where not set) without its brackets. Each piece is at most 8 kB, or one
 * value: Lua hashes every string it makes, and table.concat past its 8 kB buffer makes and
 * hashes the text several times over, so one string of a whole batch's values would cost
 * the server about as much as the gets themselves.
 */
export const GOT_REPLY = `
local function gotReply(out, nils, first, last)
  local flags = ''
  if nils then
    local f = {}
    for j = first, last do f[j - first + 1] = nils[j] and '0' or '1' end
    flags = table.concat(f)
  end
  local r, n, i = {flags}, 1, first
  while i <= last do
    local j, size = i + 1, #out[i]
    while j <= last and size + #out[j] < 8000 do
      size = size + #out[j] + 1
      j = j + 1
    end
    n = n + 1
    if j == i + 1 then r[n] = out[i] else r[n] = table.concat(out, ',', i, j - 1) end
    i = j
  end
  return r
end`;

/** Server time in ms; every node then agrees on queue expiry whatever its own clock. */
export const NOW = `local function now() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end`;

/**
 * Expiry helpers. A list item is "<expiry>|<JSON>"; a log entry has fields m and, with a
 * maxAge, x. dropExpired pops expired items from the oldest end of a list; nothing is
 * checked for a queue that never had a maxAge (no marker), so plain queues pay nothing.
 */
export const DROP_EXPIRED = `
local function itemExpired(v, t)
  local i = string.find(v, '|', 1, true)
  return i > 1 and tonumber(string.sub(v, 1, i - 1)) <= t
end
local function entryExpired(f, t) return f and f[3] == 'x' and tonumber(f[4]) <= t end
local function dropExpired(list, t)
  while true do
    local v = redis.call('LINDEX', list, 0)
    if not v or not itemExpired(v, t) then return end
    redis.call('LPOP', list)
  end
end
local function idAfter(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms .. '-' .. (tonumber(seq) + 1)
end
local function idLess(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end
-- trimLog drops the log entries every group is done with: before the oldest pending
-- delivery, or after the last delivered entry, whichever is older, over all groups.
local function trimLog(log)
  local min
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', log)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    local keep = idAfter(info['last-delivered-id'])
    if tonumber(info['pending']) > 0 then
      local p = redis.call('XPENDING', log, info['name'])
      if idLess(p[2], keep) then keep = p[2] end
    end
    if not min or idLess(keep, min) then min = keep end
  end
  if min then redis.call('XTRIM', log, 'MINID', min) end
end`;

/**
 * Watch helpers: watched tells whether anyone subscribes to a bucket's channel (anyWatched
 * whether anyone subscribes to any of this setup's). The
 * channels with subscribers are listed once per batch (PUBSUB CHANNELS over this setup's
 * watch channels, usually none or a few), so a batch of writes to many buckets asks the
 * server once, not once per bucket; the script is atomic, so no one subscribes meanwhile.
 * change is the JSON text of one change (value: JSON text, or nil for a delete).
 */
export const PUBLISH = `
local WATCH_PATTERN, PREFIX, WATCHED
local function anyWatched()
  if not WATCHED then
    WATCHED = {}
    for _, c in ipairs(redis.call('PUBSUB', 'CHANNELS', WATCH_PATTERN)) do WATCHED[c] = true end
  end
  return next(WATCHED) ~= nil
end
local function watched(ch)
  return anyWatched() and WATCHED[ch] == true
end
-- channelOf: the channel of a bucket's hash (P s:<bucket> -> P w:<bucket>).
local function channelOf(h) return PREFIX .. 'w:' .. string.sub(h, #PREFIX + 3) end
local function change(key, value)
  if value then return '{"key":' .. cjson.encode(key) .. ',"value":' .. value .. '}' end
  return '{"key":' .. cjson.encode(key) .. ',"deleted":true}'
end`;
