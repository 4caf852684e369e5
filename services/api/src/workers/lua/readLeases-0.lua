--[[
  Many leases' records and their tasks' queue locks in one call (services/api/src/workers/lease-records.ts,
  readMany): a batched completion reads every lease it names at once, each as readLease-1.lua reads one.

  ARGV the lease records' keys. They come as ARGV, not KEYS, because their number varies with the batch and
  a script's KEYS are fixed by its name; the locks' keys are taken from the records as readLease-1.lua does
  (kumo's Redis is never a cluster).

  Returns a flat array, three entries per lease in ARGV order: the record (JSON, "" when there is none),
  "1" when the record names its lock's key and the lock was read ("0": no record, or one written before
  `lockKey`, whose lock the caller reads itself), and the lock's token ("" when the lock is gone).
]]
local out = {}
for i = 1, #ARGV do
  local raw = redis.call('GET', ARGV[i])
  local known, lock = '0', ''
  if raw then
    local ok, rec = pcall(cjson.decode, raw)
    if ok and type(rec) == 'table' and type(rec.lockKey) == 'string' then
      known = '1'
      lock = redis.call('GET', rec.lockKey) or ''
    end
  end
  out[#out + 1] = raw or ''
  out[#out + 1] = known
  out[#out + 1] = lock
end
return out
