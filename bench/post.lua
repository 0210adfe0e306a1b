-- wrk script for bench/run.sh: POSTs a small chat completion with the bench key, and at
-- the end prints one machine-readable line:
--   BENCH requests=N duration_us=N rps=X p50_us=N p99_us=N mean_us=X non2xx=N
--         connect_err=N read_err=N write_err=N timeout_err=N
-- Environment: BENCH_KEY (the hub API key; sent to every target, ignored by the mocks),
--              BENCH_MODEL (default bench-model).

local key = os.getenv("BENCH_KEY") or ""
local model = os.getenv("BENCH_MODEL") or "bench-model"

wrk.method = "POST"
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"hi"}]}'
wrk.headers["Content-Type"] = "application/json"
if key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d mean_us=%.1f non2xx=%d " ..
    "connect_err=%d read_err=%d write_err=%d timeout_err=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(99), latency.mean, e.status,
    e.connect, e.read, e.write, e.timeout))
end
