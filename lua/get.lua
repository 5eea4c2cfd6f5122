-- get: look a message up in any state, without changing anything.
--
-- KEYS[1..6]  ready, delayed, in_flight, dead, messages, seq (see lib/keys.lua)
-- ARGV[1]     now_ms  integer ms, or '' to read the server clock
-- ARGV[2]     id
-- Returns: {state, at_ms, record} or nil if absent. state is 'ready', 'delayed', 'in_flight' or
--          'dead' (a delayed message already due reports 'ready'); at_ms is the due time
--          (delayed), the lease deadline (in_flight), the dead-letter time (dead), or -1 (ready).
--!include lib/shard.lua
--!include lib/locate.lua

local shard = bind_shard_keys()
local now = check_now(ARGV[1])
local id = ARGV[2]

local record = redis.call('HGET', shard.messages, id)
if not record then return nil end
local where, score = locate(shard, id)
local at = -1
if where == 'delayed' or where == 'in_flight' then
  at = math.floor(score / TIME_SCALE)
  if where == 'delayed' and at <= now then where = 'ready' end
elseif where == 'dead' then
  at = score
end
return {where or 'ready', at, record}
