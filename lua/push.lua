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
move_ready_by(shard, now, move_limit, NOT_KNOWN)

local SETS = {shard.ready, shard.delayed, shard.in_flight, shard.dead}

-- HSET counts the fields it added: when that is every id, none existed (an id has a record
-- exactly when it is in one of the four sets) and no set needs looking at, the common case.
-- Otherwise the ids that existed leave whichever set holds them, before they are added again.
if #ARGV == first + 3 then -- one message, the common call: no batch bookkeeping
  local id, priority, delay_ms = ARGV[first], tonumber(ARGV[first + 1]), tonumber(ARGV[first + 2])
  local record = make_record(priority, 0, '', now + delay_ms, ARGV[first + 3])
  if redis.call('HSET', shard.messages, id, record) == 0 then
    for _, key in ipairs(SETS) do redis.call('ZREM', key, id) end
    if delay_ms > 0 then forget_seq_if_ready_empty(shard) end
  end
  enqueue(shard, id, priority, now, delay_ms)
  wake_consumers(channel)
  return 1
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
if ready_count == 1 then
  seq = redis.call('INCR', shard.seq) - 1 -- no count to format: the common single push
elseif ready_count > 1 then
  seq = redis.call('INCRBY', shard.seq, ready_count) - ready_count
end
for _, i in ipairs(ids) do
  local id, priority, delay_ms = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  records[#records + 1] = id
  records[#records + 1] = make_record(priority, 0, '', now + delay_ms, ARGV[i + 3])
  if delay_ms > 0 then
    delayed[#delayed + 1] = (now + delay_ms) * TIME_SCALE + priority
    delayed[#delayed + 1] = id
  else
    seq = seq + 1
    ready[#ready + 1] = priority * PRIORITY_SPAN + seq
    ready[#ready + 1] = id
  end
end
if redis.call('HSET', shard.messages, unpack(records)) < #ids then
  local names = {}
  for n, i in ipairs(ids) do names[n] = ARGV[i] end
  for _, key in ipairs(SETS) do redis.call('ZREM', key, unpack(names)) end
end
if #ready > 0 then redis.call('ZADD', shard.ready, unpack(ready)) end
if #delayed > 0 then redis.call('ZADD', shard.delayed, unpack(delayed)) end
if ready_count == 0 then forget_seq_if_ready_empty(shard) end
wake_consumers(channel)
return (#ARGV - first + 1) / 4
