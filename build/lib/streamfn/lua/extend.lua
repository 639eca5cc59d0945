--[[ extend: heartbeat; renew this runner's lease on entries it still owns.

XCLAIM ... JUSTID with min-idle 0 resets an entry's idle time without raising its delivery
count.  Entries another runner has reclaimed are not touched (a plain XCLAIM would steal them
back) and are returned as lost, so the runner can stop that work; so are entries deleted
while pending (XCLAIM drops those from the pending list).

KEYS[1]  {ns:fn}:stream   stream  the function's live work

ARGV[1]  consumer group name
ARGV[2]  consumer name (the runner's)
ARGV[3..n] stream entry ids the runner is running

Returns  array of the entry ids whose lease this runner no longer holds
]]
local lost = {}
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  local renewed = false
  if #pending == 1 and pending[1][2] == ARGV[2] then
    -- An entry deleted while pending is dropped from the PEL by XCLAIM and not returned.
    renewed = #redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID') == 1
  end
  if not renewed then
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
