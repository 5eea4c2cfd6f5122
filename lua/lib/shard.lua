-- Helpers shared by the scripts that move messages between states, pulled in by an include line
-- that dynoq/backend/scripts.py resolves. Every function is a closure a script creates on each
-- run, so helpers few scripts need are in lib/delivery.lua (pop, ack) and lib/locate.lua, and
-- push and ensure include only lib/keys.lua and lib/move_due.lua. The shard's keys, scores and
-- records are described in lib/keys.lua.
--!include lib/keys.lua
--!include lib/args.lua

-- priority, attempts, receipt, due_ms, payload
local function split_record(record)
  local priority, due_ms, pos = struct.unpack('>BI6', record)
  if priority < DELIVERED then
    return priority, 0, '', due_ms, string.sub(record, pos)
  end
  local attempts, receipt
  attempts, receipt, pos = struct.unpack('>I4Bc0', record, pos)
  return priority - DELIVERED, attempts, receipt, due_ms, string.sub(record, pos)
end

local function make_record(priority, attempts, receipt, due_ms, payload)
  if attempts == 0 and receipt == '' then
    return struct.pack(NEW_RECORD, priority, due_ms, payload)
  end
  return struct.pack('>BI6I4Bc0c0', priority + DELIVERED, due_ms, attempts, #receipt, receipt,
    payload)
end


-- Rewrites the record's due time (the moment it became due again) and drops its receipt (the
-- message is not in flight), keeping the rest.
local function set_due(shard, id, due_ms)
  local record = redis.call('HGET', shard.messages, id)
  if record then
    local priority, attempts, _, _, payload = split_record(record)
    redis.call('HSET', shard.messages, id, make_record(priority, attempts, '', due_ms, payload))
  end
end

local function enqueue_ready(shard, id, priority)
  local seq = redis.call('INCR', shard.seq)
  redis.call('ZADD', shard.ready, priority * PRIORITY_SPAN + seq, id)
end

local function enqueue_delayed(shard, id, priority, due_ms)
  redis.call('ZADD', shard.delayed, due_ms * TIME_SCALE + priority, id)
end

-- Puts a message back to wait: delayed until due_ms when that is after now, else ready.
local function enqueue(shard, id, priority, now, due_ms)
  if due_ms > now then
    enqueue_delayed(shard, id, priority, due_ms)
  else
    enqueue_ready(shard, id, priority)
  end
end

-- Moves an in-flight message (already out of in_flight) to the dead letters, dropping its receipt.
local function dead_letter(shard, id, now)
  local record = redis.call('HGET', shard.messages, id)
  if record then
    local priority, attempts, _, due_ms, payload = split_record(record)
    redis.call('HSET', shard.messages, id, make_record(priority, attempts, '', due_ms, payload))
  end
  redis.call('ZADD', shard.dead, now, id)
end

local function attempts_of(shard, id)
  local record = redis.call('HGET', shard.messages, id)
  if not record then return 0 end
  local _, attempts = split_record(record)
  return attempts
end

-- Moves what became ready by `now` into the ready set: delayed messages that came due and
-- in-flight messages whose lease expired (those dead-lettered instead once they were delivered
-- max_deliveries times, when max_deliveries > 0). Both lists are merged by the moment each
-- became ready, so seq keeps "first ready, first out". At most `limit` of each per call.
-- max_deliveries = -1 (NOT_KNOWN: the script was not told the queue's) moves due delayed
-- messages only, and leaves expired leases to pop, peek, nack and sweep: requeued there without
-- the limit, an exhausted message would be delivered once more instead of dead-lettered.
-- Returns requeued, dead_lettered.
local function move_ready_by(shard, now, limit, max_deliveries)
  -- Numbers passed to redis.call are formatted with %.17g, each costing more than the
  -- command itself on an empty set: format the two once, as integers.
  local top = string.format('%d', now * TIME_SCALE + (TIME_SCALE - 1))
  limit = string.format('%d', limit)
  local due = redis.call('ZRANGEBYSCORE', shard.delayed, '-inf', top, 'WITHSCORES', 'LIMIT', '0', limit)
  local expired = {}
  if max_deliveries >= 0 then
    expired = redis.call('ZRANGEBYSCORE', shard.in_flight, '-inf', top, 'WITHSCORES', 'LIMIT', '0', limit)
  end
  if #due == 0 and #expired == 0 then return 0, 0 end
  if #due > 0 then redis.call('ZREMRANGEBYRANK', shard.delayed, 0, #due / 2 - 1) end
  if #expired > 0 then redis.call('ZREMRANGEBYRANK', shard.in_flight, 0, #expired / 2 - 1) end

  local requeued, dead_lettered = 0, 0
  local i, j = 1, 1
  while i <= #due or j <= #expired do
    local take_due = j > #expired or (i <= #due and tonumber(due[i + 1]) <= tonumber(expired[j + 1]))
    local id, score
    if take_due then
      id, score = due[i], tonumber(due[i + 1])
      i = i + 2
    else
      id, score = expired[j], tonumber(expired[j + 1])
      j = j + 2
    end
    local priority = score % TIME_SCALE
    if not take_due and max_deliveries > 0 and attempts_of(shard, id) >= max_deliveries then
      dead_letter(shard, id, now)
      dead_lettered = dead_lettered + 1
    else
      if not take_due then
        set_due(shard, id, math.floor(score / TIME_SCALE)) -- due again when its lease ran out
        requeued = requeued + 1
      end
      enqueue_ready(shard, id, priority)
    end
  end
  return requeued, dead_lettered
end

-- Keeps an idle shard keyless: seq only orders ready messages, so it restarts when none wait.
local function forget_seq_if_ready_empty(shard)
  if redis.call('ZCARD', shard.ready) == 0 then
    redis.call('DEL', shard.seq)
  end
end

local function wake_consumers(channel)
  if channel ~= '' then redis.call('PUBLISH', channel, '1') end
end
