--[[
  Adds tasks [from, to) of one kumo job to a pool's BullMQ queue in one call: what BullMQ's
  addStandardJob does for each job (5.81: HMSET of the job hash, "added" event, push on the wait list
  or the paused one, marker, "waiting" event), without a client-side Job object, msgpack and script
  call per task, which cost the feeder ~40 us of CPU per task. Kept equal to BullMQ's layout by
  test/queue/feed-tasks.test.ts (a task added here and one added by Queue.addBulk must be
  the same hash, list entry and events); bullmq is pinned to an exact version for that reason.

  A task whose bit is set in the kumo job's done bitmap is not added: it is final already (a skip, or a
  task a rerun leaves out), and no worker need see it.

  KEYS[1] wait  KEYS[2] paused  KEYS[3] meta  KEYS[4] active  KEYS[5] events  KEYS[6] marker  KEYS[7] id
  KEYS[8] the kumo job's done bitmap
  ARGV[1] key prefix of the queue's jobs ("<prefix>:<queue>:")
  ARGV[2] kumo job id
  ARGV[3] from   ARGV[4] to (exclusive)
  ARGV[5] job name (the task's kind)
  ARGV[6] timestamp (ms)
  ARGV[7] the job options as JSON without jobId, without its closing brace (the id is added per task)
  ARGV[8] "1": at the front of the queue, taken next (a job that preempts lower priorities), else at its end
  Returns how many tasks were added (one whose queue id already exists is left alone, as BullMQ does).
]]
local rcall = redis.call
local prefix, kumoJob = ARGV[1], ARGV[2]
local from, to = tonumber(ARGV[3]), tonumber(ARGV[4])
local name, timestamp, optsHead = ARGV[5], ARGV[6], ARGV[7]

local maxEvents = rcall("HGET", KEYS[3], "opts.maxLenEvents")
if not maxEvents then
  maxEvents = 10000
  rcall("HSET", KEYS[3], "opts.maxLenEvents", maxEvents)
end

-- Where new jobs go and whether workers are woken: BullMQ's getTargetQueueList.
local meta = rcall("HMGET", KEYS[3], "paused", "concurrency")
local target, pausedOrMaxed = KEYS[1], false
if meta[1] then
  target, pausedOrMaxed = KEYS[2], true
elseif meta[2] and rcall("LLEN", KEYS[4]) >= tonumber(meta[2]) then
  pausedOrMaxed = true
end

local jobJson = cjson.encode(kumoJob)
local added = 0
local offered = 0
for i = from, to - 1 do
  local id = kumoJob .. "." .. i
  local key = prefix .. id
  local final = rcall("GETBIT", KEYS[8], i) == 1
  if not final then offered = offered + 1 end
  if not final and rcall("EXISTS", key) == 0 then
    local idJson = cjson.encode(id)
    rcall("HMSET", key, "name", name, "data", '{"j":' .. jobJson .. ',"i":' .. i .. '}',
      "opts", optsHead .. ',"jobId":' .. idJson .. '}', "timestamp", timestamp, "delay", 0, "priority", 0)
    rcall("XADD", KEYS[5], "*", "event", "added", "jobId", id, "name", name)
    rcall(ARGV[8] == "1" and "RPUSH" or "LPUSH", target, id)
    rcall("XADD", KEYS[5], "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", id)
    added = added + 1
  end
end
-- BullMQ counts every add in the queue's id counter, custom ids included.
if offered > 0 then rcall("INCRBY", KEYS[7], offered) end
if added > 0 and not pausedOrMaxed then rcall("ZADD", KEYS[6], 0, "0") end
return added
