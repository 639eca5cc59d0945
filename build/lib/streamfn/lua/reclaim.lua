--[[ reclaim: take over entries idle past the visibility timeout (their runner died).

XAUTOCLAIM in one bounded step, plus each claimed entry's delivery count so the runner can
dead-letter a poison message instead of running it again.

KEYS[1]  {ns:fn}:stream   stream  the function's live work

ARGV[1]  consumer group name
ARGV[2]  consumer name (the claiming runner)
ARGV[3]  minimum idle time in ms (the visibility timeout)
ARGV[4]  start cursor ("0-0" for a new sweep)
ARGV[5]  COUNT, at most this many entries

Returns  {next_cursor, claimed, deleted}
         claimed  array of {entry_id, {field, value, ...}, deliveries}
         deleted  entry ids that were pending but no longer exist (removed from the PEL)
]]
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local claimed = {}
for _, entry in ipairs(r[2]) do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
  local deliveries = 1
  if #pending == 1 then
    deliveries = pending[1][4]
  end
  claimed[#claimed + 1] = {entry[1], entry[2], deliveries}
end
return {r[1], claimed, r[3] or {}}
