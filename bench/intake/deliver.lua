-- wrk script: signed GitHub deliveries, each with its own X-GitHub-Delivery.
-- The signature covers only the body, so run.py precomputes bodies and signatures and lists them in
-- BENCH_MANIFEST ("event signature path" per line); the delivery id is made up per request here.

local next_tid = 0
local threads = {}

function setup(thread)
   next_tid = next_tid + 1
   thread:set("tid", next_tid)
   table.insert(threads, thread)
end

local reqs = {}
local counter = 0
local nonce = os.getenv("BENCH_NONCE") or "run"
non2xx = 0  -- a global: done() reads it from each thread with t:get

function init(args)
   local manifest = assert(os.getenv("BENCH_MANIFEST"), "BENCH_MANIFEST is not set")
   for line in io.lines(manifest) do
      local event, sig, path = line:match("^(%S+) (%S+) (%S+)$")
      local f = assert(io.open(path, "rb"))
      local body = f:read("*a")
      f:close()
      table.insert(reqs, { event = event, sig = sig, body = body })
   end
end

function request()
   counter = counter + 1
   local r = reqs[(counter % #reqs) + 1]
   return wrk.format("POST", "/webhook", {
      ["Content-Type"] = "application/json",
      ["User-Agent"] = "GitHub-Hookshot/bench",
      ["X-GitHub-Event"] = r.event,
      ["X-GitHub-Delivery"] = string.format("%s-%d-%d", nonce, tid, counter),
      ["X-Hub-Signature-256"] = r.sig,
   }, r.body)
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local n = 0
   for _, t in ipairs(threads) do
      n = n + (t:get("non2xx") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f}\n',
      summary.requests, summary.duration, summary.bytes, n,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
