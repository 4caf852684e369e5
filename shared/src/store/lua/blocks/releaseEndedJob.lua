--[[
  What a job's end does beyond its own hash, written once for every script that ends a job
  (applyTaskEvents-13.lua, endJob-4.lua): nothing more is fed (it leaves its pool's active set), the
  gang rendezvous goes (only running tasks read it), the listing is kept 30 days (LISTING_KEPT_DAYS,
  jobs/job-listing.ts: a rerun copies it) and then goes, and workers are told to stop its running tasks.

  releaseEndedJob(pool active set key, listing key, gang key, job id, control channel)
]]
local function releaseEndedJob(active, listing, gang, jobId, control)
  redis.call("SREM", active, jobId)
  redis.call("UNLINK", gang)
  redis.call("EXPIRE", listing, 2592000)
  redis.call("PUBLISH", control, cjson.encode({type = "stop", jobId = jobId}))
end
