local d = ngx.shared.s200k
local out = {}
local seed = 777
local function rnd(n) seed = (seed * 69069 + 1) % 4294967296 return math.floor(seed / 65536) % n end
for step = 1, 2000 do
  local k = "big" .. rnd(60)
  local r = rnd(4)
  if r == 0 then d:delete(k)
  else
    local sz = r == 1 and (2000 + rnd(20000)) or rnd(3000)
    local ok, err, f = d:set(k, string.rep("b", sz), 0, step)
    if not ok or f then out[#out+1] = step .. " " .. k .. " " .. sz .. " " .. tostring(ok) .. " " .. tostring(err) .. " " .. tostring(f) end
  end
  if step % 50 == 0 then out[#out+1] = step .. " free " .. d:free_space() end
end
out[#out+1] = "keys " .. table.concat(d:get_keys(0), ",")
ngx.say(table.concat(out, "\n"))
