-- The shard's keyspace and how its scores and records are encoded. Constants only: every function
-- a script defines is a closure created on each of its calls, and push and ensure include this
-- file and lib/move_due.lua (a block) alone.
--
-- One shard is six keys with one hash tag, always passed in this order:
--   KEYS[1] ready      zset  member id, score priority * 2^46 + seq   (pop order)
--   KEYS[2] delayed    zset  member id, score due_ms * 128 + priority
--   KEYS[3] in_flight  zset  member id, score lease_deadline_ms * 128 + priority
--   KEYS[4] dead       zset  member id, score dead_lettered_at_ms
--   KEYS[5] messages   hash  id -> record: a binary header, then the payload (msgpack bytes)
--                       byte 1      priority (0..99), plus 128 once the message was delivered
--                       bytes 2-7   due_ms, 48-bit big-endian (when it last became due, for
--                                   time-in-queue)
--                       delivered only: bytes 8-11 attempts (32-bit big-endian), byte 12 the
--                       receipt's length n, then the n bytes of the receipt.
--                       A message never delivered (attempts 0, no receipt) has a 7-byte header.
--                       Invariant: a record holds a receipt exactly while its message is in
--                       flight (every way out of in_flight drops it), so ack needs no ZMSCORE.
--   KEYS[6] seq        string counter giving ready messages their arrival order;
--                       deleted whenever ready is empty, so an idle queue holds no keys.
-- Every score is an integer below 2^53, so a double holds it exactly.

local NOT_KNOWN = -1                 -- max_deliveries of move_ready_by when the caller has none
local PRIORITY_SPAN = 70368744177664 -- 2^46: seq values per priority level
local TIME_SCALE = 128               -- room for the priority (0..99) below the milliseconds
local DELIVERED = 128                -- flag added to the record's priority byte
local MAX_RECEIPT = 255              -- the record stores a receipt's length in one byte
local NEW_RECORD = '>BI6c0'          -- struct format of a never delivered message's record
