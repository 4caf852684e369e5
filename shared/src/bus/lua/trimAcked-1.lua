--[[
  Trims a topic stream of what every consumer group is done with, so memory follows the messages in
  flight, not all the messages ever sent. Keeps everything from the oldest entry any group still needs:
  its oldest pending (delivered, not acked) entry, or, with none pending, what comes after the last
  entry it was given. A group that has read nothing keeps the whole stream. MAXLEN on XADD stays as a
  backstop only.

  KEYS[1] stream
  Returns the number of entries trimmed.
]]
local function less(a, b)
  local am, as = string.match(a, "^(%d+)-(%d+)$")
  local bm, bs = string.match(b, "^(%d+)-(%d+)$")
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
local keep = nil
for _, g in ipairs(redis.call("XINFO", "GROUPS", KEYS[1])) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local need
  if tonumber(info["pending"]) > 0 then
    need = redis.call("XPENDING", KEYS[1], info["name"])[2]
  else
    -- Entries up to last-delivered are acked; MINID keeps ids >= need, so step one past it.
    local ms, seq = string.match(info["last-delivered-id"], "^(%d+)-(%d+)$")
    need = ms .. "-" .. (tonumber(seq) + 1)
  end
  if keep == nil or less(need, keep) then keep = need end
end
if keep == nil then return 0 end
return redis.call("XTRIM", KEYS[1], "MINID", "~", keep)
