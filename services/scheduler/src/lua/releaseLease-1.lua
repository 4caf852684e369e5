--[[
  Releases the scheduler's leader lease at shutdown, only if this scheduler still holds it (compare and
  act): a leader whose lease expired can never drop the new leader's, so another takes over at once.

  KEYS[1] the lease (Keys.leader)
  ARGV[1] the holder (this scheduler's id)

  Returns 1 released; 0 held by another, or by none.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end
