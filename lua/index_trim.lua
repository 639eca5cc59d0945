--[[ index_trim: take the index entries of records that have expired out of the index.

complete.lua and fail.lua trim a few on every call; this script is the same step for a reader
(streamfn/index) that must see exact counts, or a queue that no longer runs anything.  An entry
goes once its record's expiry (its expiry entry's score in KEYS[3]) is past by Redis TIME.  Bounded: at most
ARGV[1] entries per call; the caller calls again while the reply says more may remain.

KEYS[1]  {ns:fn}:ix:status  zset    "<status>:<id>" (score 0)
KEYS[2]  {ns:fn}:ix:by      zset    "t:<tag>:<id>", "s:<schedule>:<id>" (score 0)
KEYS[3]  {ns:fn}:ix:expiry  zset    "<status>|<id>:<tags>:<sid>|..." -> expiry ms
KEYS[4]  {ns:fn}:ix:counts  hash    final status -> records

ARGV[1]  most expiry entries to take out in this call (>= 1; each names the records one
         script call finished: up to ~100)

Returns  {trimmed, more}: expiry entries taken out; more = 1 when the batch was full
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local most = tonumber(ARGV[1])

-- cmd key args..., in slices well inside Lua's stack limit for unpack.
local function variadic(cmd, key, args)
  for from = 1, #args, 2000 do
    redis.call(cmd, key, unpack(args, from, math.min(from + 1999, #args)))
  end
end

-- Index entries of records that have expired by now, out of every index key; the counts go
-- down with them.  An expiry member is "<status>|<id>:<tags>:<schedule>|..." for the records
-- one call finished (they expire together).  Bounded: at most `most` members.  The same
-- function is in complete.lua, fail.lua and index_trim.lua (a script cannot call another).
local function trim_expired(status_ix, by_ix, expiry, counts, now, most)
  local gone = redis.call('ZRANGE', expiry, '-inf', '(' .. now, 'BYSCORE', 'LIMIT', 0, most)
  if #gone == 0 then
    return 0
  end
  local st, by, dec = {}, {}, {}
  for _, m in ipairs(gone) do
    local status, rest = string.match(m, '^([^|]*)|(.*)$')
    for item in string.gmatch(rest or '', '[^|]+') do
      local id, tags, sid = string.match(item, '^([^:]*):([^:]*):(.*)$')
      if id then
        st[#st + 1] = status .. ':' .. id
        dec[status] = (dec[status] or 0) + 1
        for tag in string.gmatch(tags, '[^,]+') do
          by[#by + 1] = 't:' .. tag .. ':' .. id
        end
        if sid ~= '' then
          by[#by + 1] = 's:' .. sid .. ':' .. id
        end
      end
    end
  end
  variadic('ZREM', expiry, gone)
  variadic('ZREM', status_ix, st)
  variadic('ZREM', by_ix, by)
  for s, n in pairs(dec) do
    redis.call('HINCRBY', counts, s, -n)
  end
  return #gone
end

local trimmed = trim_expired(KEYS[1], KEYS[2], KEYS[3], KEYS[4], now, most)
return {trimmed, trimmed >= most and 1 or 0}
