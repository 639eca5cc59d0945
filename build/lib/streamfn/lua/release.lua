--[[ release: hand an unstarted or unfinished entry back at once (graceful shutdown).

Redis 7.0 has no XNACK, so the entry is acknowledged, deleted and added again at the stream's
tail: any runner reads it with its next XREADGROUP instead of waiting for the visibility timeout.
Fenced like complete: only the owner may release.

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:inv:<id>   hash    the invocation record

ARGV[1]  consumer group name
ARGV[2]  consumer name (the runner's)
ARGV[3]  stream entry id

Returns  the new entry id, or false (nil) when this consumer does not own the entry
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return false
end
local old = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if #old == 0 then
  return false
end
local entry = redis.call('XADD', KEYS[1], '*', unpack(old[1][2]))
redis.call('HSET', KEYS[2], 'entry', entry)
return entry
