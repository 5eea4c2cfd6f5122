-- create: store a new workflow's state (and its task summaries) unless a workflow with that
-- id exists.
--
-- KEYS[1]  state  the workflow document
-- KEYS[2]  tasks  hash: task id -> task summary, '' -> workflow summary (see post_result)
-- ARGV[1]  state  the document (msgpack)
-- ARGV[2..]  pairs of (task id or '', summary)
-- Returns: 1 when created, 0 when it already existed (nothing written).
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
