-- stats: how many messages of the shard are in each state, without changing anything.
-- Delayed messages already due count as ready.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms  integer ms, or '' to read the server clock
-- Returns: {ready, delayed, in_flight, dead, oldest_ready_age_ms}; the age is how long the
--          longest-waiting ready message (or delayed one already due) has been due, 0 if none.
--          It reads one record per priority level present (each level's head is its oldest),
--          so it costs at most 100 lookups whatever the depth.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])

local oldest_due = nil
local function consider(due_ms)
  if oldest_due == nil or due_ms < oldest_due then oldest_due = due_ms end
end
local head = redis.call('ZRANGE', shard.delayed, 0, 0, 'WITHSCORES')
if head[1] then
  local due_ms = math.floor(tonumber(head[2]) / TIME_SCALE)
  if due_ms <= now then consider(due_ms) end
end
local level_floor = 0
while true do
  local first = redis.call('ZRANGE', shard.ready, level_floor, '+inf', 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
  if not first[1] then break end
  local record = redis.call('HGET', shard.messages, first[1])
  if record then
    local _, _, _, due_ms = split_record(record)
    consider(due_ms)
  end
  level_floor = (math.floor(tonumber(first[2]) / PRIORITY_SPAN) + 1) * PRIORITY_SPAN
end

local delayed = redis.call('ZCARD', shard.delayed)
local due = redis.call('ZCOUNT', shard.delayed, '-inf', now * TIME_SCALE + (TIME_SCALE - 1))
return {
  redis.call('ZCARD', shard.ready) + due,
  delayed - due,
  redis.call('ZCARD', shard.in_flight),
  redis.call('ZCARD', shard.dead),
  oldest_due and math.max(0, now - oldest_due) or 0,
}
