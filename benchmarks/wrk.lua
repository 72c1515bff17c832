-- wrk script for benchmarks/load.py: cycles through pre-generated requests (one per line of
-- the file given after `--`: path, then tab-separated "Name: value" headers), each of the
-- N threads (third argument) taking every Nth line; with "conditional", keeps each path's
-- ETag and sends
-- If-None-Match. Run with one connection per thread (-t N -c N), so a response always
-- belongs to the request sent just before it. done() prints one JSON line.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  reqs, etags = {}, {}
  conditional = args[2] == "conditional"
  local n, lineno = tonumber(args[3]), 0
  for line in io.lines(args[1]) do
    lineno = lineno + 1
    if lineno % n == id % n then
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do table.insert(fields, field) end
    local headers = {}
    for k = 2, #fields do
      local name, value = string.match(fields[k], "^([^:]+): (.*)$")
      headers[name] = value
    end
    table.insert(reqs, {path = fields[1], headers = headers})
    end
  end
  i = 0
  ok, not_modified, failed, bytes = 0, 0, 0, 0
  samples = ""
end

function request()
  i = i % #reqs + 1
  local r = reqs[i]
  last = r.path
  local headers = r.headers
  if conditional and etags[last] then
    headers = {}
    for k, v in pairs(r.headers) do headers[k] = v end
    headers["If-None-Match"] = etags[last]
  end
  return wrk.format("GET", r.path, headers)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    bytes = bytes + #body
    local tag = headers["ETag"] or headers["etag"]
    if conditional and tag then etags[last] = tag end
  elseif status == 304 then
    not_modified = not_modified + 1
  else
    failed = failed + 1
    if #samples < 300 then
      samples = samples .. "HTTP " .. status .. ": " .. string.sub(body, 1, 120) .. " | "
    end
  end
end

function done(summary, latency, requests)
  local ok_n, nm_n, fail_n, bytes_n, text = 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    ok_n = ok_n + t:get("ok")
    nm_n = nm_n + t:get("not_modified")
    fail_n = fail_n + t:get("failed")
    bytes_n = bytes_n + t:get("bytes")
    text = text .. t:get("samples")
  end
  local e = summary.errors
  text = string.gsub(string.gsub(text, "\\", "\\\\"), '"', '\\"')
  text = string.gsub(text, "[%c]", " ")
  io.write(string.format(
    '{"ok":%d,"not_modified":%d,"failed":%d,"bytes":%d,"duration_us":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"samples":"%s"}\n',
    ok_n, nm_n, fail_n, bytes_n, summary.duration,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max, text))
end
