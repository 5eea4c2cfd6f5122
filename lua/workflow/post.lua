-- post: append an event to a workflow's inbox, only if the workflow exists (an event for a
-- removed workflow must not leave an orphan inbox behind).
--
-- KEYS[1]  state  the workflow document
-- KEYS[2]  inbox  list of pending events
-- ARGV[1]  event  the event (msgpack)
-- Returns: 1 when appended, 0 when the workflow does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
