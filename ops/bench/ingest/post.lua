-- wrk script: one new chat message per request, each with a unique provider id.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("LOKET_TOKEN")
  -- A fresh prefix per run: a second run against the same server must not replay the
  -- first run's provider ids (they would be answered as cheap duplicates).
  -- LOKET_RUN tells two wrk processes of one run apart (two nodes measured at once).
  run = os.getenv("LOKET_RUN") or tostring(os.time())
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"channel":"webchat","from":{"address":"session:%d"},"text":"Goedemiddag, ik heb een vraag over mijn vergunning %d","provider_message_id":"wrk-%s-%d-%d"}',
    counter % 500, counter, run, tid, counter)
  return wrk.format(nil, "/api/v1/messages", nil, body)
end
