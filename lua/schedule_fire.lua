--[[ schedule_fire: enqueue the planned fires of due schedules of one function, exactly once.

Any number of schedulers may call this for the same schedules at once.  Each schedule's step
is a compare-and-set on its zset score (the next fire the caller planned from) and its
definition revision: the first caller moves the score, every other caller is refused for that
schedule.  Each planned time must be after the schedule's last planned fire, so no planned time
fires twice even if a caller replays an old plan; and nothing is enqueued before its planned
time by Redis TIME, the only clock.  Each fire is an ordinary invocation, written exactly as
enqueue.lua writes one that is due now, tagged x_schedule and x_planned; its id is derived from
(schedule id, planned ms), so a record that already exists is never written again.  The stream
entry also carries "pl" (planned ms) so a runner can measure lateness without reading the
record.  Many schedules per call, their steps in one JSON argument, because per-command and
per-argument client overhead, not Redis, is what limits a scheduler; the caller bounds a call
to 100 schedules and 200 planned fires.

The function's entry in its tag's due index is set to its earliest next fire afterwards (a
fire only moves next fires later, so nobody needs waking for it).

KEYS[1]      {ns:fn}:schedules     zset    schedule id -> next fire ms (+inf: none)
KEYS[2]      {ns:fn}:stream        stream  the function's live work (group created if missing)
KEYS[3]      {tag}:due_schedules   zset    the tag's functions -> earliest next fire
KEYS[4]      {tag}:active          set     the tag's queues whose stream holds entries
KEYS[5]      {ns:fn}:ix:status     zset    index: "live:<id>" of each fire (streamfn/index)
KEYS[6]      {ns:fn}:ix:by         zset    index: "s:<sid>:<id>" of each fire
KEYS[7]      {ns:fn}:ix:expiry     zset    index: its TTL is taken off (keep_index)
KEYS[8]      {ns:fn}:ix:counts     hash    index: as KEYS[7]
KEYS[9..n]   per step, in ARGV[3] order: {ns:fn}:sched:<sid> (hash), then {ns:fn}:inv:<id>
             (hash) of each of its planned fires

ARGV[1]      consumer group name
ARGV[2]      plan time: the Redis time (ms) the caller classified misfires at
ARGV[3]      JSON array of steps, each [sid, expected score ms, expected revision, new next
             fire ms or -1 (finished), [[planned ms, invocation id], ...] ascending]
ARGV[4]      the function's name (its member in KEYS[3], and its home queue's in KEYS[4])

Returns  {now, results}; results[i] for the i-th step is
         {"ok", fire_count, planned...}  applied; the planned times enqueued now (a time
                                        whose record already existed is consumed, not
                                        listed); fire_count is the schedule's new total
         {reason}                       nothing written for this schedule; reason is one of
                  "missing"  no such schedule (a stray zset entry is removed)
                  "moved"    the score is not the expected one: fired or updated already
                  "rev"      the definition changed since the plan was made
                  "early"    the expected score or ARGV[2] is later than Redis TIME
                  "order"    a planned time is not after the last fire, not ascending, later
                             than ARGV[2], or not before the new next fire
                  "limit"    the fires would pass the schedule's limit
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

-- The index keys expire as a whole once no live record is left and every final one has
-- expired (retire_index); indexing a live record again takes that TTL off.  ix:counts always
-- exists once a TTL was set (its fields stay at 0), so its PTTL stands for all four.
local function keep_index(status_ix, by_ix, expiry, counts)
  if redis.call('PTTL', counts) >= 0 then
    redis.call('PERSIST', status_ix)
    redis.call('PERSIST', by_ix)
    redis.call('PERSIST', expiry)
    redis.call('PERSIST', counts)
  end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group = ARGV[1]
local plan_now = tonumber(ARGV[2])
local group_checked = false
local enqueued = false

-- One step; its schedule hash is KEYS[h], its fires' records KEYS[h + 1 ...].
local function fire(step, h)
  local sid, expected, rev, new_next, fires = step[1], step[2], step[3], step[4], step[5]
  local hash = KEYS[h]
  local s = redis.call('HMGET', hash, 'rev', 'last_fire', 'fire_count', 'limit', 'payload')
  if not s[1] then
    redis.call('ZREM', KEYS[1], sid)
    return {'missing'}
  end
  local score = redis.call('ZSCORE', KEYS[1], sid)
  if not score or tonumber(score) ~= expected then
    return {'moved'}
  end
  if s[1] ~= rev then
    return {'rev'}
  end
  if expected > now or plan_now > now then
    return {'early'}
  end
  local prev = tonumber(s[2]) or -1
  for _, pair in ipairs(fires) do
    local planned = pair[1]
    if planned <= prev or planned < expected or planned > plan_now then
      return {'order'}
    end
    prev = planned
  end
  if new_next ~= -1 and new_next <= prev then
    return {'order'}
  end
  local count = (tonumber(s[3]) or 0) + #fires
  local limit = tonumber(s[4])
  if limit and count > limit then
    return {'limit'}
  end

  local out = {'ok', count}
  for i, pair in ipairs(fires) do
    local planned, id, record = pair[1], pair[2], KEYS[h + i]
    if redis.call('EXISTS', record) == 0 then
      if not group_checked then
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[2], group, '0', 'MKSTREAM')
        end
        group_checked = true
      end
      local entry = redis.call('XADD', KEYS[2], '*', 'id', id, 'p', s[5], 'a', 1, 'pl', planned)
      enqueued = true
      redis.call('HSET', record, 'payload', s[5], 'created', now, 'attempt', 1, 'notify', 0,
        'x_schedule', sid, 'x_planned', planned, 'status', 'queued', 'entry', entry,
        'queued_at', now)
      keep_index(KEYS[5], KEYS[6], KEYS[7], KEYS[8])
      redis.call('ZADD', KEYS[5], 0, 'live:' .. id)
      redis.call('ZADD', KEYS[6], 0, 's:' .. sid .. ':' .. id)
      out[#out + 1] = planned
    end
  end
  local next_field = new_next
  if new_next == -1 then
    redis.call('ZADD', KEYS[1], '+inf', sid)
    next_field = ''
  else
    redis.call('ZADD', KEYS[1], new_next, sid)
  end
  if #fires > 0 then
    local last = fires[#fires]
    redis.call('HSET', hash, 'last_fire', last[1], 'last_invocation', last[2],
      'fire_count', count, 'next_fire', next_field)
  else
    redis.call('HSET', hash, 'next_fire', next_field)
  end
  return out
end

local results = {}
local h = 9
for _, step in ipairs(cjson.decode(ARGV[3])) do
  results[#results + 1] = fire(step, h)
  h = h + 1 + #step[5]
end
if enqueued then
  redis.call('SADD', KEYS[4], ARGV[4])
end
index_schedules(ARGV[4], nil)
return {now, results}
