-- Helpers of delivered messages (pop); include after lib/shard.lua.

-- The record of a new delivery (attempts + 1), and the priority: what pop writes. Its receipt is
-- receipt_prefix then `index` (0..17575) as three letters, base 26 from 'a', most significant
-- first: unique within one pop without turning a number into a string, which costs more than
-- the rest of the record. One struct.pack builds it whole.
local function delivered_record(record, receipt_prefix, index)
  local priority, due_ms, pos = struct.unpack('>BI6', record)
  local attempts = 0
  if priority >= DELIVERED then
    priority = priority - DELIVERED
    attempts, pos = struct.unpack('>I4', record, pos)
    pos = pos + 1 + string.byte(record, pos)
  end
  return struct.pack('>BI6I4Bc0BBBc0', priority + DELIVERED, due_ms, attempts + 1,
    #receipt_prefix + 3, receipt_prefix, 97 + math.floor(index / 676) % 26,
    97 + math.floor(index / 26) % 26, 97 + index % 26, string.sub(record, pos)), priority
end

-- The earliest moment (ms) something may become ready without a push, or -1 if never.
local function next_wake_ms(shard, now)
  if redis.call('ZCARD', shard.ready) > 0 then return now end
  local wake = -1
  for _, key in ipairs({shard.delayed, shard.in_flight}) do
    local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if #head > 0 then
      local at = math.floor(tonumber(head[2]) / TIME_SCALE)
      if wake < 0 or at < wake then wake = at end
    end
  end
  return wake
end
