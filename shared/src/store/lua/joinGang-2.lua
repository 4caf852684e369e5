--[[
  A rank of a gang job joins the generation now forming (shared/src/jobs/gang-store.ts). Every r<rank>
  field in the hash belongs to the current generation: a new generation starts with none.

  KEYS[1] the job's gang hash: gen -> the current generation; r<rank> -> JSON {worker, addr, holder, at}
  KEYS[2] the job's hash: a job that ended (or is gone) has no gang to join, and its gang key stays deleted
  ARGV[1] rank   ARGV[2] worker id   ARGV[3] the worker's address   ARGV[4] holder: the queue lock token
  of this run of the task (a new run of the same rank has another)   ARGV[5] now ms
  ARGV[6] control channel   ARGV[7] job id

  Returns {1, gen} joined; {0, gen} not joined: this worker already holds another rank of the
  generation (a VM runs one rank of a gang, never two); {-1, 0} the job has ended.
]]
local state = redis.call("HGET", KEYS[2], "state")
if not state or state == "succeeded" or state == "failed" or state == "cancelled" then return {-1, 0} end
local gen = tonumber(redis.call("HGET", KEYS[1], "gen") or "0")
local mine = "r" .. ARGV[1]

local prev = redis.call("HGET", KEYS[1], mine)
if prev and cjson.decode(prev).holder ~= ARGV[4] then
  -- Another run holds this rank in this generation, so that run's worker was lost (its task came
  -- back to the queue without a word). The generation cannot go on without it: its ranks are told to
  -- stop (they go back to the queue too) and a new generation starts, with this run in it.
  for _, f in ipairs(redis.call("HKEYS", KEYS[1])) do
    if f ~= "gen" then redis.call("HDEL", KEYS[1], f) end
  end
  redis.call("PUBLISH", ARGV[6], cjson.encode({type = "gang-stop", jobId = ARGV[7], gen = gen}))
  gen = gen + 1
end

for _, f in ipairs(redis.call("HKEYS", KEYS[1])) do
  if f ~= "gen" and f ~= mine and cjson.decode(redis.call("HGET", KEYS[1], f)).worker == ARGV[2] then
    return {0, gen}
  end
end
redis.call("HSET", KEYS[1], "gen", gen, mine, cjson.encode({worker = ARGV[2], addr = ARGV[3], holder = ARGV[4], at = tonumber(ARGV[5])}))
return {1, gen}
