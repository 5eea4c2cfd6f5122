-- claim_task: hand a polled task to a worker: only a task still SCHEDULED (as last saved) in a
-- running workflow is claimed; its summary turns IN_PROGRESS and the poll goes to the inbox, so
-- a second delivery of the same message is refused here.
--
-- KEYS[1]  state   the workflow document
-- KEYS[2]  inbox   list of pending events
-- KEYS[3]  tasks   hash of task summaries (see post_result)
-- ARGV[1]  task_id
-- ARGV[2]  event   the poll event (msgpack)
-- Returns: 1 when claimed, 0 when the task is not there to be claimed.
local state_key, inbox_key, tasks_key = KEYS[1], KEYS[2], KEYS[3]
local task_id, event = ARGV[1], ARGV[2]
if redis.call('EXISTS', state_key) == 0 then return 0 end
local task = redis.call('HGET', tasks_key, task_id)
if not task then return 0 end
local status, rest = string.match(task, '^([^\t]*)(.*)$')
if status ~= 'SCHEDULED' then return 0 end
local workflow_status = string.match(redis.call('HGET', tasks_key, '') or '', '^([^\t]*)')
if workflow_status ~= 'RUNNING' and workflow_status ~= 'PAUSED' then return 0 end
redis.call('HSET', tasks_key, task_id, 'IN_PROGRESS' .. rest)
redis.call('RPUSH', inbox_key, event)
return 1
