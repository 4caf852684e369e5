--[[
  Moves a job's feed cursor after its tasks were added to the queue (add first, then advance: a crash
  in between re-adds the same task ids, which the queue dedupes, instead of losing tasks).
  Compare-and-set, so two feeders can never both advance from the same cursor.

  KEYS[1] job hash
  ARGV[1] expected cursor   ARGV[2] new cursor
  Returns 1 moved; 0 the cursor moved meanwhile or the job no longer feeds.
]]
local st = redis.call("HGET", KEYS[1], "state")
if st ~= "queued" and st ~= "running" then return 0 end
if redis.call("HGET", KEYS[1], "fed") ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "fed", ARGV[2])
return 1
