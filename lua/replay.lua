--[[ replay: put a dead invocation back to work with a fresh attempt budget.

The payload comes from the record, so a dead-letter entry trimmed by MAXLEN still replays.

KEYS[1]  {ns:fn}:dead       stream  dead letters
KEYS[2]  {ns:fn}:stream     stream  the function's live work (group created if missing)
KEYS[3]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[4]  {tag}:active       set     the tag's queues whose stream holds entries
KEYS[5]  {ns:fn}:ix:status  zset    index: "dead:<id>" -> "live:<id>"
KEYS[6]  {ns:fn}:ix:expiry  zset    index: the record's expiry entry goes (it persists)
KEYS[7]  {ns:fn}:ix:counts  hash    index: final status -> records (dead: one less)
KEYS[8]  {ns:fn}:ix:by      zset    index: its TTL is taken off with the others

ARGV[1]  consumer group name
ARGV[2]  invocation id
ARGV[3]  the queue's name (its member in KEYS[4])

Returns  {1, entry_id}     queued again (record no longer expires)
         {0, "not_found"}  no such record
         {0, status}       refused: the invocation is not dead
]]
-- The index keys expire as a whole once no live record is left and every final one has
-- expired (retire_index); indexing a live record again takes that TTL off.  ix:counts always
-- exists once a TTL was set (its fields stay at 0), so its PTTL stands for all four.
local function keep_index(status_ix, by_ix, expiry, counts)
  if redis.call('PTTL', counts) >= 0 then
    redis.call('PERSIST', status_ix)
    redis.call('PERSIST', by_ix)
    redis.call('PERSIST', expiry)
    redis.call('PERSIST', counts)
  end
end

local fields = redis.call('HMGET', KEYS[3], 'status', 'payload', 'dead_entry', 'tags',
  'x_schedule')
if not fields[1] then
  return {0, 'not_found'}
end
if fields[1] ~= 'dead' then
  return {0, fields[1]}
end
if fields[3] then
  redis.call('XDEL', KEYS[1], fields[3])
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry = redis.call('XADD', KEYS[2], '*', 'id', ARGV[2], 'p', fields[2], 'a', 1)
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('PERSIST', KEYS[3])
redis.call('HDEL', KEYS[3], 'dead_entry', 'finished', 'result')
redis.call('HSET', KEYS[3], 'status', 'queued', 'entry', entry, 'attempt', 1, 'queued_at', now,
  'replayed', now)
-- The entry's expiry member is rebuilt from the record as fail.lua wrote it; the count only
-- drops if the member was there (an index trim may have counted it out already).
local id = ARGV[2]
keep_index(KEYS[5], KEYS[8], KEYS[6], KEYS[7])
redis.call('ZREM', KEYS[5], 'dead:' .. id)
redis.call('ZADD', KEYS[5], 0, 'live:' .. id)
if redis.call('ZREM', KEYS[6], 'dead|' .. id .. ':' .. (fields[4] or '') .. ':' ..
    (fields[5] or '')) == 1 then
  redis.call('HINCRBY', KEYS[7], 'dead', -1)
end
return {1, entry}
