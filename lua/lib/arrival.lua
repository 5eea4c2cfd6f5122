-- The arguments an arriving message's scripts (push, ensure) open with, checked before any
-- write: ARGV[1] now_ms ('' = the server clock), ARGV[2] channel, ARGV[3] move_limit. A block,
-- not a function, pasted where it is included (see lib/move_due.lua), as are the clock and the
-- checks lib/args.lua has as functions. Defines the locals now (ms), past_us (the µs past now
-- when the server clock was read, else 0), channel and move_limit.
local now, past_us = tonumber(ARGV[1]), 0
if ARGV[1] == '' then
  local t = redis.call('TIME')
  local us = tonumber(t[2])
  past_us = us % 1000
  now = tonumber(t[1]) * 1000 + (us - past_us) / 1000
elseif now == nil or now % 1 ~= 0 or now < 0 or now > 2^47 then
  return redis.error_reply('ERR dynoq bad argument now_ms: ' .. ARGV[1])
end
local channel = ARGV[2]
-- A number, not ARGV[3] as given: redis.call writes it in digits, which ZRANGEBYSCORE's LIMIT
-- takes whatever the spelling it came in ('1e3').
local move_limit = tonumber(ARGV[3])
if move_limit == nil or move_limit % 1 ~= 0 or move_limit < 1 or move_limit > 100000 then
  return redis.error_reply('ERR dynoq bad argument move_limit: ' .. ARGV[3])
end
