-- Mixed staff traffic for benches/api_load.sh: each wrk thread has one
-- connection and acts as one window: issue, call, finish, then three queue
-- reads, over and over. Every request is expected to succeed.
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    -- The position in the cycle counts answered requests, not built ones:
    -- wrk may build a request before the first one it sends.
    step = 0
    done = 0
    window = (id - 1) % 30 + 1
    headers = {}
    headers["Authorization"] = "Bearer bench-manager-token-0001"
    headers["Content-Type"] = "application/json"
end

function request()
    step = done + 1
    local s = step % 6
    if s == 1 then
        return wrk.format("POST", "/api/tickets", headers, '{"service":"civil"}')
    elseif s == 2 then
        return wrk.format("POST", "/api/windows/" .. window .. "/call", headers, "{}")
    elseif s == 3 then
        return wrk.format("POST", "/api/windows/" .. window .. "/finish", headers, "{}")
    else
        return wrk.format("GET", "/api/queue", headers)
    end
end

-- Show the first few failures, so that an error count is never a mystery.
local shown = 0
function response(status, headers, body)
    done = done + 1
    if status >= 300 and shown < 5 then
        shown = shown + 1
        io.stderr:write("thread " .. id .. " step " .. step .. ": " .. status .. " " .. body .. "\n")
    end
end
