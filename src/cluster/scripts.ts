/**
 * The cluster's Redis scripts. Each runs atomically on the server, with the server's
 * clock (TIME), so the nodes' clocks never have to agree.
 *
 * Keys, under `<shared.prefix>cluster:<name>:`:
 * - `members`: a sorted set of node names scored by the time their lease ends (ms).
 * - `fence`: the fencing counter; each slot grant takes the next value.
 * - `slot:<n>`: the lease of slot n, `<node>|<token>`, expiring after the lease ttl.
 * - `claim:<alert key>`: a hash of the notifications of one alert sent by some node.
 */

/**
 * TICK renews this node's membership and its slot leases in one step. KEYS: members,
 * fence. ARGV: slot key prefix, node, ttl ms, slots, leave (1/0), then slots to release.
 *
 * Each slot's desired owner is chosen by rendezvous hashing over the live members (the
 * highest sha1(member#slot)), so every node computes the same owner from the same member
 * set and a member that joins or leaves moves only its share of the slots. The node
 * releases the slots it was asked to (it stopped their blocks a tick ago), then, for each
 * slot it is the desired owner of, takes it when it is free (a new fencing token) or
 * renews it when it holds it. A slot it holds but another node should own is neither
 * renewed nor taken: the node stops its blocks and releases it at its next tick.
 * Returns {live members, owner value per slot ('' when free), desired owner per slot}.
 */
export const TICK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p, me, ttl, n = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local leave = ARGV[5] == '1'
local mine = me .. '|'
local function held(v) return v and string.sub(v, 1, #mine) == mine end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if leave then redis.call('ZREM', KEYS[1], me) else redis.call('ZADD', KEYS[1], now + ttl, me) end
for i = 6, #ARGV do
  local k = p .. ARGV[i]
  if held(redis.call('GET', k)) then redis.call('DEL', k) end
end
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
local owners, desired = {}, {}
for s = 0, n - 1 do
  local best, bestH = '', ''
  for _, m in ipairs(live) do
    local h = redis.sha1hex(m .. '#' .. s)
    if h > bestH then best, bestH = m, h end
  end
  local k = p .. s
  local v = redis.call('GET', k)
  if leave then
    if held(v) then redis.call('DEL', k); v = false end
  elseif best == me then
    if not v then
      v = mine .. redis.call('INCR', KEYS[2])
      redis.call('SET', k, v, 'PX', ttl)
    elseif held(v) then
      redis.call('PEXPIRE', k, ttl)
    end
  end
  owners[s + 1] = v or ''
  desired[s + 1] = best
end
return {live, owners, desired}
`;

/**
 * CLAIM takes one notification of an alert for this node, cluster-wide. KEYS: the alert's
 * claim hash. ARGV: field (`kind|step|contact|channel`), kind, ttl ms. Returns 1 when this
 * node is the first to claim it (it sends), 0 when another node did.
 *
 * A firing claim starts a new incident: the resolved and acknowledged claims of the last one
 * are forgotten (so its resolution is told again); a resolved claim forgets the firing ones
 * (so the next incident is told again). The hash expires ttl after its last claim.
 */
export const CLAIM = `
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
local kind = ARGV[2]
if kind == 'firing' or kind == 'resolved' then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    local k = string.match(f, '^[^|]*')
    if k ~= kind then redis.call('HDEL', KEYS[1], f) end
  end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;
