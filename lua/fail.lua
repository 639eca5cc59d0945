--[[ fail: record a failed attempt, fenced; retry through the timer wheel or dead-letter.

Backoff is exponential with "equal jitter": attempt k waits
    step/2 + jitter * step/2,   step = min(cap, base * 2^(k-1))
so gaps always grow (until the cap) yet retries of many invocations spread out.

KEYS[1]  {ns:fn}:stream     stream  the function's live work
KEYS[2]  {ns:fn}:timers     zset    timer wheel (retries wait here)
KEYS[3]  {ns:fn}:dead       stream  dead letters (approximate MAXLEN)
KEYS[4]  {ns:fn}:inv:<id>   hash    the invocation record
KEYS[5]  {tag}:due_timers   zset    the tag's queues -> earliest timer (lowered by a retry)
KEYS[6]  {tag}:active       set     the tag's queues whose stream holds entries

ARGV[1]  consumer group name
ARGV[2]  consumer name (the runner's)
ARGV[3]  stream entry id
ARGV[4]  invocation id
ARGV[5]  error (JSON bytes: {"type", "message"})
ARGV[6]  mode: "retry" (retry while attempts remain), "dead" (dead-letter now: permanent
         error or poison message)
ARGV[7]  max attempts (retries + 1)
ARGV[8]  backoff base in ms
ARGV[9]  backoff cap in ms
ARGV[10] jitter in [0, 1] (the caller's random draw)
ARGV[11] "1" to dead-letter a final failure, "0" to mark it "failed"
ARGV[12] TTL in ms of a dead record
ARGV[13] TTL in ms of a failed record
ARGV[14] approximate MAXLEN of the dead-letter stream
ARGV[15] shard channel to SPUBLISH the id on when someone waits
ARGV[16] handler duration in ms
ARGV[17] the queue's name (its member in KEYS[5] and KEYS[6])
ARGV[18] shard channel to SPUBLISH the due ms on when a retry becomes the tag's earliest timer

Returns  {1, "scheduled", due_ms}   retry parked in the wheel
         {1, "dead", dead_entry}    moved to the dead-letter stream
         {1, "failed", ""}          final failure, not dead-lettered
         {0, "stale", ""}           not pending for this consumer: nothing changed
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return {0, 'stale', ''}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[4]
local attempt = tonumber(redis.call('HGET', KEYS[4], 'attempt') or '1')

redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[6], ARGV[17])
end
redis.call('HSET', KEYS[4], 'error', ARGV[5], 'duration_ms', ARGV[16])
redis.call('HDEL', KEYS[4], 'entry')

if ARGV[6] == 'retry' and attempt < tonumber(ARGV[7]) then
  local step = math.min(tonumber(ARGV[9]), tonumber(ARGV[8]) * 2 ^ (attempt - 1))
  local due = now + math.floor(step / 2 + tonumber(ARGV[10]) * step / 2)
  redis.call('ZADD', KEYS[2], due, id)
  if redis.call('ZADD', KEYS[5], 'LT', 'CH', due, ARGV[17]) == 1
      and redis.call('ZRANK', KEYS[5], ARGV[17]) == 0 then
    redis.call('SPUBLISH', ARGV[18], tostring(due))
  end
  redis.call('HSET', KEYS[4], 'status', 'scheduled', 'due', due, 'attempt', attempt + 1)
  return {1, 'scheduled', tostring(due)}
end

local outcome, dead_entry = 'failed', ''
if ARGV[11] == '1' then
  outcome = 'dead'
  local payload = redis.call('HGET', KEYS[4], 'payload') or ''
  dead_entry = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[14], '*',
    'id', id, 'p', payload, 'error', ARGV[5], 'attempts', attempt, 'at', now)
  redis.call('HSET', KEYS[4], 'dead_entry', dead_entry)
  redis.call('PEXPIRE', KEYS[4], ARGV[12])
else
  redis.call('PEXPIRE', KEYS[4], ARGV[13])
end
redis.call('HSET', KEYS[4], 'status', outcome, 'finished', now)
if redis.call('HGET', KEYS[4], 'notify') == '1' then
  redis.call('SPUBLISH', ARGV[15], id)
end
return {1, outcome, dead_entry}
