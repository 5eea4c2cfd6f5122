"""``dynoq schedules ls|add|pause|resume|rm|next``: schedules from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from dynoq.core.schedule import MessageAction, Schedule, schedule_from_doc
from dynoq.errors import InvalidArgument
from dynoq.runtime.schedules import Schedules


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="schedules_command", required=True, metavar="ACTION")
    actions.add_parser("ls", help="every schedule, with its last and next fire", parents=[common])
    add = actions.add_parser("add", help="create or replace a schedule", parents=[common])
    add.add_argument("name")
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="5, 6 (seconds first) or 7-field (Quartz) cron expression")
    when.add_argument("--every", type=float, metavar="SECONDS", help="a fixed interval")
    add.add_argument("--zone", default="UTC", help="IANA time zone of the cron (default UTC)")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--queue", help="push a message to this queue at each fire")
    target.add_argument("--workflow", help="start this workflow at each fire")
    add.add_argument("--payload", help="JSON payload of the message, or input of the workflow")
    add.add_argument("--priority", type=int, default=0)
    add.add_argument("--id", dest="id_template", help="message id template (default "
                     "'{schedule}:{fire_ms}')")  # fmt: skip
    add.add_argument("--catch-up", choices=("skip", "all"), default="skip")
    add.add_argument("--paused", action="store_true", help="create it paused")
    for name, what in (("pause", "stop firing"), ("resume", "fire again"), ("rm", "delete")):
        sub = actions.add_parser(name, help=f"{what} a schedule", parents=[common])
        sub.add_argument("name")
    nxt = actions.add_parser("next", help="the next fire times of a schedule", parents=[common])
    nxt.add_argument("name")
    nxt.add_argument("--count", type=int, default=5)


def run(args: argparse.Namespace, url: str, namespace: str) -> int:
    return asyncio.run(_run(args, url, namespace))


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _doc(args: argparse.Namespace) -> dict[str, Any]:
    payload = None
    if args.payload is not None:
        try:
            payload = json.loads(args.payload)
        except ValueError as exc:
            raise InvalidArgument(f"--payload is not JSON: {exc}", field="payload") from None
    doc: dict[str, Any] = {
        "name": args.name,
        "zone": args.zone,
        "catch_up": args.catch_up,
        "paused": args.paused,
    }
    if args.cron is not None:
        doc["cron"] = args.cron
    else:
        doc["interval"] = args.every
    if args.queue is not None:
        doc["message"] = {"queue": args.queue, "payload": payload, "priority": args.priority}
        if args.id_template:
            doc["message"]["id"] = args.id_template
    else:
        doc["workflow"] = {"name": args.workflow, "input": payload or {}}
    return doc


async def _run(args: argparse.Namespace, url: str, namespace: str) -> int:
    command = args.schedules_command
    if command == "add":
        schedule = schedule_from_doc(_doc(args))  # bad input fails before connecting
    async with Schedules.from_url(url, namespace) as schedules:
        if command == "ls":
            return await _ls(schedules)
        if command == "add":
            saved = await schedules.save(schedule)
            fires = saved.timing.next_fires(await schedules.now_ms(), 1)
            first = fires[0] / 1000 if fires else None
            state = "paused" if saved.paused else f"next fire {_when(first)}"
            print(f"schedule {saved.name!r} saved, {state}")
        elif command == "pause":
            await schedules.pause(args.name)
            print(f"schedule {args.name!r} paused")
        elif command == "resume":
            await schedules.resume(args.name)
            print(f"schedule {args.name!r} resumed")
        elif command == "rm":
            await schedules.delete(args.name)
            print(f"schedule {args.name!r} deleted")
        elif command == "next":
            if not 1 <= args.count <= 1000:
                raise InvalidArgument("--count must be in 1..1000", field="count")
            for seconds in await schedules.next_fires(args.name, args.count):
                print(_when(seconds))
    return 0


async def _ls(schedules: Schedules) -> int:
    listed = await schedules.all()
    now_ms = await schedules.now_ms()
    last = await schedules.last_fires(s.name for s in listed)
    rows = [("NAME", "WHEN", "ZONE", "ACTION", "STATE", "LAST FIRE", "NEXT FIRE")]
    for s in listed:
        when = s.timing.cron or f"every {s.timing.interval_ms / 1000:g}s"
        fired = last.get(s.name, {}).get("scheduledTime")
        nxt = None if s.paused else s.timing.next_fire(now_ms)
        rows.append(
            (
                s.name,
                when,
                s.timing.zone,
                _action(s),
                "paused" if s.paused else "active",
                _when(fired / 1000 if fired else None),
                _when(nxt / 1000 if nxt else None),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _action(schedule: Schedule) -> str:
    action = schedule.action
    if isinstance(action, MessageAction):
        return f"queue {action.queue}"
    return f"workflow {action.workflow_name}"
