-- pop: lease up to `count` ready messages of one shard, best priority first, then first ready
-- first out. First moves what became ready by now (due delayed messages, expired leases; expired
-- leases past max_deliveries go to the dead letters), so a queue without a sweeper still
-- redelivers. Each popped message gets attempts + 1, a fresh receipt, and a lease until
-- now + lease_ms. Invariant: a message in flight is held by exactly one receipt.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/shard.lua)
-- ARGV[1]     now_ms          integer ms, or '' to read the server clock
-- ARGV[2]     count           1..10000 messages to pop
-- ARGV[3]     lease_ms        >= 1, the unack timeout
-- ARGV[4]     max_deliveries  0 = unlimited
-- ARGV[5]     receipt_prefix  unique per call, at most 250 bytes; each message's receipt is the
--                             prefix and three letters unique within the call
-- ARGV[6]     move_limit      max due/expired messages moved to ready first
-- Returns: {now_ms, next_wake_ms, id1, record1, id2, record2, ...} where next_wake_ms is when
--          something may next become ready (now_ms if ready is not empty, -1 if never) and
--          each record is the message's new record (binary header + payload, see lib/shard.lua).
-- Errors: 'ERR dynoq bad argument <name>' before any write.
--!include lib/shard.lua
--!include lib/delivery.lua

local SKIPLIST_BATCH = 16
local SKIPLIST_MEMBER = string.rep('~', 600) -- ids are at most 512 bytes

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local count = check_int(ARGV[2], 'count', 1, 10000)
local lease_ms = check_int(ARGV[3], 'lease_ms', 1, 2^45)
local max_deliveries = check_int(ARGV[4], 'max_deliveries', 0, 2^31)
local receipt_prefix = ARGV[5]
if #receipt_prefix > MAX_RECEIPT - 5 then
  return redis.error_reply('ERR dynoq bad argument receipt_prefix: longer than 250 bytes')
end
local move_limit = check_int(ARGV[6], 'move_limit', 1, 100000)

move_ready_by(shard, now, move_limit, max_deliveries)

local reply = {now, 0}
-- ZRANGE + ZREMRANGEBYRANK rather than ZPOPMIN: no score per message to format and convert.
local ids = redis.call('ZRANGE', shard.ready, 0, count - 1)
if #ids > 0 then
  redis.call('ZREMRANGEBYRANK', shard.ready, 0, #ids - 1)
  -- One HMGET, HSET and ZADD for the whole batch: each redis.call has a fixed cost.
  local records = redis.call('HMGET', shard.messages, unpack(ids))
  local lease_base = (now + lease_ms) * TIME_SCALE
  -- Counters rather than #t (a search each time), and each lease score formatted once per
  -- priority: a number passed to redis.call is formatted per element.
  local new_records, leases, lease_of, n = {}, {}, {}, 0
  for i, id in ipairs(ids) do
    local record = records[i]
    if record then
      local priority
      record, priority = delivered_record(record, receipt_prefix, i)
      local lease = lease_of[priority]
      if not lease then
        lease = string.format('%d', lease_base + priority)
        lease_of[priority] = lease
      end
      new_records[n + 1], new_records[n + 2] = id, record
      leases[n + 1], leases[n + 2] = lease, id
      reply[n + 3], reply[n + 4] = id, record
      n = n + 2
    end
  end
  if n > 0 then
    redis.call('HSET', shard.messages, unpack(new_records))
    if n >= 2 * SKIPLIST_BATCH then
      -- A small zset is a listpack, where every insert and lookup scans it: n leases into an
      -- empty in_flight cost O(n^2), and so do the acks' lookups. A member longer than any id
      -- (and than zset-max-listpack-value) turns it into a skiplist, kept until the key is
      -- deleted; the member goes again before the script ends.
      redis.call('ZADD', shard.in_flight, 0, SKIPLIST_MEMBER, unpack(leases))
      redis.call('ZREM', shard.in_flight, SKIPLIST_MEMBER)
    else
      redis.call('ZADD', shard.in_flight, unpack(leases))
    end
  end
end
forget_seq_if_ready_empty(shard)
if #ids < count then
  reply[2] = next_wake_ms(shard, now) -- only a short pop needs to know when to come back
else
  reply[2] = now
end
return reply
