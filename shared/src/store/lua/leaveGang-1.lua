--[[
  A rank that gives up waiting (the rendezvous timed out, or its run is being stopped) leaves the
  generation, so that its next run joins it again instead of being taken for a lost one. Unless the
  gang has formed meanwhile (the last rank joined after this one last looked): then nothing is
  removed, and the caller runs with it (a timeout) or ends the generation (a stop).

  KEYS[1] the job's gang hash   ARGV[1] rank   ARGV[2] holder (the run that joined)   ARGV[3] gang size
  Returns 1 left; 0 the rank was not held by that run (the generation moved on); 2 the gang formed.
]]
local f = "r" .. ARGV[1]
local cur = redis.call("HGET", KEYS[1], f)
if not cur or cjson.decode(cur).holder ~= ARGV[2] then return 0 end
if redis.call("HLEN", KEYS[1]) - 1 >= tonumber(ARGV[3]) then return 2 end
redis.call("HDEL", KEYS[1], f)
return 1
