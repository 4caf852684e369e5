--[[
  Ends a job that has not finished, from outside its tasks: cancelled (POST /v1/jobs/:id/cancel), or
  failed (a job it depends on failed). Nothing new is fed; workers are told to stop its running tasks.

  KEYS[1] job hash   KEYS[2] pool active set   KEYS[3] the job's listing   KEYS[4] its gang rendezvous (both gone with the job's end, as in applyTaskEvents)
  ARGV[1] job id   ARGV[2] now ms   ARGV[3] control channel   ARGV[4] job-changed channel   ARGV[5] reason
  ARGV[6] the final state: "cancelled" or "failed"
  Returns 1 ended; 0 already finished (state unchanged); -1 no such job.
]]
--@include blocks/releaseEndedJob.lua

local st = redis.call("HGET", KEYS[1], "state")
if not st then return -1 end
if st == "succeeded" or st == "failed" or st == "cancelled" then return 0 end
redis.call("HSET", KEYS[1], "state", ARGV[6], "finishedAt", ARGV[2], "reason", ARGV[5])
releaseEndedJob(KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[3])
redis.call("PUBLISH", ARGV[4], ARGV[1])
return 1
