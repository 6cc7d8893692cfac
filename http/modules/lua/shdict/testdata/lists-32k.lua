local d = ngx.shared.s32k
local out = {}
local i = 0
while true do
  i = i + 1
  local n, err = d:rpush("list" .. (i % 3), i % 2 == 0 and string.rep("v", i % 50) or i)
  if not n then out[#out+1] = "stop " .. i .. " " .. tostring(n) .. " " .. tostring(err) break end
end
out[#out+1] = "free " .. d:free_space() .. " llen " .. d:llen("list0") .. " " .. d:llen("list1") .. " " .. d:llen("list2")
for j = 1, 40 do d:lpop("list1") end
out[#out+1] = "free " .. d:free_space() .. " llen1 " .. d:llen("list1")
local n, err = d:lpush("newlist" .. string.rep("z", 100), "abc")
out[#out+1] = "newlist " .. tostring(n) .. " " .. tostring(err)
local ok, err, f = d:set("plain", string.rep("p", 3000))
out[#out+1] = "set " .. tostring(ok) .. " " .. tostring(err) .. " " .. tostring(f) .. " free " .. d:free_space()
out[#out+1] = "keys " .. table.concat(d:get_keys(0), ",")
ngx.say(table.concat(out, "\n"))
