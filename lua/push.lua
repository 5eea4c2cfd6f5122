-- push: enqueue a batch of messages on one shard. A message whose id exists anywhere in the shard
-- (ready, delayed, in flight, dead) is replaced: new payload, priority and due time, attempts 0,
-- and its lease (if any) cancelled, so a stale consumer's ack no longer matches it.
-- Invariant: every id is in exactly one of the four sets and has exactly one record.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1]     now_ms         integer ms, or '' to read the server clock
-- ARGV[2]     channel        pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit     max due/expired messages moved to ready first
-- ARGV[4..]   per message, 4 entries: id, priority (0..99), delay_ms (>= 0), payload (bytes)
-- Returns: the number of messages pushed.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local channel = ARGV[2]
local move_limit = check_int(ARGV[3], 'move_limit', 1, 100000)
local first = 4
if (#ARGV - first + 1) % 4 ~= 0 then
  return redis.error_reply('ERR dynoq bad argument count: ' .. #ARGV)
end
for i = first, #ARGV, 4 do
  check_int(ARGV[i + 1], 'priority', 0, 99)
  check_int(ARGV[i + 2], 'delay_ms', 0, 2^45)
end

-- Whatever came due before this push is ahead of it in the ready order.
move_ready_by(shard, now, move_limit, 0)

for i = first, #ARGV, 4 do
  local id, priority, delay_ms, payload = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local record = make_record(priority, 0, '', now + delay_ms, payload)
  if redis.call('HSET', shard.messages, id, record) == 0 then
    -- the id existed: take it out of whichever set holds it
    local where = locate(shard, id)
    if where then redis.call('ZREM', shard[where], id) end
  end
  enqueue(shard, id, priority, now, delay_ms)
end
forget_seq_if_ready_empty(shard)
wake_consumers(channel)
return (#ARGV - first + 1) / 4
