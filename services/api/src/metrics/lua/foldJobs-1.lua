--[[
  Folds the totals of jobs that ended long ago into the metrics hash and moves its watermark past
  them, only if no other API process moved it since the caller read it (compare and set): several
  API processes may serve /metrics at once, and a double fold would count those jobs twice.

  KEYS[1] the fold hash (Keys.metricsJobFold)
  ARGV[1] the watermark the caller read ("" = none yet)   ARGV[2] the count of deleted jobs it read
  (field `deleted`, moved by deleteJob-17.lua, which folds a deleted job itself)   ARGV[3] the new
  watermark (a job id)   ARGV[4..] pairs: field, increment (a number; counts and USD alike)

  Returns 1 folded; 0 the watermark had moved (or a job was deleted), nothing changed (the caller's totals are still right
  for the watermark it read, so it answers with them and folds on a later scrape).
]]
local cur = redis.call("HGET", KEYS[1], "through") or ""
if cur ~= ARGV[1] then return 0 end
if (redis.call("HGET", KEYS[1], "deleted") or "0") ~= ARGV[2] then return 0 end
for i = 4, #ARGV, 2 do
  redis.call("HINCRBYFLOAT", KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call("HSET", KEYS[1], "through", ARGV[3])
return 1
