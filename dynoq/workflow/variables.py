"""Environment variables and secrets: named strings workflows read as ``${workflow.env.X}`` and
``${workflow.secrets.X}``.

Both are resolved when a task is handed to its worker (a poll), not when its input is
computed: the stored workflow, its search summary and the task queue's message keep the
expression itself, so a secret's value never lands in a workflow document, a log or a search
result; only the worker's copy of the task carries it. (Conductor defers secrets the same way;
dynoq defers environment variables too, so a change shows in the next poll.)

Stored in ``<ns>:wfenv`` and ``<ns>:wfsecrets`` (hashes name -> value).
"""

from __future__ import annotations

import re
from typing import Any

from dynoq.backend.connect import AsyncClient
from dynoq.backend.runner import translated_errors
from dynoq.errors import InvalidArgument

ENV = "env"
SECRETS = "secrets"
_REFERENCE = re.compile(r"\$\{workflow\.(env|secrets)\.([^}]+)\}")
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,255}")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"a name is 1-255 letters, digits, '_', '-' or '.', got {name!r}", field="name"
        )
    return name


class VariableStore:
    """One kind (:data:`ENV` or :data:`SECRETS`) of named values."""

    def __init__(self, client: AsyncClient, namespace: str, kind: str) -> None:
        self.client: Any = client
        self.key = f"{namespace}:wf{kind}"

    async def get(self, name: str) -> str | None:
        with translated_errors():
            raw = await self.client.hget(self.key, name)
        return raw.decode() if raw is not None else None

    async def put(self, name: str, value: str) -> None:
        with translated_errors():
            await self.client.hset(self.key, check_name(name), value)

    async def delete(self, name: str) -> bool:
        with translated_errors():
            return bool(await self.client.hdel(self.key, name))

    async def all(self) -> dict[str, str]:
        with translated_errors():
            raw = await self.client.hgetall(self.key)
        return {k.decode(): v.decode() for k, v in sorted(raw.items())}


def refers_to_variables(value: Any) -> bool:
    if isinstance(value, str):
        return "${workflow." in value
    if isinstance(value, dict):
        return any(refers_to_variables(v) for v in value.values())
    if isinstance(value, list):
        return any(refers_to_variables(v) for v in value)
    return False


def substitute(value: Any, values: dict[str, dict[str, str]]) -> Any:
    """``value`` with each ``${workflow.env.X}`` / ``${workflow.secrets.X}`` replaced from
    ``values[kind][X]`` (a whole-string reference to an unknown name becomes None)."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return values.get(whole.group(1), {}).get(whole.group(2))
        return _REFERENCE.sub(lambda m: values.get(m.group(1), {}).get(m.group(2), ""), value)
    if isinstance(value, dict):
        return {k: substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    return value


async def resolved_input(
    client: AsyncClient, namespace: str, input_data: dict[str, Any]
) -> dict[str, Any]:
    """A task's input as its worker gets it: variables and secrets filled in."""
    if not refers_to_variables(input_data):
        return input_data
    values = {kind: await VariableStore(client, namespace, kind).all() for kind in (ENV, SECRETS)}
    resolved: dict[str, Any] = substitute(input_data, values)
    return resolved


MIN_REDACTED_LENGTH = 4  # shorter values would blank out ordinary text


def redact(value: Any, secrets: dict[str, str]) -> Any:
    """``value`` with every secret's value replaced by ``***`` (in strings, at any depth)."""
    hidden = sorted((v for v in secrets.values() if len(v) >= MIN_REDACTED_LENGTH), key=len)
    if not hidden:
        return value
    return _redacted(value, hidden[::-1])


def _redacted(value: Any, hidden: list[str]) -> Any:
    if isinstance(value, str):
        for secret in hidden:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: _redacted(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, hidden) for v in value]
    return value


async def without_secrets(client: AsyncClient, namespace: str, value: Any) -> Any:
    """What a system task reports, with any secret it was handed (and the far end echoed back,
    or an error message quotes) masked before it is stored."""
    return redact(value, await VariableStore(client, namespace, SECRETS).all())
