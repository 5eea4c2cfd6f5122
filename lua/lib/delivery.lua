-- Helpers of delivered messages (pop, ack); include after lib/shard.lua.

-- The record of a new delivery (attempts + 1, this receipt), and the priority: what pop writes.
-- One struct.pack builds it whole (split_record + make_record would make two more strings).
local function delivered_record(record, receipt)
  local priority, due_ms, pos = struct.unpack('>BI6', record)
  local attempts = 0
  if priority >= DELIVERED then
    priority = priority - DELIVERED
    attempts, pos = struct.unpack('>I4', record, pos)
    pos = pos + 1 + string.byte(record, pos)
  end
  return struct.pack('>BI6I4Bc0c0', priority + DELIVERED, due_ms, attempts + 1, #receipt, receipt,
    string.sub(record, pos)), priority
end

-- The receipt of the current (or last) delivery, '' if never delivered; cheaper than a split.
local function receipt_of(record)
  if string.byte(record, 1) < DELIVERED then return '' end
  return string.sub(record, 13, 12 + string.byte(record, 12))
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
