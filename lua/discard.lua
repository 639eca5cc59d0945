--[[ discard: delete a dead invocation: its dead-letter entry and its record.

What an operator does with a dead letter that should never run: the entry leaves the
dead-letter stream and the record goes, so GET /invocations/<id> answers 404 from now on.
Only a dead invocation is discarded; any other status is refused and nothing changes.

KEYS[1]  {ns:fn}:dead       stream  dead letters
KEYS[2]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[3]  {ns:fn}:ix:status  zset    index: "dead:<id>" goes (streamfn/index)
KEYS[4]  {ns:fn}:ix:by      zset    index: its tag and schedule entries go
KEYS[5]  {ns:fn}:ix:expiry  zset    index: its expiry entry goes
KEYS[6]  {ns:fn}:ix:counts  hash    index: dead - 1 if its expiry entry was there

ARGV[1]  invocation id (for the reply only)

Returns  {1, "dead"}         discarded
         {0, "not_found"}    no such record
         {0, status}         refused: the invocation is not dead
]]
local fields = redis.call('HMGET', KEYS[2], 'status', 'dead_entry', 'tags', 'x_schedule')
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
local id, tags, sid = ARGV[1], fields[3] or '', fields[4] or ''
redis.call('ZREM', KEYS[3], 'dead:' .. id)
for tag in string.gmatch(tags, '[^,]+') do
  redis.call('ZREM', KEYS[4], 't:' .. tag .. ':' .. id)
end
if sid ~= '' then
  redis.call('ZREM', KEYS[4], 's:' .. sid .. ':' .. id)
end
if redis.call('ZREM', KEYS[5], 'dead|' .. id .. ':' .. tags .. ':' .. sid) == 1 then
  redis.call('HINCRBY', KEYS[6], 'dead', -1)
end
return {1, 'dead'}
