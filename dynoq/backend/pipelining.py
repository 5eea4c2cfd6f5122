"""An asyncio client that sends the commands issued in one turn of the event loop as one
pipeline: one write, one round trip and one pass through redis-py's connection handling for all
of them, instead of one each. Busy callers with many coroutines in flight (a decider deciding
dozens of workflows, a worker reporting a batch of results) spend most of their time in that
per-command handling, not in Redis.

Order is kept: the commands of one batch run in the order they were issued, and a caller that
awaits a reply before issuing its next command sees the next one run after it, as without
batching. A pipeline without a transaction joins the batch too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio
from redis.asyncio.client import Pipeline

Pending = tuple[tuple[Any, ...], dict[str, Any], "asyncio.Future[Any]"]


class PipeliningRedis(redis.asyncio.Redis):
    """``redis.asyncio.Redis`` whose commands are batched per event-loop turn (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[Pending] = []
        self._senders: set[asyncio.Task[None]] = set()

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await self.enqueue(args, options)

    def enqueue(self, args: tuple[Any, ...], options: dict[str, Any]) -> asyncio.Future[Any]:
        """Adds a command to this turn's batch; its reply (or error) as a future."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        if not self._pending:  # the first of this turn: send once the turn's callers have run
            sender = loop.create_task(self._send())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        self._pending.append((args, options, reply))
        return reply

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        if transaction:
            return super().pipeline(transaction, shard_hint)
        return _JoiningPipeline(self)

    async def _send(self) -> None:
        batch, self._pending = self._pending, []
        try:
            if len(batch) == 1:
                args, options, _ = batch[0]
                replies = [await super().execute_command(*args, **options)]  # type: ignore[no-untyped-call]
            else:
                pipe = super().pipeline(transaction=False)
                for args, options, _ in batch:
                    pipe.execute_command(*args, **options)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection failed: every caller of the batch sees it
            for _, _, reply in batch:
                if not reply.done():
                    reply.set_exception(exc)
            return
        except BaseException:  # cancelled (the loop is closing): so are its callers
            for _, _, reply in batch:
                reply.cancel()
            raise
        for (_, _, reply), value in zip(batch, replies, strict=True):
            if reply.done():  # its caller was cancelled
                continue
            if isinstance(value, Exception):
                reply.set_exception(value)
            else:
                reply.set_result(value)


class _JoiningPipeline(Pipeline):
    """A pipeline without a transaction whose commands join the client's current batch."""

    def __init__(self, owner: PipeliningRedis) -> None:
        super().__init__(owner.connection_pool, owner.response_callbacks, False, None)
        self._owner = owner

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack, self.command_stack = self.command_stack, []
        replies = [self._owner.enqueue(args, dict(options)) for args, options in stack]
        results = await asyncio.gather(*replies, return_exceptions=True)
        if raise_on_error:
            for result in results:
                if isinstance(result, Exception):
                    raise result
        return results
