--[[
  Deletes an ended job and everything kept under it (DELETE /v1/jobs/:id): its hash, its task ledger
  (results, failures, done and failed bits, contributors), its listing, its links to evaluations. The
  job's totals are not lost to /metrics: a job the metrics fold has not folded yet (its id is past the
  fold's watermark, services/api/src/metrics/job-fold.ts) is added to the fold here, the same fields the
  fold would add, and the fold's `deleted` count moves so that a fold racing this delete (having read the
  job before it went) is refused and retried, never counting the job twice. What the job spent stays in
  the users' and the month's spend: money spent is history, not the job's.

  KEYS[1] job hash   KEYS[2] jobs index   KEYS[3] metrics fold hash   KEYS[4] the pool's active set
  KEYS[5] the idempotency key that named the job ("" none)   KEYS[6..17] the job's other keys (deleted)
  ARGV[1] job id

  Returns 1 deleted; 0 the job is live (not ended, or tasks of it still counted running); -1 no such job.
]]
local h = redis.call("HMGET", KEYS[1], "state", "pool", "running", "succeeded", "failed", "costUsd", "skipped")
local state = h[1]
if not state then return -1 end
if state ~= "succeeded" and state ~= "failed" and state ~= "cancelled" then return 0 end
if tonumber(h[3] or "0") > 0 then return 0 end

local pool = h[2] or ""
local through = redis.call("HGET", KEYS[3], "through") or ""
if pool ~= "" and ARGV[1] > through then
  redis.call("HINCRBYFLOAT", KEYS[3], "jobs|" .. pool .. "|" .. state, 1)
  -- Less the tasks a skip preset done, as the fold counts them (they never ran).
  redis.call("HINCRBYFLOAT", KEYS[3], "tasks|" .. pool .. "|succeeded", tonumber(h[4] or "0") - tonumber(h[7] or "0"))
  redis.call("HINCRBYFLOAT", KEYS[3], "tasks|" .. pool .. "|failed", h[5] or "0")
  redis.call("HINCRBYFLOAT", KEYS[3], "cost|" .. pool, h[6] or "0")
end
redis.call("HINCRBY", KEYS[3], "deleted", 1)

redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("SREM", KEYS[4], ARGV[1])
if KEYS[5] ~= "" then
  local named = redis.call("GET", KEYS[5])
  if named and string.sub(named, 1, #ARGV[1] + 1) == ARGV[1] .. "|" then redis.call("DEL", KEYS[5]) end
end
redis.call("UNLINK", KEYS[1])
for i = 6, #KEYS do redis.call("UNLINK", KEYS[i]) end
return 1
