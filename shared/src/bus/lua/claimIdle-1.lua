--[[
  Takes over stream entries whose consumer has let them sit unacked past the ack deadline (it died, or
  its handler threw), and says how often each has been delivered, in one round trip. XAUTOCLAIM alone
  answers without the delivery counts; the handler needs them as `deliveryAttempt`, and the bus needs
  them to park poison messages. XAUTOCLAIM has already counted this delivery.

  KEYS[1] the topic's stream
  ARGV[1] consumer group   ARGV[2] consumer taking the entries   ARGV[3] min idle ms
  ARGV[4] scan cursor ("0-0" starts over)   ARGV[5] max entries
  Returns {next cursor, {{entry id, {field, value, ...}}, ...}, {delivery count per entry, same order},
           {ids of entries trimmed from the stream while pending (XAUTOCLAIM dropped them from the PEL)}}
]]
local res = redis.call("XAUTOCLAIM", KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], "COUNT", ARGV[5])
local entries = {}
local counts = {}
for _, entry in ipairs(res[2]) do
  -- Redis 6.2 put a nil where an entry had been deleted; 7.x lists those ids in res[3] instead.
  if entry then
    local p = redis.call("XPENDING", KEYS[1], ARGV[1], entry[1], entry[1], 1)
    entries[#entries + 1] = entry
    counts[#counts + 1] = p[1] and p[1][4] or 1
  end
end
return {res[1], entries, counts, res[3] or {}}
