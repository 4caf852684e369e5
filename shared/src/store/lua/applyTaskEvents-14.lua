--[[
  Applies a batch of one job's task events, idempotently, and moves the job's state.
  A task is final once: SETBIT's old value tells a first report from a repeat, whatever the bus
  redelivers or a retried attempt re-reports. Attempt numbers order the non-final events, so a late
  "started" or "retry" of an older attempt cannot move the running count.
  Invariant kept: running = number of fields in the running hash, all of them not final, so
  queued = total - running - succeeded - failed is never negative and the counts add up.
  The hash's succeeded includes the tasks preset done when the job was made (`skipped`: skip, or the
  tasks a rerun leaves out): they are final from the start, so the job ends when the rest are.
  Hand-backs (rel: preempted, drained, stopped) are counted apart, as infrastructure losses.
  A retry (r) of a task that has now failed on quarantineAfter different workers is final instead.
  c records a checkpoint (the furthest step wins); p keeps the latest in-task progress.
  Cost: every attempt's run time (events that end an attempt carry it) times the pool's price per
  slot-millisecond. A redelivered batch would count time twice, so time is only added by events that
  change the task's state (a first final, or the end of the attempt that is running).

  KEYS[1] job hash   KEYS[2] done bitmap   KEYS[3] running hash   KEYS[4] rate buckets hash
  KEYS[5] failures hash   KEYS[6] results hash   KEYS[7] pool active set   KEYS[8] the job's user's hash
  KEYS[9] the job's listing (source.listing)   KEYS[10] the job's gang rendezvous: only running tasks
  use either, so both go when the job ends
  KEYS[11] failed bitmap (bit i set once task i failed for good: what a rerun of failed tasks runs)
  KEYS[12] the job's contributors hash   KEYS[13] the pool's contributors of the day (jobs/contributors.ts):
  "<succeeded|failed|ms>\n<worker>\n<owner>" -> count, credited where the job's own counts move, so
  their sums equal the job's counts exactly, redeliveries or not
  KEYS[14] this month's spend (spend/spend-report.ts): by user, pool and job, and in all
  ARGV[1] job id   ARGV[2] now ms   ARGV[3] rate bucket ms   ARGV[4] rate buckets kept
  ARGV[5] control channel   ARGV[6] job-changed channel   ARGV[7] USD per slot-millisecond
  ARGV[8]  the events, as a JSON array of [type (s|ok|f|r|rel|c|p), index, attempt, worker, duration ms,
           payload ("" or JSON: the error of f/r, the result of ok, the checkpoint of c, the progress of p),
           owner (the HTTPS worker's token name; "" for kumo's own workers, whose owner is the pool)]
  ARGV[9] the job's pool   ARGV[10] seconds the day's contributors hash is kept
  ARGV[11] the job's user   ARGV[12] seconds the month's spend is kept

  Returns {state, succeeded, failed, running} or {} when the job does not exist (deleted: drop).
]]
--@include blocks/releaseEndedJob.lua

local job = KEYS[1]
local vals = redis.call("HMGET", job, "state", "total", "succeeded", "failed", "running", "maxFailed", "quarantineAfter")
local state = vals[1]
if not state then return {} end
local total = tonumber(vals[2])
local succ = tonumber(vals[3]) or 0
local fail = tonumber(vals[4]) or 0
local run = tonumber(vals[5]) or 0
local maxFailed = tonumber(vals[6]) or 0
local quarantineAfter = tonumber(vals[7]) or 0
local live = (state == "queued" or state == "running" or state == "paused" or state == "budget_exhausted")
local finished = 0
local released = 0
local taskMs = 0
local changed = false

local function attemptOf(cur)
  local sep = string.find(cur, "|", 1, true)
  return tonumber(string.sub(cur, 1, sep - 1))
end

