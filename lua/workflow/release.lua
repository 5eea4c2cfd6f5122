-- release: drop a workflow's lock if the caller still holds it, and say how many events wait in
-- its inbox: an event posted after the holder read the inbox needs another decide.
--
-- KEYS[1]  lock   the workflow's lock
-- KEYS[2]  inbox  list of pending events
-- ARGV[1]  token  the holder's token
-- Returns: the number of pending events.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('LLEN', KEYS[2])
