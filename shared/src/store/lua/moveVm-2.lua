--[[
  Moves a VM record to a new state, if the move is allowed from where it is (the rules are in
  fleet/vm.ts; the caller passes the states allowed to move to ARGV[3]). Creates the record when the
  new state is "requested" and there is none. Terminal records leave the pool's live set.

  KEYS[1] vm hash   KEYS[2] pool vms set
  ARGV[1] vm name   ARGV[2] new state   ARGV[3] comma list of states it may move from
  ARGV[4] now ms    ARGV[5] 1 if the new state is terminal   ARGV[6..] extra field, value pairs
  Returns {1, from} moved; {0, from} not allowed (unchanged); {-1} no record.
]]
local cur = redis.call("HGET", KEYS[1], "state")
if not cur then
  if ARGV[2] ~= "requested" then return {-1} end
  cur = ""
elseif not string.find("," .. ARGV[3] .. ",", "," .. cur .. ",", 1, true) then
  return {0, cur}
end
local fields = {"state", ARGV[2], "stateAt", ARGV[4]}
if cur == "" then fields[#fields + 1] = "createdAt"; fields[#fields + 1] = ARGV[4] end
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call("HSET", KEYS[1], unpack(fields))
if ARGV[5] == "1" then
  redis.call("SREM", KEYS[2], ARGV[1])
  redis.call("EXPIRE", KEYS[1], 86400)
else
  redis.call("SADD", KEYS[2], ARGV[1])
end
return {1, cur}
