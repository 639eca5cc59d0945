--[[ discard: delete a dead invocation: its dead-letter entry and its record.

What an operator does with a dead letter that should never run: the entry leaves the
dead-letter stream and the record goes, so GET /invocations/<id> answers 404 from now on.
Only a dead invocation is discarded; any other status is refused and nothing changes.

KEYS[1]  {ns:fn}:dead       stream  dead letters
KEYS[2]  {ns:fn}:inv:<id>   hash    the invocation record

ARGV[1]  invocation id (for the reply only)

Returns  {1, "dead"}         discarded
         {0, "not_found"}    no such record
         {0, status}         refused: the invocation is not dead
]]
local fields = redis.call('HMGET', KEYS[2], 'status', 'dead_entry')
if not fields[1] then
  return {0, 'not_found'}
end
if fields[1] ~= 'dead' then
  return {0, fields[1]}
end
if fields[2] then
  redis.call('XDEL', KEYS[1], fields[2])
end
redis.call('DEL', KEYS[2])
return {1, 'dead'}
