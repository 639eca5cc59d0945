--[[ complete: record successes, fenced to the runner that owns each delivery.

One call completes a batch of entries of one function, so a runner pays one round trip and
one reply per batch rather than per invocation.  Each item is checked on its own: only the
consumer that currently holds the stream entry in the group's pending list may complete it;
a runner whose lease was reclaimed gets 0 for that item and changes nothing.  On success the
result is stored with a TTL, the entry is XACKed and XDELed (streams hold only live work), and
a waiting caller is notified.

KEYS[1]      {ns:fn}:stream     stream  the function's live work
KEYS[2]      {tag}:active       set     the tag's queues whose stream holds entries
KEYS[2+i]    {ns:fn}:inv:<id>   hash    the record of item i (i = 1..n)

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
local n = #KEYS - 2
local out = {}

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

for i = 1, n do
  local base = 6 + 4 * (i - 1)
  local entry, id = ARGV[base], ARGV[base + 1]
  local record = KEYS[2 + i]
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
    if redis.call('HGET', record, 'notify') == '1' then
      redis.call('SPUBLISH', channel, id)
    end
    out[i] = 1
  end
end
if n > 0 and redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[5])
end
return out
