--[[ schedule_upsert: create a schedule, or replace its definition, keeping its fire history.

The caller computes the next fire in Python (cron with time zones cannot be done in Lua) from
the stored last fire; this script refuses a next fire that is not after the last planned fire,
so an update racing a fire can never make the same planned time fire twice.  A definition
whose digest equals the stored one changes nothing, so any number of processes may upsert the
same definition (file-declared schedules, client retries) and it is written once.

KEYS[1]  {ns:fn}:schedules        zset   schedule id -> next fire ms (+inf: paused or finished)
KEYS[2]  {ns:fn}:sched:<sid>      hash   the schedule

ARGV[1]  schedule id
ARGV[2]  digest of the definition (sha256 hex of its canonical JSON)
ARGV[3]  next fire in epoch ms, or -1 when the schedule will never fire (past end_at / limit)
ARGV[4]  revision: a fresh random token naming this version of the definition (schedulers
         cache definitions by it; a deleted and recreated schedule never reuses one)
ARGV[5..n] definition fields as field, value pairs (function, kind, spec, timezone, ...)

Returns  {"created", rev}      a new schedule
         {"updated", rev}      the definition was replaced; history kept; paused stays paused
         {"unchanged", rev}    same digest: nothing written (rev is the stored one)
         {"stale", last_fire}  ARGV[3] is not after the last planned fire: recompute and retry
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sid = ARGV[1]
local next_fire = tonumber(ARGV[3])

local function write_definition()
  for i = 5, #ARGV, 2 do
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
  redis.call('HSET', KEYS[2], 'digest', ARGV[2], 'rev', ARGV[4], 'updated', now)
end

local function place(paused)
  if paused or next_fire == -1 then
    redis.call('ZADD', KEYS[1], '+inf', sid)
    redis.call('HSET', KEYS[2], 'next_fire', '')
  else
    redis.call('ZADD', KEYS[1], next_fire, sid)
    redis.call('HSET', KEYS[2], 'next_fire', ARGV[3])
  end
end

if redis.call('EXISTS', KEYS[2]) == 0 then
  write_definition()
  redis.call('HSET', KEYS[2], 'created', now, 'fire_count', 0, 'paused', '0',
    'last_fire', '', 'last_invocation', '')
  place(false)
  return {'created', ARGV[4]}
end

local state = redis.call('HMGET', KEYS[2], 'digest', 'rev', 'last_fire', 'paused')
if state[1] == ARGV[2] then
  return {'unchanged', state[2]}
end
local last = tonumber(state[3])
if last and next_fire ~= -1 and next_fire <= last then
  return {'stale', state[3]}
end
write_definition()
place(state[4] == '1')
return {'updated', ARGV[4]}
