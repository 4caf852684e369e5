--[[
  Ends a gang's generation: one of its ranks ended some way other than success (failed, handed back,
  stopped). Its other ranks are told to stop and go back to the queue, and a new generation starts, so
  the whole gang runs again together. Idempotent: only the generation named ends, once.

  KEYS[1] the job's gang hash   ARGV[1] the generation to end   ARGV[2] control channel   ARGV[3] job id
  Returns 1 ended; 0 that generation had already ended.
]]
-- No hash: the job ended and took its gang with it (or none ever formed); nothing to end, nor to recreate.
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
local gen = tonumber(redis.call("HGET", KEYS[1], "gen") or "0")
if gen ~= tonumber(ARGV[1]) then return 0 end
for _, f in ipairs(redis.call("HKEYS", KEYS[1])) do
  if f ~= "gen" then redis.call("HDEL", KEYS[1], f) end
end
redis.call("HSET", KEYS[1], "gen", gen + 1)
redis.call("PUBLISH", ARGV[2], cjson.encode({type = "gang-stop", jobId = ARGV[3], gen = gen}))
return 1
