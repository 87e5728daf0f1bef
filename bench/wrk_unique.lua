-- bench/wrk_unique.lua: like wrk_json.lua, but every request carries a query parameter of its own
-- (_bench=<thread>-<n>), so the server cannot answer it from its answer cache: this measures the query
-- and render path. The parameter is not an API parameter; the server ignores it.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_json.lua")  -- defines done()

local count = 0
setup = function(thread)
  count = count + 1
  thread:set("tid", count)
end

init = function(args)
  n = 0
  sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
end

request = function()
  n = n + 1
  return wrk.format(nil, wrk.path .. sep .. "_bench=" .. tostring(tid) .. "-" .. n)
end
