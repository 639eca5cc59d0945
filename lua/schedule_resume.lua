--[[ schedule_resume: let a paused schedule fire again from its next time after now.

Times missed while paused are skipped by design: the caller computes ARGV[3] as the first
fire after max(now, last fire) from the definition revision ARGV[2] it read.

KEYS[1]  {ns:fn}:schedules        zset   schedule id -> next fire ms
KEYS[2]  {ns:fn}:sched:<sid>      hash   the schedule
KEYS[3]  {tag}:due_schedules      zset   the tag's functions -> earliest next fire

ARGV[1]  schedule id
ARGV[2]  definition revision (token) the next fire was computed from (compare-and-set)
ARGV[3]  next fire in epoch ms, or -1 when it will never fire again
ARGV[4]  the function's name (its member in KEYS[3])
ARGV[5]  shard channel to SPUBLISH the next fire on when the function's earliest moves earlier

Returns  {"resumed", next_fire}
         {"not_paused", 0}     nothing changed
         {"missing", 0}        no such schedule
         {"stale", 0}          the definition changed or ARGV[3] is not after the last fire:
                               read again and retry
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

local state = redis.call('HMGET', KEYS[2], 'rev', 'paused', 'last_fire')
if not state[1] then
  return {'missing', 0}
end
if state[2] ~= '1' then
  return {'not_paused', 0}
end
local next_fire = tonumber(ARGV[3])
local last = tonumber(state[3])
if state[1] ~= ARGV[2] or (last and next_fire ~= -1 and next_fire <= last) then
  return {'stale', 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], 'paused', '0', 'updated', now)
if next_fire == -1 then
  redis.call('ZADD', KEYS[1], '+inf', ARGV[1])
  redis.call('HSET', KEYS[2], 'next_fire', '')
else
  redis.call('ZADD', KEYS[1], next_fire, ARGV[1])
  redis.call('HSET', KEYS[2], 'next_fire', ARGV[3])
end
index_schedules(ARGV[4], ARGV[5])
return {'resumed', next_fire}
