-- post_result: append a worker's result for a task to its workflow's inbox, unless the task is
-- unknown or already ended (as last saved): a duplicated or late result is dropped here, before
-- it costs a decide.
--
-- KEYS[1]  state   the workflow document
-- KEYS[2]  inbox   list of pending events
-- KEYS[3]  tasks   hash: task id -> "status<TAB>task type<TAB>task def name", and
--                  '' -> "workflow status<TAB>priority"
-- ARGV[1]  task_id
-- ARGV[2]  event   the event (msgpack)
-- Returns: {0} no such workflow; {1} no such task; {2, task} the task or workflow has ended
--          (nothing appended); {3, task} appended.
local state_key, inbox_key, tasks_key = KEYS[1], KEYS[2], KEYS[3]
local task_id, event = ARGV[1], ARGV[2]
if redis.call('EXISTS', state_key) == 0 then return {0} end
local task = redis.call('HGET', tasks_key, task_id)
if not task then return {1} end
local ended = {COMPLETED=1, COMPLETED_WITH_ERRORS=1, FAILED=1, FAILED_WITH_TERMINAL_ERROR=1,
               TIMED_OUT=1, CANCELED=1, SKIPPED=1, TERMINATED=1}
local task_status = string.match(task, '^([^\t]*)')
local workflow = redis.call('HGET', tasks_key, '') or ''
local workflow_status = string.match(workflow, '^([^\t]*)')
if ended[task_status] or ended[workflow_status] then return {2, task} end
redis.call('RPUSH', inbox_key, event)
return {3, task}
