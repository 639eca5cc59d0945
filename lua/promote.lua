--[[ promote: move due invocations from the timer wheel into the stream, exactly once each.

The caller reads candidate ids first (ZRANGE timers 0 N-1: the earliest N) and passes each with
its record key.  Only ids still in the wheel and due by Redis TIME move, and each is removed
from the wheel in the same script, so any number of concurrent promoters promote each id once.
A bounded batch per call.

The queue's entry in its tag's due index is set to the earliest timer left (or removed when
none is), so the index never promises a timer later than it is due: only this script removes
timers but for cancel.lua, which does the same.

KEYS[1]      {ns:fn}:timers     zset    timer wheel: id -> due ms
KEYS[2]      {ns:fn}:stream     stream  where due work goes (group created if missing)
KEYS[3]      {tag}:due_timers   zset    the tag's queues -> earliest timer (set here)
KEYS[4]      {tag}:active       set     the tag's queues whose stream holds entries
KEYS[5..n]   {ns:fn}:inv:<id>   hash    the record of ARGV[i + 2] (same order)

ARGV[1]      consumer group name
ARGV[2]      the queue's name (its member in KEYS[3] and KEYS[4])
ARGV[3..n]   invocation ids, one per KEYS[5..n]

Returns  {promoted, orphaned, next_in_ms}
         promoted    ids moved into the stream by this call
         orphaned    due ids whose record had vanished (removed from the wheel, counted)
         next_in_ms  ms until the earliest remaining timer is due (<= 0: due now), -1 if none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local promoted, orphaned = 0, 0
local group_checked = false

-- One ZMSCORE for every candidate's due check (a ZSCORE each cost as much as the rest of a
-- promotion) and one variadic ZREM at the end.
local ids = {}
for i = 3, #ARGV do
  ids[#ids + 1] = ARGV[i]
end
local due = {}
if #ids > 0 then
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
  for i = 1, #ids do
    if scores[i] and tonumber(scores[i]) <= now then
      due[ids[i]] = true
    end
  end
end

local moved = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if due[id] then
    due[id] = nil -- an id passed twice moves once
    moved[#moved + 1] = id
    local record = KEYS[i + 2]
    local fields = redis.call('HMGET', record, 'payload', 'attempt', 'status')
    if fields[1] and fields[3] == 'scheduled' then
      if not group_checked then
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
        end
        group_checked = true
      end
      local entry = redis.call('XADD', KEYS[2], '*', 'id', id, 'p', fields[1], 'a', fields[2])
      redis.call('HSET', record, 'status', 'queued', 'entry', entry, 'queued_at', now)
      redis.call('HDEL', record, 'due')
      promoted = promoted + 1
    else
      orphaned = orphaned + 1
    end
  end
end
if #moved > 0 then
  redis.call('ZREM', KEYS[1], unpack(moved))
end
if promoted > 0 then
  redis.call('SADD', KEYS[4], ARGV[2])
end

local next_in = -1
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then
  next_in = tonumber(first[2]) - now
  redis.call('ZADD', KEYS[3], first[2], ARGV[2])
else
  redis.call('ZREM', KEYS[3], ARGV[2])
end
return {promoted, orphaned, next_in}
