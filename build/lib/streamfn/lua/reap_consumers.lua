--[[ reap_consumers: delete the consumers of runners that are gone, never one holding work.

Every runner process reads under a fresh consumer name, so each restart leaves one behind.
A consumer is deleted only when, at the moment of deletion, it holds no pending entry and
has been idle longer than the limit: XGROUP DELCONSUMER of a consumer with pending entries
would drop them from the PEL, where no runner could ever reclaim them.  The check and the
delete run in this one script, so nothing can be delivered to a consumer in between.

"idle" (XINFO CONSUMERS) is the time since the consumer last got an entry (a delivery,
XCLAIM, XAUTOCLAIM); on Redis 7.0 a read that finds nothing does not reset it (7.2 resets it
on every attempt and adds "inactive", not used here).  So a live runner on a quiet stream
may be deleted too; that is harmless: it holds nothing, nothing refers to an empty consumer,
and its next delivery recreates it, even in the middle of a blocked XREADGROUP.

Bounded: XINFO CONSUMERS lists the group's consumers (a number this script keeps small),
and at most ARGV[4] are deleted per call; call again when the reply equals ARGV[4].

KEYS[1]  {ns:fn}:stream   stream  the function's live work

ARGV[1]  consumer group name
ARGV[2]  consumer name of the caller: never deleted
ARGV[3]  idle limit in ms: only consumers idle strictly longer are deleted
ARGV[4]  most consumers to delete in this call (>= 1)

Returns  the number of consumers deleted (0 when the stream or the group does not exist)
Errors   WRONGTYPE when KEYS[1] is not a stream; "ERR reap_consumers: ..." on a bad ARGV
]]
local limit_ms = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
if limit_ms == nil or limit_ms < 0 then
  return redis.error_reply('ERR reap_consumers: idle limit must be a number of ms >= 0')
end
if cap == nil or cap < 1 then
  return redis.error_reply('ERR reap_consumers: cap must be a whole number >= 1')
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local reply = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(reply) == 'table' and reply.err then
  if string.sub(reply.err, 1, 7) == 'NOGROUP' then
    return 0
  end
  return reply
end

local deleted = 0
for _, flat in ipairs(reply) do
  local c = {}
  for i = 1, #flat, 2 do
    c[flat[i]] = flat[i + 1]
  end
  if c.name ~= ARGV[2] and c.pending == 0 and c.idle > limit_ms then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c.name)
    deleted = deleted + 1
    if deleted >= cap then
      break
    end
  end
end
return deleted
