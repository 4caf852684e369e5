--[[
  Renews the scheduler's leader lease, only if this scheduler still holds it (compare and act): a
  leader whose lease expired can never extend the new leader's (services/scheduler/src/leader-lease.ts).

  KEYS[1] the lease (Keys.leader)
  ARGV[1] the holder (this scheduler's id)   ARGV[2] the lease's time to live, ms

  Returns 1 renewed; 0 held by another, or by none.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end
