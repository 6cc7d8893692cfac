local d = ngx.shared.s100k
local out = {}
for round = 1, 2 do
  local i = 0
  while i < 2000 do
    i = i + 1
    local ok, err, forcible = d:set("key_" .. i, string.rep(" hello", 10) .. i)
    if not ok or forcible then out[#out+1] = "r" .. round .. " stop " .. i .. " " .. tostring(ok) .. " " .. tostring(err) .. " " .. tostring(forcible) break end
  end
  out[#out+1] = "free " .. d:free_space() .. " keys " .. #d:get_keys(0) .. " k1 " .. tostring(d:get("key_1")) .. " k2 " .. tostring(d:get("key_2"))
end
ngx.say(table.concat(out, "\n"))
