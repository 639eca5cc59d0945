--[[ reindex: enter one queue in its tag's indexes exactly as its keys stand now.

The scripts that add or remove timers, schedules and stream entries keep the indexes exact
themselves; this one is for keys written before the indexes existed (an upgrade, a restore)
or by a script of an older release still running during a rolling upgrade.  A timekeeper runs
it once for every queue it learns of.  Idempotent; a due time it moves earlier is announced,
as the other scripts announce theirs.

KEYS[1]  {ns:fn}:timers         zset    the queue's timer wheel
KEYS[2]  {ns:fn}:stream         stream  the queue's live work
KEYS[3]  {tag}:due_timers       zset    the tag's queues -> earliest timer
KEYS[4]  {tag}:active           set     the tag's queues whose stream holds entries
KEYS[5]  {ns:fn}:schedules      zset    optional: the function's schedules (home queue only)
KEYS[6]  {tag}:due_schedules    zset    optional: the tag's functions -> earliest next fire

ARGV[1]  the queue's name (its member in KEYS[3] and KEYS[4]; for the home queue also the
         function's member in KEYS[6])
ARGV[2]  shard channel to SPUBLISH a due ms on when it is earlier than the index said

Returns  {earliest timer ms or -1, stream length, earliest next fire ms or -1}
Errors   "ERR streamfn: reindex takes KEYS[5] and KEYS[6] together" (nothing written)
]]
if (KEYS[5] == nil) ~= (KEYS[6] == nil) then
  return redis.error_reply('ERR streamfn: reindex takes KEYS[5] and KEYS[6] together')
end
local queue, channel = ARGV[1], ARGV[2]

-- Sets member's score in index to first[2] (or removes it); announces an earlier one.
local function place(index, first)
  if not first[2] then
    redis.call('ZREM', index, queue)
    return -1
  end
  local old = redis.call('ZSCORE', index, queue)
  redis.call('ZADD', index, first[2], queue)
  if not old or tonumber(first[2]) < tonumber(old) then
    redis.call('SPUBLISH', channel, first[2])
  end
  return tonumber(first[2])
end

local timer = place(KEYS[3], redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES'))
local length = redis.call('XLEN', KEYS[2])
if length > 0 then
  redis.call('SADD', KEYS[4], queue)
else
  redis.call('SREM', KEYS[4], queue)
end
local fire = -1
if KEYS[5] then
  fire = place(KEYS[6], redis.call('ZRANGE', KEYS[5], '-inf', '(+inf', 'BYSCORE', 'LIMIT', 0, 1,
    'WITHSCORES'))
end
return {timer, length, fire}
