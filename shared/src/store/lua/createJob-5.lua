--[[
  Creates a job record in one step, or returns the job an idempotency key already names.
  O(1) in the job's task count: the job is a record and a range, never a list of tasks.

  KEYS[1] job hash            KEYS[2] jobs index (zset)   KEYS[3] pool active set
  KEYS[4] idempotency key (or "" when none)               KEYS[5] pool settings hash (must exist)
  ARGV[1] job id   ARGV[2] idempotency ttl seconds   ARGV[3] fingerprint of the request body
  ARGV[4..] field, value pairs for the job hash

  Returns {1, id} created; {2, id} an existing job for this key (same body);
          {-1, id} the key was used with another body; {-2} the pool does not exist.
]]
if KEYS[4] ~= "" then
  local prev = redis.call("GET", KEYS[4])
  if prev then
    local sep = string.find(prev, "|", 1, true)
    local prevId = string.sub(prev, 1, sep - 1)
    if string.sub(prev, sep + 1) == ARGV[3] then return {2, prevId} end
    return {-1, prevId}
  end
end
if redis.call("EXISTS", KEYS[5]) == 0 then return {-2} end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call("HSET", KEYS[1], unpack(fields))
redis.call("ZADD", KEYS[2], 0, ARGV[1])
redis.call("SADD", KEYS[3], ARGV[1])
if KEYS[4] ~= "" then
  redis.call("SET", KEYS[4], ARGV[1] .. "|" .. ARGV[3], "EX", tonumber(ARGV[2]))
end
return {1, ARGV[1]}
