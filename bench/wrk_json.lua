-- bench/wrk_json.lua: after wrk's usual summary, print one line "BENCHJSON {...}" that bench/run.py parses.
-- Only done() is defined: a request()/response() hook would run Lua on every request and slow wrk down.
done = function(summary, latency, requests)
  local e = summary.errors
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                  e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}',
                  latency:percentile(50), latency:percentile(90), latency:percentile(99),
                  latency.max, latency.mean),
  }
  io.write("BENCHJSON {" .. table.concat(fields, ",") .. "}\n")
end
