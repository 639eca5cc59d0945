--[[ complete: record a success, fenced to the runner that owns the delivery.

Only the consumer that currently holds the stream entry in the group's pending list may
complete it; a runner whose lease was reclaimed gets 0 and changes nothing.  On success the
result is stored with a TTL, the entry is XACKed and XDELed (streams hold only live work), and
a waiting caller is notified.

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:inv:<id>   hash    the invocation record

ARGV[1]  consumer group name
ARGV[2]  consumer name (the runner's)
ARGV[3]  stream entry id
ARGV[4]  invocation id
ARGV[5]  result (JSON bytes)
ARGV[6]  result TTL in ms
ARGV[7]  handler duration in ms
ARGV[8]  channel to PUBLISH the id on when someone waits

Returns  1 completed
         0 stale: the entry is not pending for this consumer (lease lost, or already finished)
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

redis.call('HSET', KEYS[2], 'status', 'succeeded', 'result', ARGV[5], 'finished', now,
  'duration_ms', ARGV[7])
redis.call('HDEL', KEYS[2], 'error')
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if redis.call('HGET', KEYS[2], 'notify') == '1' then
  redis.call('PUBLISH', ARGV[8], ARGV[4])
end
return 1
