--[[
  Checks a user's quota and takes room in it atomically (services/api/src/plugins/quotas.ts). A member
  already there counts once; its bytes are replaced.

  KEYS[1] the user's live-jobs sorted set (member: a job id or a reservation, score: the listing bytes
          it holds in Redis)
  ARGV[1] max live jobs (0: no cap)   ARGV[2] max listing bytes (0: no cap)   ARGV[3] n
  ARGV[4..] n pairs: member, bytes

  Returns {0} taken; {1, live jobs} over the job cap; {2, bytes held} over the byte cap (nothing changed).
]]
local maxJobs, maxBytes, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local fresh, delta = 0, 0
for i = 1, n do
  local old = redis.call('ZSCORE', KEYS[1], ARGV[2 + 2 * i])
  local bytes = tonumber(ARGV[3 + 2 * i])
  if old then delta = delta + bytes - tonumber(old) else fresh = fresh + 1; delta = delta + bytes end
end
local count = redis.call('ZCARD', KEYS[1])
if maxJobs > 0 and fresh > 0 and count + fresh > maxJobs then return {1, count} end
if maxBytes > 0 and delta > 0 then
  local held = 0
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 2, #all, 2 do held = held + tonumber(all[i]) end
  if held + delta > maxBytes then return {2, held} end
end
for i = 1, n do redis.call('ZADD', KEYS[1], ARGV[3 + 2 * i], ARGV[2 + 2 * i]) end
return {0}
