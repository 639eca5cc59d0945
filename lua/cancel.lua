--[[ cancel: stop a scheduled or queued invocation before any runner starts it.

An invocation is running when its stream entry is in the group's pending list; that (and any
finished state) is refused.

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:timers     zset    timer wheel
KEYS[3]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[4]  {tag}:due_timers   zset    the tag's queues -> earliest timer (set when one goes)
KEYS[5]  {tag}:active       set     the tag's queues whose stream holds entries
KEYS[6]  {ns:fn}:ix:status  zset    index: "live:<id>" -> "cancelled:<id>"
KEYS[7]  {ns:fn}:ix:expiry  zset    index: "<status>|<id>:<tags>:<sid>" -> expiry ms
KEYS[8]  {ns:fn}:ix:counts  hash    index: final status -> records
KEYS[9]  {ns:fn}:ix:by      zset    index: expires with the others once nothing is live

ARGV[1]  consumer group name
ARGV[2]  invocation id
ARGV[3]  TTL in ms of the cancelled record
ARGV[4]  shard channel to SPUBLISH the id on when someone waits
ARGV[5]  the queue's name (its member in KEYS[4] and KEYS[5])

Returns  {1, "cancelled"}
         {0, "not_found"}     no such record
         {0, status}          refused: "running", "succeeded", "failed", "dead" or "cancelled"
]]
-- With no live record left in the queue, the index keys go 1 s after the last final record
-- expires, so an idle queue's index returns to nothing without anyone reading it.
local function retire_index(status_ix, by_ix, expiry, counts)
  if redis.call('ZLEXCOUNT', status_ix, '[live:', '(live;') > 0 then
    return
  end
  local last = redis.call('ZRANGE', expiry, -1, -1, 'WITHSCORES')
  if last[2] then
    local at = tonumber(last[2]) + 1000
    redis.call('PEXPIREAT', status_ix, at)
    redis.call('PEXPIREAT', by_ix, at)
    redis.call('PEXPIREAT', expiry, at)
    redis.call('PEXPIREAT', counts, at)
  end
end

local status = redis.call('HGET', KEYS[3], 'status')
if not status then
  return {0, 'not_found'}
end
if status == 'scheduled' then
  redis.call('ZREM', KEYS[2], ARGV[2])
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] then
    redis.call('ZADD', KEYS[4], first[2], ARGV[5])
  else
    redis.call('ZREM', KEYS[4], ARGV[5])
  end
elseif status == 'queued' then
  local entry = redis.call('HGET', KEYS[3], 'entry')
  if entry then
    local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], entry, entry, 1)
    if ok and #pending > 0 then
      return {0, 'running'}
    end
    redis.call('XDEL', KEYS[1], entry)
    if redis.call('XLEN', KEYS[1]) == 0 then
      redis.call('SREM', KEYS[5], ARGV[5])
    end
  end
else
  return {0, status}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[3], 'status', 'cancelled', 'finished', now)
redis.call('HDEL', KEYS[3], 'entry', 'due')
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local f = redis.call('HMGET', KEYS[3], 'notify', 'tags', 'x_schedule')
if f[1] == '1' then
  redis.call('SPUBLISH', ARGV[4], ARGV[2])
end
redis.call('ZREM', KEYS[6], 'live:' .. ARGV[2])
redis.call('ZADD', KEYS[6], 0, 'cancelled:' .. ARGV[2])
redis.call('ZADD', KEYS[7], now + tonumber(ARGV[3]), 'cancelled|' .. ARGV[2] .. ':' .. (f[2] or '') .. ':' ..
  (f[3] or ''))
redis.call('HINCRBY', KEYS[8], 'cancelled', 1)
retire_index(KEYS[6], KEYS[9], KEYS[7], KEYS[8])
return {1, 'cancelled'}
