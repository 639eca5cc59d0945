--[[ schedule_pause: stop a schedule from firing until it is resumed.

A paused schedule stays in the function's zset with score +inf (so listing by function still
finds it) and never becomes due; its definition and history are kept.

KEYS[1]  {ns:fn}:schedules        zset   schedule id -> next fire ms
KEYS[2]  {ns:fn}:sched:<sid>      hash   the schedule
KEYS[3]  {tag}:due_schedules      zset   the tag's functions -> earliest next fire

ARGV[1]  schedule id
ARGV[2]  the function's name (its member in KEYS[3])

Returns  1 paused (or already paused), 0 no such schedule
]]
-- The function's entry in its tag's due index: the earliest finite next fire of its schedules,
-- or none; an earlier one than before is announced, so sleeping timekeepers wake for it.
local function index_schedules(fn, channel)
  local first = redis.call('ZRANGE', KEYS[1], '-inf', '(+inf', 'BYSCORE', 'LIMIT', 0, 1,
    'WITHSCORES')
  if not first[2] then
    redis.call('ZREM', KEYS[3], fn)
    return
  end
  local old = redis.call('ZSCORE', KEYS[3], fn)
  redis.call('ZADD', KEYS[3], first[2], fn)
  if channel and (not old or tonumber(first[2]) < tonumber(old)) then
    redis.call('SPUBLISH', channel, first[2])
  end
end

if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], '+inf', ARGV[1])
redis.call('HSET', KEYS[2], 'paused', '1', 'next_fire', '', 'updated', now)
index_schedules(ARGV[2], nil)
return 1
