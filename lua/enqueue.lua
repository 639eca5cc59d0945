--[[ enqueue: record a new invocation and queue it now, or park it in the timer wheel.

KEYS[1]  {ns:fn}:stream       stream   the function's live work (group created if missing)
KEYS[2]  {ns:fn}:timers       zset     timer wheel: invocation id -> due ms
KEYS[3]  {ns:fn}:inv:<id>     hash     the invocation record (must not exist)
KEYS[4]  {tag}:due_timers     zset     the tag's queues -> earliest timer (lowered here)
KEYS[5]  {tag}:active         set      the tag's queues whose stream holds entries
KEYS[6]  {ns:fn}:ix:status    zset     index: "live:<id>" added (streamfn/index)
KEYS[7]  {ns:fn}:ix:by        zset     index: "t:<tag>:<id>" per tag, "s:<schedule>:<id>"
KEYS[8]  {ns:fn}:ix:expiry    zset     index: its TTL is taken off (keep_index)
KEYS[9]  {ns:fn}:ix:counts    hash     index: as KEYS[8]
KEYS[10] {ns:fn}:idem:<sha>   string   optional: Idempotency-Key -> invocation id

ARGV[1]  invocation id
ARGV[2]  payload (JSON bytes)
ARGV[3]  delay in ms (>= 0), relative to Redis TIME
ARGV[4]  absolute due time in epoch ms, or 0 (wins over ARGV[3] when > 0)
ARGV[5]  "1" if a caller waits for the outcome (completion then SPUBLISHes), else "0"
ARGV[6]  idempotency TTL in ms (used only with KEYS[6])
ARGV[7]  consumer group name
ARGV[8]  extra record fields as JSON object of strings, or "" (e.g. schedule id)
ARGV[9]  backlog cap: most entries KEYS[1] may hold for a new invocation due now to be
         accepted; 0 = no cap.  Invocations parked in the timer wheel are not counted or
         refused (nor are retries, promotions and schedule fires: other scripts)
ARGV[10] the queue's name (its member in KEYS[4] and KEYS[5])
ARGV[11] shard channel to SPUBLISH the due ms on when a timer becomes the tag's earliest
ARGV[12] tags, comma-separated (checked by the caller: streamfn/tags.py), or ""

Returns  {1, id, "queued", entry_id}     queued now
         {1, id, "scheduled", due_ms}    parked until due_ms (Redis clock)
         {0, existing_id, "duplicate", ""} the Idempotency-Key was seen: nothing written
         {0, "", "full", backlog}        due now but XLEN KEYS[1] >= the cap: nothing written
Errors   "ERR streamfn: invocation exists" if KEYS[3] already exists.
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

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]

-- Validate everything before the first write: Redis does not roll a script back on error.
local extra = {}
if ARGV[8] ~= '' then
  extra = cjson.decode(ARGV[8])
  for k, v in pairs(extra) do
    if type(k) ~= 'string' or type(v) ~= 'string' then
      return redis.error_reply('ERR streamfn: extra fields must be strings')
    end
  end
end

local idem = KEYS[10]
if idem then
  local existing = redis.call('GET', idem)
  if existing then
    return {0, existing, 'duplicate', ''}
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  return redis.error_reply('ERR streamfn: invocation exists')
end

local due = now + tonumber(ARGV[3])
if tonumber(ARGV[4]) > 0 then
  due = tonumber(ARGV[4])
end
-- Admission control: the stream holds exactly the live work (finished entries are XDELed),
-- so XLEN (O(1)) is the backlog.  Checked only when a cap is set: this is the hot path.
local cap = tonumber(ARGV[9]) or 0
if cap > 0 and due <= now then
  local backlog = redis.call('XLEN', KEYS[1])
  if backlog >= cap then
    return {0, '', 'full', backlog}
  end
end

if idem then
  redis.call('SET', idem, id, 'PX', ARGV[6])
end

redis.call('HSET', KEYS[3], 'payload', ARGV[2], 'created', now, 'attempt', 1, 'notify', ARGV[5])
if idem then
  redis.call('HSET', KEYS[3], 'idem', idem)
end
for k, v in pairs(extra) do
  redis.call('HSET', KEYS[3], 'x_' .. k, v)
end
-- The index: one ZADD for an untagged invocation (the hot path).
keep_index(KEYS[6], KEYS[7], KEYS[8], KEYS[9])
redis.call('ZADD', KEYS[6], 0, 'live:' .. id)
local tags = ARGV[12] or ''
if tags ~= '' then
  redis.call('HSET', KEYS[3], 'tags', tags)
  for tag in string.gmatch(tags, '[^,]+') do
    redis.call('ZADD', KEYS[7], 0, 't:' .. tag .. ':' .. id)
  end
end
if extra['schedule'] and string.match(extra['schedule'], '^[%w_.-]+$') then
  redis.call('ZADD', KEYS[7], 0, 's:' .. extra['schedule'] .. ':' .. id)
end

if due <= now then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[7], '0', 'MKSTREAM')
  end
  local entry = redis.call('XADD', KEYS[1], '*', 'id', id, 'p', ARGV[2], 'a', 1)
  redis.call('SADD', KEYS[5], ARGV[10])
  redis.call('HSET', KEYS[3], 'status', 'queued', 'entry', entry, 'queued_at', now)
  return {1, id, 'queued', entry}
end
redis.call('ZADD', KEYS[2], due, id)
-- The index keeps each queue's earliest timer; a new earliest of the whole tag wakes the
-- timekeepers, which otherwise sleep until the earliest they read.
if redis.call('ZADD', KEYS[4], 'LT', 'CH', due, ARGV[10]) == 1
    and redis.call('ZRANK', KEYS[4], ARGV[10]) == 0 then
  redis.call('SPUBLISH', ARGV[11], tostring(due))
end
redis.call('HSET', KEYS[3], 'status', 'scheduled', 'due', due)
return {1, id, 'scheduled', tostring(due)}
