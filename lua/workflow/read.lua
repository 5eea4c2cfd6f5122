-- read: a workflow's state and its pending events, in one consistent view.
--
-- KEYS[1]  state  the workflow document (msgpack)
-- KEYS[2]  inbox  list of pending events
-- Returns: {state or false, event, ...}
local reply = {redis.call('GET', KEYS[1])}
local events = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #events do reply[#reply + 1] = events[i] end
return reply
