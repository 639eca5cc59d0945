--[[ cancel_done: record that a runner stopped a running invocation on request; fenced.

Only the consumer that holds the stream entry may record it (as complete.lua).  The entry is
XACKed and XDELed, the record becomes "cancelled" with the result TTL, the request is removed
from the cancels set and a waiting caller is notified.

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[3]  {ns:fn}:cancels    zset    pending cancel requests by stream entry id
KEYS[4]  {tag}:active       set     the tag's queues whose stream holds entries
KEYS[5]  {ns:fn}:ix:status  zset    index: "live:<id>" -> "cancelled:<id>"
KEYS[6]  {ns:fn}:ix:expiry  zset    index: "<status>|<id>:<tags>:<sid>" -> expiry ms
KEYS[7]  {ns:fn}:ix:counts  hash    index: final status -> records
KEYS[8]  {ns:fn}:ix:by      zset    index: expires with the others once nothing is live

ARGV[1]  consumer group name
ARGV[2]  consumer name (the runner's)
ARGV[3]  stream entry id
ARGV[4]  invocation id
ARGV[5]  TTL in ms of the cancelled record
ARGV[6]  handler duration in ms (until it was stopped)
ARGV[7]  shard channel to SPUBLISH the id on when someone waits
ARGV[8]  the queue's name (its member in KEYS[4]: removed once the stream is empty)

Returns  1 recorded
         0 stale: the entry is not pending for this consumer (lease lost, or finished);
           the request stays, so a runner that reclaimed the entry stops it too
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

local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[4], ARGV[8])
end
redis.call('HSET', KEYS[2], 'status', 'cancelled', 'finished', now, 'duration_ms', ARGV[6])
redis.call('HDEL', KEYS[2], 'entry', 'due')
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local f = redis.call('HMGET', KEYS[2], 'notify', 'tags', 'x_schedule')
if f[1] == '1' then
  redis.call('SPUBLISH', ARGV[7], ARGV[4])
end
redis.call('ZREM', KEYS[5], 'live:' .. ARGV[4])
redis.call('ZADD', KEYS[5], 0, 'cancelled:' .. ARGV[4])
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[5]), 'cancelled|' .. ARGV[4] .. ':' .. (f[2] or '') .. ':' ..
  (f[3] or ''))
redis.call('HINCRBY', KEYS[7], 'cancelled', 1)
retire_index(KEYS[5], KEYS[8], KEYS[6], KEYS[7])
return 1
