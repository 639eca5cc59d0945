--[[ schedule_pause: stop a schedule from firing until it is resumed.

A paused schedule stays in the function's zset with score +inf (so listing by function still
finds it) and never becomes due; its definition and history are kept.

KEYS[1]  {ns:fn}:schedules        zset   schedule id -> next fire ms
KEYS[2]  {ns:fn}:sched:<sid>      hash   the schedule

ARGV[1]  schedule id

Returns  1 paused (or already paused), 0 no such schedule
]]
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], '+inf', ARGV[1])
redis.call('HSET', KEYS[2], 'paused', '1', 'next_fire', '', 'updated', now)
return 1
