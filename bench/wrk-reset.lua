-- wrk request generator for the reset route (see BENCHMARKS.md, "Requests").
--   wrk -t<T> ... -s bench/wrk-reset.lua <url> -- <mode> <offset> <T>
-- mode "unique":  request i is a new account from a new IP, /24 and device shape, so
--                 riskgate's velocity and distinct counters stay low and every request
--                 takes the allow path (the harness checks the origin saw each one).
-- mode "blocked": every request is the same account, IP and device: the identity the
--                 harness flooded until riskgate blocked it (scenario d).
-- Every scenario gets byte-for-byte the same shape of request, baseline included.
-- done() prints one JSON line the harness parses.

local mode = "unique"
local offset = 0
local stride = 1
local counter = 0
local started = 0

local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
}
-- The client hints each agent sends (Chromium sends them to secure origins; Safari and
-- Firefox do not). A Chromium UA without them, from one of the hosting networks among the
-- stream's ASNs, is a copied UA on a server to riskgate (`datacenter-browser-hints`): before
-- these, ~0.3 % of the allow stream was rightly challenged.
local CH_UA = '"Not)A;Brand";v="8", "Chromium";v="138", "Google Chrome";v="138"'
local hints = {
  { ua = CH_UA, mobile = "?0", platform = '"Windows"' },
  false,
  false,
  { ua = CH_UA, mobile = "?1", platform = '"Android"' },
  false,
  { ua = CH_UA, mobile = "?0", platform = '"Linux"' },
}

-- request.cf as Cloudflare's edge would fill it; workerd parses it from this header.
-- The blocked identity comes from one network; unique requests spread over 20,000
-- networks (public ASNs 1000-20999), as real traffic does: one ASN sending thousands of
-- resets a minute is what riskgate's ASN ladder and velocity-asn rule are there to catch.
local function cf(asn)
  return string.format('{"country":"DE","regionCode":"BE","asn":%d,"asOrganization":"AS%d",'
    .. '"latitude":"52.52000","longitude":"13.40500"}', asn, asn)
end
local blocked_cf = '{"country":"DE","regionCode":"BE","asn":3320,"asOrganization":"Deutsche Telekom AG",'
  .. '"latitude":"52.52000","longitude":"13.40500"}'

-- setup() runs in the main Lua state, request() in each thread's own state: threads learn
-- their index here and the stride (wrk's -t) from the script arguments.
function setup(thread)
  thread:set("tid", started)
  started = started + 1
end

function init(args)
  mode = args[1] or "unique"
  offset = tonumber(args[2] or "0")
  stride = tonumber(args[3] or "1")
end

local function identity(i)
  if mode == "blocked" then
    return "blocked@example.com", "192.0.2.77", "en-US,en;q=0.9", 1, blocked_cf
  end
  -- The fastest-changing octet picks the /24, so consecutive requests share no subnet.
  local ip = string.format("10.%d.%d.%d", i % 256, math.floor(i / 256) % 256, math.floor(i / 65536) % 256)
  -- A private-use language subtag makes each device shape unique without a new UA, so the
  -- UA parser's cache behaves as on real traffic (a few thousand distinct UAs).
  local lang = string.format("en-US,en;q=0.9,x-%x;q=0.1", i)
  return string.format("u%d@example.com", i), ip, lang, (i % #agents) + 1, cf(1000 + i % 20000)
end

function request()
  local i = offset + counter * stride + (tid or 0)
  counter = counter + 1
  local email, ip, lang, agent, blob = identity(i)
  local headers = {
    ["content-type"] = "application/json",
    ["user-agent"] = agents[agent],
    ["accept-language"] = lang,
    ["cf-connecting-ip"] = ip,
    ["cf-blob"] = blob,
  }
  local ch = hints[agent]
  if ch then
    headers["sec-ch-ua"] = ch.ua
    headers["sec-ch-ua-mobile"] = ch.mobile
    headers["sec-ch-ua-platform"] = ch.platform
  end
  return wrk.format("POST", "/password/reset", headers, '{"email":"' .. email .. '"}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
