--[[ complete: record successes, fenced to the runner that owns each delivery.

One call completes a batch of entries of one function, so a runner pays one round trip and
one reply per batch rather than per invocation.  Each item is checked on its own: only the
consumer that currently holds the stream entry in the group's pending list may complete it;
a runner whose lease was reclaimed gets 0 for that item and changes nothing.  On success the
result is stored with a TTL, the entry is XACKed and XDELed (streams hold only live work), and
a waiting caller is notified.  The index (streamfn/index) moves each from "live" to
"succeeded", and the batch gets one expiry entry (its records expire together); the count is
added to the status counts and to this minute's successes; up to two expiry entries of
records expired by now are taken out, with the index entries they name.

KEYS[1]      {ns:fn}:stream     stream  the function's live work
KEYS[2]      {tag}:active       set     the tag's queues whose stream holds entries
KEYS[3]      {ns:fn}:ix:status  zset    index: "live:<id>" -> "succeeded:<id>"
KEYS[4]      {ns:fn}:ix:by      zset    index by tag and schedule (expired entries go)
KEYS[5]      {ns:fn}:ix:expiry  zset    index: "<status>|<id>:<tags>:<sid>|..." -> expiry ms
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

-- The index changes of the whole batch go in one variadic command per key (a command per
-- item cost ~1 us each).
local done, lives, finals, expiring = 0, {}, {}, {}
local expires = now + tonumber(ttl)
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
    done = done + 1
    lives[done] = 'live:' .. id
    finals[2 * done - 1], finals[2 * done] = 0, 'succeeded:' .. id
    expiring[done] = id .. ':' .. (f[2] or '') .. ':' .. (f[3] or '')
    out[i] = 1
  end
end
if n > 0 and redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[5])
end
if done > 0 then
  variadic('ZREM', KEYS[3], lives)
  variadic('ZADD', KEYS[3], finals)
  redis.call('ZADD', KEYS[5], expires, 'succeeded|' .. table.concat(expiring, '|'))
  redis.call('HINCRBY', KEYS[6], 'succeeded', done)
  count_minute(KEYS[7], now, '', done)
end
trim_expired(KEYS[3], KEYS[4], KEYS[5], KEYS[6], now, 2)
if done > 0 then
  retire_index(KEYS[3], KEYS[4], KEYS[5], KEYS[6])
end
return out
