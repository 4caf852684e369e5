--[[
  Pauses or resumes a job's feeding for its budget: running|queued -> budget_exhausted (the feeder
  found the next task would cross the budget), or budget_exhausted -> running (the budget was raised).
  Optionally sets a new budget in the same step.

  KEYS[1] job hash   KEYS[2] pool active set
  ARGV[1] job id   ARGV[2] "pause" | "resume" | "set"   ARGV[3] now ms   ARGV[4] job-changed channel
  ARGV[5] reason ("" for none)   ARGV[6] new maxCostUsd ("" to keep)
  Returns the state after the call, or "" when the job does not exist.
]]
local st = redis.call("HGET", KEYS[1], "state")
if not st then return "" end
if ARGV[6] ~= "" then redis.call("HSET", KEYS[1], "maxCostUsd", ARGV[6]) end
local to = st
if ARGV[2] == "pause" and (st == "queued" or st == "running") then to = "budget_exhausted" end
if ARGV[2] == "resume" and st == "budget_exhausted" then to = "running" end
if to ~= st then
  redis.call("HSET", KEYS[1], "state", to, "reason", ARGV[5])
  redis.call("PUBLISH", ARGV[4], ARGV[1])
elseif ARGV[6] ~= "" then
  redis.call("PUBLISH", ARGV[4], ARGV[1])
end
return to
