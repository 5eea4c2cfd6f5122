-- push: enqueue a batch of messages on one shard. A message whose id exists anywhere in the shard
-- (ready, delayed, in flight, dead) is replaced: new payload, priority and due time, attempts 0,
-- and its lease (if any) cancelled, so a stale consumer's ack no longer matches it.
-- Invariant: every id is in exactly one of the four sets and has exactly one record.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms         integer ms, or '' to read the server clock
-- ARGV[2]     channel        pub/sub channel to wake waiting consumers, or ''
-- ARGV[3]     move_limit     max due/expired messages moved to ready first
-- ARGV[4..]   per message, 4 entries: id, priority (0..99), delay_us (>= 0, microseconds),
--             payload (bytes)
-- Returns: the number of messages pushed.
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/keys.lua

local ready_key, delayed_key, in_flight_key = KEYS[1], KEYS[2], KEYS[3]
local dead_key, messages_key, seq_key = KEYS[4], KEYS[5], KEYS[6]
--!include lib/arrival.lua
local first = 4
if (#ARGV - first + 1) % 4 ~= 0 then
  return redis.error_reply('ERR dynoq bad argument count: ' .. #ARGV)
end
local priority, delay_us
for i = first, #ARGV, 4 do
  priority, delay_us = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if priority == nil or priority % 1 ~= 0 or priority < 0 or priority > 99 then
    return redis.error_reply('ERR dynoq bad argument priority: ' .. ARGV[i + 1])
  end
  if delay_us == nil or delay_us % 1 ~= 0 or delay_us < 0 or delay_us > 2^52 then
    return redis.error_reply('ERR dynoq bad argument delay_us: ' .. ARGV[i + 2])
  end
end

-- Whatever came due before this push is ahead of it in the ready order.
--!include lib/move_due.lua

-- HSET counts the fields it added: when that is every id, none existed (an id has a record
-- exactly when it is in one of the four sets) and no set needs looking at, the common case.
-- Otherwise the ids that existed leave whichever set holds them, before they are added again.
if #ARGV == first + 3 then -- one message, the common call: no batch bookkeeping
  local id = ARGV[first] -- priority and delay_us hold its checked values
  local due_ms = now
  if delay_us > 0 then
    local up_us = delay_us + past_us + 999
    due_ms = now + (up_us - up_us % 1000) / 1000
  end
  if redis.call('HSET', messages_key, id, struct.pack(NEW_RECORD, priority, due_ms, ARGV[first + 3])) == 0 then
    redis.call('ZREM', ready_key, id)
    redis.call('ZREM', delayed_key, id)
    redis.call('ZREM', in_flight_key, id)
    redis.call('ZREM', dead_key, id)
    if delay_us > 0 and redis.call('ZCARD', ready_key) == 0 then redis.call('DEL', seq_key) end
  end
--!include lib/enqueue_new.lua
end

-- The last occurrence of an id in the batch wins, as if pushed one after the other.
local last_index, ids = {}, {}
for i = first, #ARGV, 4 do last_index[ARGV[i]] = i end
for i = first, #ARGV, 4 do
  if last_index[ARGV[i]] == i then ids[#ids + 1] = i end
end

local records, ready, delayed = {}, {}, {}
local ready_count = 0
for _, i in ipairs(ids) do
  if tonumber(ARGV[i + 2]) == 0 then ready_count = ready_count + 1 end
end
local seq = 0
if ready_count > 0 then seq = redis.call('INCRBY', seq_key, ready_count) - ready_count end
for _, i in ipairs(ids) do
  local id, priority, delay_us = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  records[#records + 1] = id
  if delay_us > 0 then
    local up_us = delay_us + past_us + 999
    local due_ms = now + (up_us - up_us % 1000) / 1000
    records[#records + 1] = struct.pack(NEW_RECORD, priority, due_ms, ARGV[i + 3])
    delayed[#delayed + 1] = due_ms * TIME_SCALE + priority
    delayed[#delayed + 1] = id
  else
    records[#records + 1] = struct.pack(NEW_RECORD, priority, now, ARGV[i + 3])
    seq = seq + 1
    ready[#ready + 1] = priority * PRIORITY_SPAN + seq
    ready[#ready + 1] = id
  end
end
if redis.call('HSET', messages_key, unpack(records)) < #ids then
  local names = {}
  for n, i in ipairs(ids) do names[n] = ARGV[i] end
  redis.call('ZREM', ready_key, unpack(names))
  redis.call('ZREM', delayed_key, unpack(names))
  redis.call('ZREM', in_flight_key, unpack(names))
  redis.call('ZREM', dead_key, unpack(names))
end
if #ready > 0 then redis.call('ZADD', ready_key, unpack(ready)) end
if #delayed > 0 then
  redis.call('ZADD', delayed_key, unpack(delayed))
  if ready_count == 0 and redis.call('ZCARD', ready_key) == 0 then redis.call('DEL', seq_key) end
end
if channel ~= '' then redis.call('PUBLISH', channel, '1') end
return (#ARGV - first + 1) / 4
