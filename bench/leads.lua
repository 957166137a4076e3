-- POST /api/v1/leads with a new, valid US phone number on every request, so each one is a real
-- new lead (not a duplicate): 612-NXX-XXXX with NXX from 200 to 899, varied by thread.
local counter = 0
-- `thread_no` is set per thread by setup() (a global: a local here would hide it).
local threads = {}

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

-- An optional argument offsets the numbers, so a warm-up run does not make duplicates of the
-- measured run's leads (`wrk ... -s bench/leads.lua URL -- 500000`).
function init(args)
  counter = (thread_no or 0) * 1000000 + (tonumber(args[1]) or 0)
end

local categories = { "burst-pipe", "drain-cleaning", "clogged-toilet", "water-heater-repair", "leak-detection" }

function request()
  counter = counter + 1
  local nxx = 200 + (math.floor(counter / 10000) % 700)
  if nxx % 100 == 11 then nxx = nxx + 1 end
  local phone = string.format("612%03d%04d", nxx, counter % 10000)
  local category = categories[(counter % #categories) + 1]
  local body = string.format(
    '{"name":"Bench Homeowner","phone":"%s","zip":"55401","category":"%s","urgency":"within_48h",' ..
    '"description":"Benchmark request number %d, kitchen sink drains slowly","consent":true}',
    phone, category, counter)
  return wrk.format("POST", "/api/v1/leads", { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  local created = summary.requests - (summary.errors.status or 0)
  io.write(string.format("created %d non2xx %d\n", created, summary.errors.status or 0))
end
