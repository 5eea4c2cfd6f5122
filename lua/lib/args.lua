-- The server's clock and argument checks; include after lib/keys.lua.

-- Validates an integer argument before the first write; raises a script error naming it.
local function check_int(value, name, lo, hi)
  local n = tonumber(value)
  if n == nil or n % 1 ~= 0 or n < lo or n > hi then
    error({err = 'ERR dynoq bad argument ' .. name .. ': ' .. tostring(value)})
  end
  return n
end

-- The server's clock in ms (TIME), unless the caller injected one (tests): returns it rounded
-- down and rounded up. Rounded down it says what is due ("due_ms <= now": a message due at
-- 12.000 is not due at 11.999). Rounded up it is the base of a due time, so that now + delay
-- is never before the moment the caller asked for.
local function check_now(now_arg)
  if now_arg == '' then
    local t = redis.call('TIME')
    local us = tonumber(t[2])
    local now = tonumber(t[1]) * 1000 + (us - us % 1000) / 1000
    if us % 1000 == 0 then return now, now end
    return now, now + 1
  end
  -- 2^47: due_ms = now + delay_ms (< 2^45) fits the record's 48 bits
  local now = check_int(now_arg, 'now_ms', 0, 2^47)
  return now, now
end
