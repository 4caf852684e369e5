--[[
  Gives a training job's checkpoint step one of the job's evaluation slots, so that however many
  checkpoints its tasks report, and however many schedulers start evaluations at once, no more than
  the cap are ever started. A step that has its slot keeps it (a redelivery starts the same job again,
  idempotently); a step refused stays refused while the slots are taken.

  KEYS[1] the training job's steps that have a slot (a set)
  ARGV[1] the step   ARGV[2] the cap

  Returns 1 when the step has its slot (now or before), 0 when every slot is taken.
]]
if redis.call("SISMEMBER", KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call("SCARD", KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call("SADD", KEYS[1], ARGV[1])
return 1
