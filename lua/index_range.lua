--[[ index_range: the newest ids under some prefixes of one index zset, in one atomic read.

The index zsets (streamfn/index) hold "<prefix><invocation id>" members, every score 0, so a
lex range of one prefix is that prefix's ids in id order, which is creation order.  One call
reads each prefix's newest ids in [ARGV[3], ARGV[2]) and merges them, newest first: an id that
moves between prefixes meanwhile ("live:" to "succeeded:") is seen once, in one of them.
Read-only.

KEYS[1]  {ns:fn}:ix:status or {ns:fn}:ix:by   zset   members "<prefix><id>", score 0

ARGV[1]  count: most ids to return (1..10000)
ARGV[2]  exclusive upper bound on ids (the cursor: the last id already seen), or "" for none
ARGV[3]  inclusive lower bound on ids, or "" for none
ARGV[4..n] prefixes, e.g. "succeeded:", "t:blue:"

Returns  flat array {id, prefix number (1-based, in ARGV order), ...}: at most count ids,
         newest (greatest) first; a prefix's ids past the first count are not read
]]
local count = tonumber(ARGV[1])
local below, from = ARGV[2], ARGV[3]
local rows = {}
for p = 4, #ARGV do
  local prefix = ARGV[p]
  local max = '(' .. prefix .. (below ~= '' and below or '\255')
  local min = '[' .. prefix .. from
  local n = #prefix
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], max, min, 'BYLEX', 'REV', 'LIMIT', 0, count)) do
    rows[#rows + 1] = {string.sub(m, n + 1), p - 3}
  end
end
table.sort(rows, function(a, b) return a[1] > b[1] end)
local out = {}
for i = 1, math.min(count, #rows) do
  out[#out + 1] = rows[i][1]
  out[#out + 1] = rows[i][2]
end
return out
