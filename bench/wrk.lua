-- wrk script for the benchmark: one header (token or session cookie), paths drawn at
-- random from a file (one per line), and the figures printed as one JSON line.
local paths = {}

init = function(args)
  local file = os.getenv("BENCH_PATHS_FILE")
  for line in io.lines(file) do
    if line ~= "" then table.insert(paths, line) end
  end
  local name = os.getenv("BENCH_HEADER_NAME")
  if name and name ~= "" then
    wrk.headers[name] = os.getenv("BENCH_HEADER_VALUE")
  end
  local accept = os.getenv("BENCH_ACCEPT")
  if accept and accept ~= "" then wrk.headers["Accept"] = accept end
  math.randomseed(tonumber(os.getenv("BENCH_RANDOM_SEED") or "1") + (args and #args or 0))
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"errors_status":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
