"""The inspection commands of ``dynoq``: queues, peek, push, dead ls|requeue, purge."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterator
from typing import Any

from dynoq.backend.connect import SyncClient, sync_client
from dynoq.backend.queue import Queue
from dynoq.backend.registry import list_queues, lookup, unregister
from dynoq.core.models import Message
from dynoq.errors import DynoqError, InvalidMessage

PUSH_BATCH = 500


class CommandError(DynoqError):
    """A command cannot do what was asked (unknown queue, bad file, ...)."""


def _open(client: SyncClient, namespace: str, name: str, shards: int | None = None) -> Queue:
    entry = lookup(client, namespace, name)
    if entry is not None:
        return Queue(client, name, **entry.options())
    if shards is None:
        raise CommandError(f"queue {name!r} does not exist in namespace {namespace!r}")
    return Queue(client, name, namespace=namespace, shards=shards)


def _print_json(value: Any) -> None:
    print(json.dumps(value, default=lambda v: v.hex() if isinstance(v, bytes) else str(v)))


def _message_json(message: Message) -> dict[str, Any]:
    out = {"id": message.id, "payload": message.payload, "priority": message.priority}
    out["attempts"] = message.attempts
    return out


def queues(client: SyncClient, namespace: str) -> int:
    rows: list[tuple[str, ...]] = [("QUEUE", "SHARDS", "READY", "DELAYED", "IN_FLIGHT", "DEAD")]
    for entry in list_queues(client, namespace):
        s = Queue(client, entry.name, **entry.options()).stats()
        counts = (entry.shards, s.ready, s.delayed, s.in_flight, s.dead)
        rows.append((entry.name, *map(str, counts)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    if len(rows) == 1:
        print(f"(no queues in namespace {namespace!r})", file=sys.stderr)
    return 0


def _file_messages(path: str) -> Iterator[Message]:
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            yield Message(
                item["id"] if "id" in item else uuid.uuid4().hex,
                item.get("payload"),
                priority=item.get("priority", 0),
                delay=item.get("delay", 0.0),
            )
        except (ValueError, InvalidMessage) as exc:
            raise CommandError(f"{path}:{number}: {exc}") from None


def push(client: SyncClient, namespace: str, args: argparse.Namespace) -> int:
    queue = _open(client, namespace, args.queue, args.shards)
    if args.file is None:
        if args.payload is None:
            raise CommandError("give a JSON payload, or --file")
        try:
            payload = json.loads(args.payload)
        except ValueError:
            raise CommandError(f"the payload is not JSON: {args.payload!r}") from None
        message = Message(args.id or uuid.uuid4().hex, payload, args.priority, args.delay)
        print(queue.push(message)[0])
        return 0
    pushed, batch = 0, []
    for message in _file_messages(args.file):
        batch.append(message)
        if len(batch) == PUSH_BATCH:
            pushed += len(queue.push(batch))
            batch = []
            print(f"\rpushed {pushed}", end="", file=sys.stderr, flush=True)
    if batch:
        pushed += len(queue.push(batch))
    print(f"\rpushed {pushed} message(s) to {args.queue!r}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace, url: str, namespace: str) -> int:
    """Runs one inspection command against the Redis at ``url``."""
    client = sync_client(url)
    try:
        if args.command == "queues":
            return queues(client, namespace)
        if args.command == "push":
            return push(client, namespace, args)
        queue = _open(client, namespace, args.queue)
        if args.command == "peek":
            for message in queue.peek(args.count):
                _print_json(_message_json(message))
        elif args.command == "dead" and args.dead_command == "ls":
            for message in queue.dead_letters(args.count):
                _print_json(_message_json(message))
        elif args.command == "dead":
            count = queue.requeue_dead(args.ids or None)
            print(f"requeued {count} dead letter(s)", file=sys.stderr)
        elif args.command == "purge":
            if not args.yes:
                raise CommandError(f"purge deletes every message of {args.queue!r}: add --yes")
            queue.clear()
            unregister(client, namespace, args.queue)
            print(f"purged {args.queue!r}", file=sys.stderr)
        return 0
    finally:
        client.close()
