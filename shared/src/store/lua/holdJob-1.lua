--[[
  Holds or releases a job's feeding: paused (POST /v1/jobs/:id/pause), budget_exhausted (the next task
  would cross its budget), or back to running. Tasks already running finish either way. The caller
  says which states may move (from job-state.ts); optionally sets a new budget in the same step.

  KEYS[1] job hash
  ARGV[1] job id   ARGV[2] comma list of states it may move from   ARGV[3] new state ("" = none)
  ARGV[4] job-changed channel   ARGV[5] reason ("" for none)   ARGV[6] new maxCostUsd ("" to keep)
  Returns the state after the call, or "" when the job does not exist.
]]
local st = redis.call("HGET", KEYS[1], "state")
if not st then return "" end
local changed = false
if ARGV[6] ~= "" then
  redis.call("HSET", KEYS[1], "maxCostUsd", ARGV[6])
  changed = true
end
if ARGV[3] ~= "" and ARGV[3] ~= st and string.find("," .. ARGV[2] .. ",", "," .. st .. ",", 1, true) then
  redis.call("HSET", KEYS[1], "state", ARGV[3], "reason", ARGV[5])
  st = ARGV[3]
  changed = true
end
if changed then redis.call("PUBLISH", ARGV[4], ARGV[1]) end
return st
