--[[ watch: ask to be notified when an invocation finishes; returns its current status.

Set before a waiter checks the status, so a completion in between is never missed: either the
status read here is already final, or the finishing script sees notify=1 and PUBLISHes.

KEYS[1]  {ns:fn}:inv:<id>   hash    the invocation record

Returns  the record's status, or false (nil) when there is no such record
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  return false
end
redis.call('HSET', KEYS[1], 'notify', '1')
return status
