-- save: write a workflow's new state and drop the events it was decided on, only while the
-- caller still holds the lock (a holder whose lease ran out can no longer overwrite a newer
-- decision). Events that arrived during the decide stay in the inbox for the next one.
--
-- KEYS[1]  state    the workflow document (msgpack)
-- KEYS[2]  inbox    list of pending events
-- KEYS[3]  lock     the workflow's lock
-- KEYS[4]  tasks    hash: task id -> task summary, '' -> workflow summary (see post_result)
-- ARGV[1]  token    the holder's token
-- ARGV[2]  state    the new document, or '' to leave it as it is
-- ARGV[3]  applied  how many events from the head of the inbox were applied (>= 0)
-- ARGV[4]  release  '1' to release the lock too, '0' to keep it
-- ARGV[5..]  pairs of (task id or '', summary) that changed; an empty summary deletes the task's
--            entry (a task the decide dropped: keepLastN, a rerun)
-- Returns: {0} when the lock is no longer the caller's (nothing written); otherwise
--          {1, the number of events still pending}.
local state_key, inbox_key, lock_key, tasks_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, state, applied, release = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if not applied or applied < 0 then return redis.error_reply('ERR dynoq bad argument applied') end
if redis.call('GET', lock_key) ~= token then return {0} end
if state ~= '' then redis.call('SET', state_key, state) end
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', tasks_key, ARGV[i])
  else
    redis.call('HSET', tasks_key, ARGV[i], ARGV[i + 1])
  end
end
if applied > 0 then redis.call('LTRIM', inbox_key, applied, -1) end
if release == '1' then redis.call('DEL', lock_key) end
return {1, redis.call('LLEN', inbox_key)}
