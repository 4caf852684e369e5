--[[
  A lease's record and its task's queue lock, read together (services/api/src/workers/lease-records.ts):
  whether a lease is still held is asked on every heartbeat and outcome, and the lock's key is known
  only from the record, so two reads in a row would cost two round trips.

  KEYS[1] the lease record (JSON; its `lockKey` is the task's BullMQ lock, written at lease time)

  Returns {} no record (expired, or never granted); {record} a record without `lockKey` (written before
  the field existed: the caller reads the lock itself); {record, lock} the lock's token, "" when the
  lock is gone. The lock key is read from the record rather than passed in KEYS: only the record
  names it, and kumo's Redis is never a cluster (BullMQ's own scripts build keys the same way).
]]
local raw = redis.call('GET', KEYS[1])
if not raw then return {} end
local ok, rec = pcall(cjson.decode, raw)
if not ok or type(rec) ~= 'table' or type(rec.lockKey) ~= 'string' then return {raw} end
local lock = redis.call('GET', rec.lockKey)
return {raw, lock or ''}
