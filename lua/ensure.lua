-- ensure: push one message only if its id is absent from the shard in every state (ready,
-- delayed, in flight, dead); Conductor's pushIfNotExists, but atomic.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms         integer ms, or '' to read the server clock
-- ARGV[2]     channel        pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit     max due/expired messages moved to ready first
-- ARGV[4]     id
-- ARGV[5]     priority       0..99
-- ARGV[6]     delay_us       >= 0, microseconds
-- ARGV[7]     payload        bytes
-- Returns: 1 if pushed, 0 if the id was already present (nothing changed).
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/keys.lua

local ready_key, delayed_key, in_flight_key = KEYS[1], KEYS[2], KEYS[3]
local dead_key, messages_key, seq_key = KEYS[4], KEYS[5], KEYS[6]
--!include lib/arrival.lua
local id = ARGV[4]
local priority = tonumber(ARGV[5])
if priority == nil or priority % 1 ~= 0 or priority < 0 or priority > 99 then
  return redis.error_reply('ERR dynoq bad argument priority: ' .. ARGV[5])
end
local delay_us = tonumber(ARGV[6])
if delay_us == nil or delay_us % 1 ~= 0 or delay_us < 0 or delay_us > 2^52 then
  return redis.error_reply('ERR dynoq bad argument delay_us: ' .. ARGV[6])
end
local payload = ARGV[7]
local due_ms = now
if delay_us > 0 then
  local up_us = delay_us + past_us + 999
  due_ms = now + (up_us - up_us % 1000) / 1000
end

-- An id has a record exactly when it is in one of the four sets: HSETNX is the check and the
-- write in one call, and no set needs looking at.
if redis.call('HSETNX', messages_key, id, struct.pack(NEW_RECORD, priority, due_ms, payload)) == 0 then
  return 0
end
-- Whatever came due before this message is ahead of it in the ready order.
--!include lib/move_due.lua
--!include lib/enqueue_new.lua
