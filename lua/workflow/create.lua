-- create: store a new workflow's state unless a workflow with that id exists.
--
-- KEYS[1]  state  the workflow document
-- ARGV[1]  state  the document (msgpack)
-- Returns: 1 when created, 0 when it already existed (nothing written).
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end
return 0
