"""Commands packed by hiredis (C) on asyncio connections. redis-py's blocking connections pack
with hiredis when it is installed; its asyncio ones always pack in Python, which costs a busy
client (a server, a decider) about 5 µs per command of a dozen arguments, like a dynoq script
call. The bytes sent are the same."""

from __future__ import annotations

from typing import Any

import hiredis
from redis.exceptions import DataError


class _HiredisPacking:
    def pack_command(self, *args: Any) -> list[bytes]:
        # as redis-py: a command name may carry its subcommand ("CONFIG GET")
        if isinstance(args[0], str):
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        args = tuple(bytes(a) if isinstance(a, bytearray | memoryview) else a for a in args)
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:  # None, bool, ...: what redis-py's encoder refuses too
            raise DataError(str(exc)) from exc


_PACKING: dict[type, type] = {}


def hiredis_packing(connection_class: type[Any]) -> type[Any]:
    """``connection_class`` packing its commands with hiredis (one subclass per class)."""
    if issubclass(connection_class, _HiredisPacking):
        return connection_class
    made = _PACKING.get(connection_class)
    if made is None:
        made = _PACKING[connection_class] = type(
            connection_class.__name__, (_HiredisPacking, connection_class), {}
        )
    return made
