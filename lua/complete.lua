--[[ complete: record successes, fenced to the runner that owns each delivery.

One call completes a batch of entries of one function, so a runner pays one round trip and
one reply per batch rather than per invocation.  Each item is checked on its own: only the
consumer that currently holds the stream entry in the group's pending list may complete it;
a runner whose lease was reclaimed gets 0 for that item and changes nothing.  On success the
result is stored with a TTL, the entry is XACKed and XDELed (streams hold only live work), and
a waiting caller is notified.  The index (streamfn/index) moves each from "live" to
"succeeded", with its expiry; the batch's count is added to the status counts and to this
minute's successes; up to 2n + 16 index entries of records expired by now are taken out.

KEYS[1]      {ns:fn}:stream     stream  the function's live work
KEYS[2]      {tag}:active       set     the tag's queues whose stream holds entries
KEYS[3]      {ns:fn}:ix:status  zset    index: "live:<id>" -> "succeeded:<id>"
KEYS[4]      {ns:fn}:ix:by      zset    index by tag and schedule (expired entries go)
KEYS[5]      {ns:fn}:ix:expiry  zset    index: "<status>:<id>:<tags>:<schedule>" -> expiry ms
KEYS[6]      {ns:fn}:ix:counts  hash    index: final status -> records
KEYS[7]      {ns:fn}:ix:minutes hash    index: successes and failures per minute, 24 h
KEYS[7+i]    {ns:fn}:inv:<id>   hash    the record of item i (i = 1..n)

ARGV[1]      consumer group name
ARGV[2]      consumer name (the runner's)
ARGV[3]      result TTL in ms
ARGV[4]      shard channel to SPUBLISH an id on when someone waits
ARGV[5]      the queue's name (its member in KEYS[2]: removed once the stream is empty)
then 4 per item i, from ARGV[6 + 4(i-1)]:
             stream entry id, invocation id, result (JSON bytes), handler duration in ms

Returns  array of n integers: 1 completed, 0 stale (the entry is not pending for this
         consumer: lease lost, or already finished)
Errors   "ERR streamfn: invalid stream entry id ..." (nothing written)
]]
local group, consumer, ttl, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS - 7
local out = {}

-- Index entries of records that have expired by now (bounded: at most `most`), out of every
-- index key; the counts go down with them.  The same function is in complete.lua, fail.lua
-- and index_trim.lua (a script cannot call another).
local function trim_expired(status_ix, by_ix, expiry, counts, now, most)
  local gone = redis.call('ZRANGE', expiry, '-inf', '(' .. now, 'BYSCORE', 'LIMIT', 0, most)
  if #gone == 0 then
    return 0
  end
  local st, by, dec = {}, {}, {}
  for _, m in ipairs(gone) do
    local status, id, tags, sid = string.match(m, '^([^:]*):([^:]*):([^:]*):(.*)$')
    if status then
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
  redis.call('ZREM', expiry, unpack(gone))
  if #st > 0 then
    redis.call('ZREM', status_ix, unpack(st))
  end
  if #by > 0 then
    redis.call('ZREM', by_ix, unpack(by))
  end
  for s, n in pairs(dec) do
    redis.call('HINCRBY', counts, s, -n)
  end
  return #gone
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

-- Ownership of the whole batch in one read of this consumer's own pending list, between the
-- lowest and highest entry id of the batch (one XPENDING per item was a tenth of the cost).
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local lo, hi, lo_ms, lo_seq, hi_ms, hi_seq
for i = 1, n do
  local entry = ARGV[6 + 4 * (i - 1)]
  local ms, seq = parse(entry)
  if not ms then
    return redis.error_reply('ERR streamfn: invalid stream entry id ' .. entry)
  end
  if not lo or ms < lo_ms or (ms == lo_ms and seq < lo_seq) then
    lo, lo_ms, lo_seq = entry, ms, seq
  end
  if not hi or ms > hi_ms or (ms == hi_ms and seq > hi_seq) then
    hi, hi_ms, hi_seq = entry, ms, seq
  end
end
local owned = {}
if n > 0 then
  -- COUNT only bounds the reply: a consumer's pending list is its runner's leases.
  for _, p in ipairs(redis.call('XPENDING', KEYS[1], group, lo, hi, 1000000, consumer)) do
    owned[p[1]] = true
  end
end

local done = 0
for i = 1, n do
  local base = 6 + 4 * (i - 1)
  local entry, id = ARGV[base], ARGV[base + 1]
  local record = KEYS[7 + i]
  if not owned[entry] then
    out[i] = 0
  else
    owned[entry] = nil -- an entry listed twice completes once
    redis.call('HSET', record, 'status', 'succeeded', 'result', ARGV[base + 2], 'finished', now,
      'duration_ms', ARGV[base + 3])
    redis.call('HDEL', record, 'error')
    redis.call('PEXPIRE', record, ttl)
    redis.call('XACK', KEYS[1], group, entry)
    redis.call('XDEL', KEYS[1], entry)
    local f = redis.call('HMGET', record, 'notify', 'tags', 'x_schedule')
    if f[1] == '1' then
      redis.call('SPUBLISH', channel, id)
    end
    redis.call('ZREM', KEYS[3], 'live:' .. id)
    redis.call('ZADD', KEYS[3], 0, 'succeeded:' .. id)
    redis.call('ZADD', KEYS[5], now + tonumber(ttl), 'succeeded:' .. id .. ':' .. (f[2] or '') .. ':' ..
      (f[3] or ''))
    done = done + 1
    out[i] = 1
  end
end
if n > 0 and redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[5])
end
if done > 0 then
  redis.call('HINCRBY', KEYS[6], 'succeeded', done)
  count_minute(KEYS[7], now, '', done)
end
trim_expired(KEYS[3], KEYS[4], KEYS[5], KEYS[6], now, 2 * n + 16)
return out
