--[[ schedule_delete: remove a schedule; fires already enqueued stay ordinary invocations.

KEYS[1]  {ns:fn}:schedules        zset   schedule id -> next fire ms
KEYS[2]  {ns:fn}:sched:<sid>      hash   the schedule

ARGV[1]  schedule id

Returns  1 deleted, 0 no such schedule
]]
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
local deleted = redis.call('DEL', KEYS[2])
if removed + deleted > 0 then
  return 1
end
return 0
