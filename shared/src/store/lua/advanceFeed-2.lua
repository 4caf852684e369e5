--[[
  Moves a job's feed cursor after its tasks were added to the queue (add first, then advance: a crash
  in between re-adds the same task ids, which the queue dedupes, instead of losing tasks).
  Compare-and-set, so two feeders can never both advance from the same cursor.
  A job with tasks preset done (`skipped`: skip, or the tasks a rerun leaves out) has its cursor moved
  on past the done tasks that follow, so a run of them costs the feeder no tick: 29,990 tasks left out
  between two that rerun are one step, not 29,990 / window of them.

  KEYS[1] job hash   KEYS[2] done bitmap
  ARGV[1] expected cursor   ARGV[2] new cursor
  Returns 1 moved; 0 the cursor moved meanwhile or the job no longer feeds.
]]
local st = redis.call("HGET", KEYS[1], "state")
if st ~= "queued" and st ~= "running" then return 0 end
if redis.call("HGET", KEYS[1], "fed") ~= ARGV[1] then return 0 end
local cursor = tonumber(ARGV[2])
if tonumber(redis.call("HGET", KEYS[1], "skipped") or "0") > 0 then
  local total = tonumber(redis.call("HGET", KEYS[1], "total"))
  -- Bit by bit up to a byte boundary, then whole bytes with BITPOS (byte offsets: any Redis 6 or 7).
  while cursor < total and cursor % 8 ~= 0 and redis.call("GETBIT", KEYS[2], cursor) == 1 do cursor = cursor + 1 end
  if cursor < total and cursor % 8 == 0 and redis.call("GETBIT", KEYS[2], cursor) == 1 then
    local free = redis.call("BITPOS", KEYS[2], 0, cursor / 8)
    -- -1: no clear bit in the bytes the bitmap has; past them every bit is clear.
    if free == -1 then free = redis.call("STRLEN", KEYS[2]) * 8 end
    cursor = free
  end
  if cursor > total then cursor = total end
end
redis.call("HSET", KEYS[1], "fed", cursor)
return 1
