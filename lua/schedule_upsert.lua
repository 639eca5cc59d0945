--[[ schedule_upsert: create a schedule, or replace its definition, keeping its fire history.

The caller computes the next fire in Python (cron with time zones cannot be done in Lua) from
the stored last fire; this script refuses a next fire that is not after the last planned fire,
so an update racing a fire can never make the same planned time fire twice.  A definition
whose digest equals the stored one changes nothing, so any number of processes may upsert the
same definition (file-declared schedules, client retries) and it is written once.

KEYS[1]  {ns:fn}:schedules        zset   schedule id -> next fire ms (+inf: paused or finished)
KEYS[2]  {ns:fn}:sched:<sid>      hash   the schedule
KEYS[3]  {tag}:due_schedules      zset   the tag's functions -> earliest next fire

ARGV[1]  schedule id
ARGV[2]  digest of the definition (sha256 hex of its canonical JSON)
ARGV[3]  next fire in epoch ms, or -1 when the schedule will never fire (past end_at / limit)
ARGV[4]  revision: a fresh random token naming this version of the definition (schedulers
         cache definitions by it; a deleted and recreated schedule never reuses one)
ARGV[5]  the function's name (its member in KEYS[3])
ARGV[6]  shard channel to SPUBLISH the next fire on when the function's earliest moves earlier
ARGV[7..n] definition fields as field, value pairs (function, kind, spec, timezone, ...)

Returns  {"created", rev}      a new schedule
         {"updated", rev}      the definition was replaced; history kept; paused stays paused
         {"unchanged", rev}    same digest: nothing written (rev is the stored one)
         {"stale", last_fire}  ARGV[3] is not after the last planned fire: recompute and retry
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sid = ARGV[1]
local next_fire = tonumber(ARGV[3])

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

local function write_definition()
  for i = 7, #ARGV, 2 do
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
  index_schedules(ARGV[5], ARGV[6])
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
index_schedules(ARGV[5], ARGV[6])
return {'updated', ARGV[4]}
