local d = ngx.shared.s64k
local seed = 12345
local function rnd(n) seed = (seed * 69069 + 1) % 4294967296 return math.floor(seed / 65536) % n end
local out = {}
for step = 1, 3000 do
  local op = rnd(10)
  local k = "k" .. rnd(300)
  if op < 6 then
    local sz = rnd(6) == 0 and rnd(9000) or rnd(200)
    local ok, err, forcible = d:set(k, string.rep("x", sz))
    if not ok or forcible then out[#out+1] = step .. " set " .. k .. " " .. sz .. " " .. tostring(ok) .. " " .. tostring(err) .. " " .. tostring(forcible) end
  elseif op < 8 then
    d:delete(k)
  elseif op < 9 then
    local ok, err, forcible = d:safe_add(k, rnd(1000))
    if not ok and err ~= "exists" then out[#out+1] = step .. " safe_add " .. k .. " " .. tostring(err) end
  else
    local v, err, forcible = d:incr(k, 1, 0)
    if not v or forcible then out[#out+1] = step .. " incr " .. k .. " " .. tostring(v) .. " " .. tostring(err) .. " " .. tostring(forcible) end
  end
  if step % 100 == 0 then out[#out+1] = step .. " free " .. d:free_space() .. " n " .. #d:get_keys(0) end
end
local keys = d:get_keys(0)
out[#out+1] = "keys " .. table.concat(keys, ",")
ngx.say(table.concat(out, "\n"))
