-- The shard's keys, the server's clock and argument checks; include after lib/keys.lua.

local function bind_shard_keys()
  return {
    ready = KEYS[1], delayed = KEYS[2], in_flight = KEYS[3],
    dead = KEYS[4], messages = KEYS[5], seq = KEYS[6],
  }
end

-- Validates an integer argument before the first write; raises a script error naming it.
local function check_int(value, name, lo, hi)
  local n = tonumber(value)
  if n == nil or n % 1 ~= 0 or n < lo or n > hi then
    error({err = 'ERR dynoq bad argument ' .. name .. ': ' .. tostring(value)})
  end
  return n
end

-- The server's clock (TIME) in whole ms, rounded down, and the microseconds past that ms; or the
-- ms the caller injected (tests) and 0. Rounded down, now says what is due: due_ms <= now.
local function check_now(now_arg)
  if now_arg == '' then
    local t = redis.call('TIME')
    local us = tonumber(t[2])
    local past_us = us % 1000
    return tonumber(t[1]) * 1000 + (us - past_us) / 1000, past_us
  end
  -- 2^47: due_ms = now + delay (< 2^52 us) fits the record's 48 bits
  return check_int(now_arg, 'now_ms', 0, 2^47), 0
end

-- When a message delayed by delay_us becomes due, in whole ms: now without a delay, else the
-- first ms not before now + delay_us (past_us from check_now), so it is never handed out before
-- the moment asked for and at most 1 ms after it. Integers below 2^53 only, so exact.
-- push.lua and ensure.lua compute the same inline.
local function due_after(now, past_us, delay_us)
  if delay_us == 0 then return now end
  local up_us = delay_us + past_us + 999
  return now + (up_us - up_us % 1000) / 1000
end
