--[[
  A rank that gave up waiting (the rendezvous timed out, or its worker is stopping) leaves the
  generation, so that its next run joins it again instead of being taken for a lost one.

  KEYS[1] the job's gang hash   ARGV[1] rank   ARGV[2] holder (the run that joined)
  Returns 1 left; 0 the rank was not held by that run (the generation moved on).
]]
local f = "r" .. ARGV[1]
local cur = redis.call("HGET", KEYS[1], f)
if cur and cjson.decode(cur).holder == ARGV[2] then
  redis.call("HDEL", KEYS[1], f)
  return 1
end
return 0
