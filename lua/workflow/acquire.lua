-- acquire: take a workflow's lock and read its state and pending events in one step, so the
-- holder decides on everything that arrived before it took the lock.
--
-- KEYS[1]  state   the workflow document (msgpack)
-- KEYS[2]  inbox   list of events (polls, results, finished children) not yet applied
-- KEYS[3]  lock    the workflow's lock
-- ARGV[1]  token   identifies this holder
-- ARGV[2]  lease_ms  how long the lock holds without being renewed
-- Returns: {0} when another holder has the lock; {1, state or false, event, ...} otherwise.
local state_key, inbox_key, lock_key = KEYS[1], KEYS[2], KEYS[3]
local token, lease_ms = ARGV[1], tonumber(ARGV[2])
if not lease_ms or lease_ms < 1 then return redis.error_reply('ERR dynoq bad argument lease_ms') end
if not redis.call('SET', lock_key, token, 'NX', 'PX', lease_ms) then return {0} end
local reply = {1, redis.call('GET', state_key)}
local events = redis.call('LRANGE', inbox_key, 0, -1)
for i = 1, #events do reply[#reply + 1] = events[i] end
return reply