-- The workers a task has failed on so far, with this one: a task that fails on several different
-- machines has a bad input, and is quarantined rather than retried.
local function failedOn(idx, worker, payload)
  local workers = {}
  local prev = redis.call("HGET", KEYS[5], idx)
  if prev then
    local ok, d = pcall(cjson.decode, prev)
    if ok and type(d) == "table" and type(d.workers) == "table" then workers = d.workers end
  end
  local seen = false
  for _, w in ipairs(workers) do if w == worker then seen = true end end
  if not seen then workers[#workers + 1] = worker end
  local ok, rec = pcall(cjson.decode, payload)
  if not ok or type(rec) ~= "table" then rec = {} end
  rec.workers = workers
  return rec, #workers
end

-- Who did the work: counted in the job's and the day's contributors hashes beside the job's own counts.
local credited = false
local function credit(worker, owner, what, n)
  if n == 0 then return end
  local field = what .. "\n" .. worker .. "\n" .. owner
  redis.call("HINCRBY", KEYS[12], field, n)
  redis.call("HINCRBY", KEYS[13], field, n)
  credited = true
end

local function finalFailure(idx, att, dur, rec, worker, owner)
  if redis.call("SETBIT", KEYS[2], idx, 1) == 0 then
    run = run - redis.call("HDEL", KEYS[3], idx)
    finished = finished + 1
    taskMs = taskMs + dur
    fail = fail + 1
    changed = true
    redis.call("HSET", KEYS[5], idx, cjson.encode(rec))
    redis.call("SETBIT", KEYS[11], idx, 1)
    credit(worker, owner, "failed", 1)
    credit(worker, owner, "ms", dur)
  end
end

-- One packed argument, not six per event: a hundred-event batch is one string to send and decode.
local events = cjson.decode(ARGV[8])
for k = 1, #events do
  local ev = events[k]
  local t, idx, att, worker, dur, payload = ev[1], tonumber(ev[2]), tonumber(ev[3]), ev[4], tonumber(ev[5]), ev[6]
  local owner = ev[7]
  if owner == nil or owner == "" then owner = ARGV[9] end
  if idx >= 0 and idx < total then
    if t == "s" then
      if live and redis.call("GETBIT", KEYS[2], idx) == 0 then
        local cur = redis.call("HGET", KEYS[3], idx)
        if not cur then
          redis.call("HSET", KEYS[3], idx, att .. "|" .. worker)
          run = run + 1
          changed = true
        elseif attemptOf(cur) <= att then
          redis.call("HSET", KEYS[3], idx, att .. "|" .. worker)
        end
      end
    elseif t == "ok" or t == "f" then
      if redis.call("SETBIT", KEYS[2], idx, 1) == 0 then
        run = run - redis.call("HDEL", KEYS[3], idx)
        finished = finished + 1
        taskMs = taskMs + dur
        changed = true
        credit(worker, owner, "ms", dur)
        if t == "ok" then
          succ = succ + 1
          credit(worker, owner, "succeeded", 1)
          -- A success after a failed attempt clears that attempt's error.
          if att > 1 then redis.call("HDEL", KEYS[5], idx) end
          if payload ~= "" then redis.call("HSET", KEYS[6], idx, payload) end
        else
          fail = fail + 1
          redis.call("SETBIT", KEYS[11], idx, 1)
          credit(worker, owner, "failed", 1)
          if payload ~= "" then
            local rec = failedOn(idx, worker, payload)
            redis.call("HSET", KEYS[5], idx, cjson.encode(rec))
          end
        end
      end
    elseif t == "r" and quarantineAfter > 0 and payload ~= "" and redis.call("GETBIT", KEYS[2], idx) == 0
        and select(2, failedOn(idx, worker, payload)) >= quarantineAfter then
      local rec = failedOn(idx, worker, payload)
      rec.final = true
      rec.quarantined = true
      finalFailure(idx, att, dur, rec, worker, owner)
    elseif t == "c" then
      -- A checkpoint the task wrote: kept if it is further along than the one recorded.
      local ok, new = pcall(cjson.decode, payload)
      if ok and type(new) == "table" and tonumber(new.step) then
        local cur = redis.call("HGET", job, "checkpoint")
        local curStep = -1
        if cur then
          local ok2, c = pcall(cjson.decode, cur)
          if ok2 and type(c) == "table" then curStep = tonumber(c.step) or -1 end
        end
        if tonumber(new.step) > curStep then
          redis.call("HSET", job, "checkpoint", payload)
          changed = true
        end
      end
    elseif t == "p" then
      if live and redis.call("GETBIT", KEYS[2], idx) == 0 then
        redis.call("HSET", job, "liveProgress", payload)
        changed = true
      end
    elseif t == "r" or t == "rel" then
      local cur = redis.call("HGET", KEYS[3], idx)
      if cur and attemptOf(cur) <= att then
        redis.call("HDEL", KEYS[3], idx)
        run = run - 1
        taskMs = taskMs + dur
        credit(worker, owner, "ms", dur)
        changed = true
        if t == "rel" then released = released + 1 end
      end
      if t == "r" and payload ~= "" and redis.call("GETBIT", KEYS[2], idx) == 0 then
        redis.call("HSET", KEYS[5], idx, cjson.encode((failedOn(idx, worker, payload))))
      end
    end
  end
end

if credited then redis.call("EXPIRE", KEYS[13], tonumber(ARGV[10])) end
local fields = {"succeeded", succ, "failed", fail, "running", run}
if released > 0 then redis.call("HINCRBY", job, "released", released) end
if taskMs > 0 then
  redis.call("HINCRBY", job, "taskMs", taskMs)
  redis.call("HINCRBYFLOAT", job, "costUsd", taskMs * tonumber(ARGV[7]))
  -- The user's spend across all their jobs, for per-user budgets.
  redis.call("HINCRBYFLOAT", KEYS[8], "costUsd", taskMs * tonumber(ARGV[7]))
  -- The month's bill, O(1) a batch: monthly budgets and the spend report read it.
  local cost = taskMs * tonumber(ARGV[7])
  redis.call("HINCRBYFLOAT", KEYS[14], "user:" .. ARGV[11], cost)
  redis.call("HINCRBYFLOAT", KEYS[14], "pool:" .. ARGV[9], cost)
  redis.call("HINCRBYFLOAT", KEYS[14], "job:" .. ARGV[1], cost)
  redis.call("HINCRBYFLOAT", KEYS[14], "all", cost)
  redis.call("EXPIRE", KEYS[14], ARGV[12])
end
if finished > 0 then
  local bucket = math.floor(tonumber(ARGV[2]) / tonumber(ARGV[3]))
  if redis.call("HINCRBY", KEYS[4], bucket, finished) == finished then
    -- A new bucket: forget the one that just left the window.
    redis.call("HDEL", KEYS[4], bucket - tonumber(ARGV[4]))
  end
end
if state == "queued" and (run > 0 or finished > 0) then
  state = "running"
  fields[#fields + 1] = "state"; fields[#fields + 1] = state
  fields[#fields + 1] = "startedAt"; fields[#fields + 1] = ARGV[2]
end
if live then
  local final = nil
  if fail > maxFailed then final = "failed"
  elseif succ + fail >= total then final = "succeeded" end
  if final then
    state = final
    fields[#fields + 1] = "state"; fields[#fields + 1] = final
    fields[#fields + 1] = "finishedAt"; fields[#fields + 1] = ARGV[2]
    if final == "failed" then
      fields[#fields + 1] = "reason"; fields[#fields + 1] = "TOO_MANY_FAILED_TASKS"
    end
    releaseEndedJob(KEYS[7], KEYS[9], KEYS[10], ARGV[1], ARGV[5])
    changed = true
  end
end
redis.call("HSET", job, unpack(fields))
if changed then redis.call("PUBLISH", ARGV[6], ARGV[1]) end
return {state, succ, fail, run}
