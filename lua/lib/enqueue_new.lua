-- The end of an arriving message's script (push's one-message path, ensure): the message goes
-- to delayed or ready, waiting consumers are woken, and the script returns 1. A block pasted
-- where it is included (see lib/move_due.lua); expects the locals id, priority, delay_us,
-- due_ms, channel and the key locals.
if delay_us > 0 then
  redis.call('ZADD', delayed_key, due_ms * TIME_SCALE + priority, id)
else
  redis.call('ZADD', ready_key, priority * PRIORITY_SPAN + redis.call('INCR', seq_key), id)
end
if channel ~= '' then redis.call('PUBLISH', channel, '1') end
return 1
