--[[
  What a job's end does beyond its own hash, written once for every script that ends a job
  (applyTaskEvents-10.lua, endJob-4.lua): nothing more is fed (it leaves its pool's active set), the
  listing and gang rendezvous go (only running tasks read them), and workers are told to stop its
  running tasks.

  releaseEndedJob(pool active set key, listing key, gang key, job id, control channel)
]]
local function releaseEndedJob(active, listing, gang, jobId, control)
  redis.call("SREM", active, jobId)
  redis.call("UNLINK", listing, gang)
  redis.call("PUBLISH", control, cjson.encode({type = "stop", jobId = jobId}))
end
