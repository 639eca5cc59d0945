--[[ cancel_running: ask the runner that is running an invocation to stop it.

Only a running invocation (queued, with its stream entry in the group's pending list) is
accepted; scheduled and queued-but-undelivered ones are cancelled by cancel.lua instead.  The
request is remembered in a per-function sorted set (so a runner that missed the message, or
that reclaims the entry later, still sees it) and announced on a channel, so the owning runner
stops the handler within milliseconds.  The runner then records the outcome with
cancel_done.lua, fenced like every other outcome; until then the status stays "running".

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[3]  {ns:fn}:cancels    zset    stream entry id -> time of the cancel request (ms)

ARGV[1]  consumer group name
ARGV[2]  invocation id
ARGV[3]  shard channel to SPUBLISH "<invocation id> <entry id>" on (runners listen)
ARGV[4]  TTL in ms of the cancels set (renewed by each request; bounds forgotten requests)

Returns  {1, "cancelling", consumer}   the request is recorded; consumer runs it now
         {0, "not_found", ""}          no such record
         {0, "queued", ""}             not delivered (any more): use cancel.lua
         {0, status, ""}               refused: "scheduled", "succeeded", "failed", "dead",
                                       "cancelled"
]]
local status = redis.call('HGET', KEYS[2], 'status')
if not status then
  return {0, 'not_found', ''}
end
if status ~= 'queued' then
  return {0, status, ''}
end
local entry = redis.call('HGET', KEYS[2], 'entry')
if not entry then
  return {0, 'queued', ''}
end
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], entry, entry, 1)
if not ok or #pending == 0 then
  return {0, 'queued', ''}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now, entry)
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('HSET', KEYS[2], 'cancel_requested', now)
redis.call('SPUBLISH', ARGV[3], ARGV[2] .. ' ' .. entry)
return {1, 'cancelling', pending[1][2]}
