--[[ fail: record a failed attempt, fenced; retry through the timer wheel or dead-letter.

Backoff is exponential with "equal jitter": attempt k waits
    step/2 + jitter * step/2,   step = min(cap, base * 2^(k-1))
so gaps always grow (until the cap) yet retries of many invocations spread out.

The index (streamfn/index) counts the failed attempt in this minute's failures; a final
outcome moves "live:<id>" to "failed:<id>" or "dead:<id>" with its expiry and count, and up
to two expiry entries of records expired by now are taken out.

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:timers     zset    timer wheel (retries wait here)
KEYS[3]  {ns:fn}:dead       stream  dead letters (approximate MAXLEN)
KEYS[4]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[5]  {tag}:due_timers   zset    the tag's queues -> earliest timer (lowered by a retry)
KEYS[6]  {tag}:active       set     the tag's queues whose stream holds entries
KEYS[7]  {ns:fn}:ix:status  zset    index: "live:<id>" -> "failed:<id>" / "dead:<id>"
KEYS[8]  {ns:fn}:ix:by      zset    index by tag and schedule (expired entries go)
KEYS[9]  {ns:fn}:ix:expiry  zset    index: "<status>|<id>:<tags>:<sid>" -> expiry ms
KEYS[10] {ns:fn}:ix:counts  hash    index: final status -> records
KEYS[11] {ns:fn}:ix:minutes hash    index: successes and failures per minute, 24 h

ARGV[1]  consumer group name
ARGV[2]  consumer name (the runner's)
ARGV[3]  stream entry id
ARGV[4]  invocation id
ARGV[5]  error (JSON bytes: {"type", "message"})
ARGV[6]  mode: "retry" (retry while attempts remain), "dead" (dead-letter now: permanent
         error or poison message)
ARGV[7]  max attempts (retries + 1)
ARGV[8]  backoff base in ms
ARGV[9]  backoff cap in ms
ARGV[10] jitter in [0, 1] (the caller's random draw)
ARGV[11] "1" to dead-letter a final failure, "0" to mark it "failed"
ARGV[12] TTL in ms of a dead record
ARGV[13] TTL in ms of a failed record
ARGV[14] approximate MAXLEN of the dead-letter stream
ARGV[15] shard channel to SPUBLISH the id on when someone waits
ARGV[16] handler duration in ms
ARGV[17] the queue's name (its member in KEYS[5] and KEYS[6])
ARGV[18] shard channel to SPUBLISH the due ms on when a retry becomes the tag's earliest timer

Returns  {1, "scheduled", due_ms}   retry parked in the wheel
         {1, "dead", dead_entry}    moved to the dead-letter stream
         {1, "failed", ""}          final failure, not dead-lettered
         {0, "stale", ""}           not pending for this consumer: nothing changed
]]
-- cmd key args..., in slices well inside Lua's stack limit for unpack.
local function variadic(cmd, key, args)
  for from = 1, #args, 2000 do
    redis.call(cmd, key, unpack(args, from, math.min(from + 1999, #args)))
  end
end

-- Index entries of records that have expired by now, out of every index key; the counts go
-- down with them.  An expiry member is "<status>|<id>:<tags>:<schedule>|..." for the records
-- one call finished (they expire together).  Bounded: at most `most` members.  The same
-- function is in complete.lua, fail.lua and index_trim.lua (a script cannot call another).
local function trim_expired(status_ix, by_ix, expiry, counts, now, most)
  local gone = redis.call('ZRANGE', expiry, '-inf', '(' .. now, 'BYSCORE', 'LIMIT', 0, most)
  if #gone == 0 then
    return 0
  end
  local st, by, dec = {}, {}, {}
  for _, m in ipairs(gone) do
    local status, rest = string.match(m, '^([^|]*)|(.*)$')
    for item in string.gmatch(rest or '', '[^|]+') do
      local id, tags, sid = string.match(item, '^([^:]*):([^:]*):(.*)$')
      if id then
        st[#st + 1] = status .. ':' .. id
        dec[status] = (dec[status] or 0) + 1
        for tag in string.gmatch(tags, '[^,]+') do
          by[#by + 1] = 't:' .. tag .. ':' .. id
        end
        if sid ~= '' then
          by[#by + 1] = 's:' .. sid .. ':' .. id
        end
      end
    end
  end
  variadic('ZREM', expiry, gone)
  variadic('ZREM', status_ix, st)
  variadic('ZREM', by_ix, by)
  for s, n in pairs(dec) do
    redis.call('HINCRBY', counts, s, -n)
  end
  return #gone
end

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

-- Adds n to this minute's counter (suffix '' successes, ':f' failed attempts).  A minute's
-- first add drops the minutes past 24 h (a sweep of at most ~2,900 fields, once a minute)
-- and renews the hash's TTL, so an idle queue's counters go 24 h after its last count.
local function count_minute(minutes, now, suffix, n)
  local minute = math.floor(now / 60000)
  if redis.call('HINCRBY', minutes, minute .. suffix, n) ~= n then
    return
  end
  redis.call('PEXPIRE', minutes, 86460000)
  local keep = minute - 1439
  local lo = tonumber(redis.call('HGET', minutes, 'lo'))
  if lo and lo >= keep then
    return
  end
  local drop = {}
  for _, f in ipairs(redis.call('HKEYS', minutes)) do
    local m = tonumber(string.match(f, '^(%d+)'))
    if m and m < keep then
      drop[#drop + 1] = f
    end
  end
  if #drop > 0 then
    redis.call('HDEL', minutes, unpack(drop))
  end
  redis.call('HSET', minutes, 'lo', keep)
end

local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return {0, 'stale', ''}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[4]
local attempt = tonumber(redis.call('HGET', KEYS[4], 'attempt') or '1')

redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[6], ARGV[17])
end
redis.call('HSET', KEYS[4], 'error', ARGV[5], 'duration_ms', ARGV[16])
redis.call('HDEL', KEYS[4], 'entry')
count_minute(KEYS[11], now, ':f', 1)
trim_expired(KEYS[7], KEYS[8], KEYS[9], KEYS[10], now, 2)

if ARGV[6] == 'retry' and attempt < tonumber(ARGV[7]) then
  local step = math.min(tonumber(ARGV[9]), tonumber(ARGV[8]) * 2 ^ (attempt - 1))
  local due = now + math.floor(step / 2 + tonumber(ARGV[10]) * step / 2)
  redis.call('ZADD', KEYS[2], due, id)
  if redis.call('ZADD', KEYS[5], 'LT', 'CH', due, ARGV[17]) == 1
      and redis.call('ZRANK', KEYS[5], ARGV[17]) == 0 then
    redis.call('SPUBLISH', ARGV[18], tostring(due))
  end
  redis.call('HSET', KEYS[4], 'status', 'scheduled', 'due', due, 'attempt', attempt + 1)
  return {1, 'scheduled', tostring(due)}
end

local outcome, dead_entry, ttl = 'failed', '', tonumber(ARGV[13])
if ARGV[11] == '1' then
  outcome = 'dead'
  local payload = redis.call('HGET', KEYS[4], 'payload') or ''
  dead_entry = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[14], '*',
    'id', id, 'p', payload, 'error', ARGV[5], 'attempts', attempt, 'at', now)
  redis.call('HSET', KEYS[4], 'dead_entry', dead_entry)
  redis.call('PEXPIRE', KEYS[4], ARGV[12])
  ttl = tonumber(ARGV[12])
else
  redis.call('PEXPIRE', KEYS[4], ARGV[13])
end
redis.call('HSET', KEYS[4], 'status', outcome, 'finished', now)
local f = redis.call('HMGET', KEYS[4], 'notify', 'tags', 'x_schedule')
if f[1] == '1' then
  redis.call('SPUBLISH', ARGV[15], id)
end
redis.call('ZREM', KEYS[7], 'live:' .. id)
redis.call('ZADD', KEYS[7], 0, outcome .. ':' .. id)
redis.call('ZADD', KEYS[9], now + ttl, outcome .. '|' .. id .. ':' .. (f[2] or '') .. ':' ..
  (f[3] or ''))
redis.call('HINCRBY', KEYS[10], outcome, 1)
retire_index(KEYS[7], KEYS[8], KEYS[9], KEYS[10])
return {1, outcome, dead_entry}
