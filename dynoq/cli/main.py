"""The ``dynoq`` command: services (server, sweeper, worker), queue inspection, the demo and
the load benchmark.

Every error is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import typing
from dataclasses import dataclass
from typing import Any, NoReturn

from dynoq.backend.acl import SERVICE_COMMANDS
from dynoq.errors import DynoqError
from dynoq.runtime import settings

LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Option:
    """A command-line option that sets one field of a service's config. ``--no-...`` options
    set a bool field to False; the others take a value of the field's type (a tuple field is
    repeatable). ``default`` appends the field's default to the help."""

    flag: str
    field: str
    help: str
    default: bool = False


@dataclass(frozen=True, slots=True)
class Service:
    """A long-running ``dynoq`` command: its config class (in :mod:`dynoq.runtime.settings`),
    the module whose ``run(config, stop=...)`` it serves, and its options."""

    help: str
    config: str
    module: str
    options: tuple[Option, ...]
    needs_workflows: bool = False


METRICS_PORT = Option("--metrics-port", "metrics_port", "serve /metrics on this port")
SERVICES = {
    "server": Service(
        "serve the HTTP API",
        "ServerConfig",
        "dynoq.services.server",
        (
            Option("--host", "host", "address to bind", default=True),
            Option("--port", "port", "port", default=True),
            Option("--token", "tokens", "accepted bearer token (repeatable)"),
            Option("--no-system-tasks", "system_tasks", "do not run workflows' HTTP tasks here"),
        ),
    ),
    "sweeper": Service(
        "hand expired leases back, for every registered queue",
        "SweeperConfig",
        "dynoq.services.sweeper",
        (Option("--interval", "interval", "seconds between sweeps", default=True), METRICS_PORT),
    ),
    "decider": Service(
        "decide workflows as they come due (and run HTTP tasks)",
        "DeciderConfig",
        "dynoq.services.decider",
        (
            Option("--concurrency", "concurrency", "workflows decided at once", default=True),
            Option("--no-system-tasks", "system_tasks", "do not run HTTP tasks in this process"),
            METRICS_PORT,
        ),
        needs_workflows=True,
    ),
    "workflow-sweeper": Service(
        "repair running workflows after crashes",
        "WorkflowSweeperConfig",
        "dynoq.services.workflow_sweeper",
        (
            Option("--interval", "interval", "seconds between passes", default=True),
            Option("--batch", "batch", "workflows checked per pass", default=True),
            METRICS_PORT,
        ),
        needs_workflows=True,
    ),
    "scheduler": Service(
        "fire due schedules (run one or several)",
        "SchedulerConfig",
        "dynoq.services.scheduler",
        (
            Option("--batch", "batch", "ticks handled at once", default=True),
            Option(
                "--repair-interval",
                "repair_interval",
                "seconds between re-arming checks",
                default=True,
            ),
            METRICS_PORT,
        ),
    ),
}


def _add_service_options(parser: argparse.ArgumentParser, service: Service) -> None:
    """The options of ``service``, typed by its config's type hints."""
    config = getattr(settings, service.config)
    hints = typing.get_type_hints(config)
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    for option in service.options:
        kind = hints[option.field]
        text = option.help
        if option.default:
            text += f" (default {defaults[option.field]:g})" if kind is float else (
                f" (default {defaults[option.field]})"
            )  # fmt: skip
        if option.flag.startswith("--no-"):
            parser.add_argument(option.flag, action="store_true", help=text)
        elif typing.get_origin(kind) is tuple:
            parser.add_argument(option.flag, action="append", help=text)
        else:
            parser.add_argument(option.flag, type=kind, help=text)


def _service_overrides(args: argparse.Namespace, service: Service) -> dict[str, Any]:
    """The config fields the command line sets; None leaves a field to the environment."""
    values: dict[str, Any] = {}
    for option in service.options:
        given = getattr(args, option.flag[2:].replace("-", "_"))
        if option.flag.startswith("--no-"):
            values[option.field] = False if given else None
        elif isinstance(given, list):
            values[option.field] = tuple(given) if given else None
        else:
            values[option.field] = given
    return values


class CliError(DynoqError):
    """A usage error of the command line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _global_options() -> Parser:
    """Options accepted before or after the command (SUPPRESS: the later one wins, and an
    absent one does not overwrite the other)."""
    common = Parser(add_help=False)
    common.add_argument(
        "--redis-url",
        default=argparse.SUPPRESS,
        help="Redis to use (default: $DYNOQ_REDIS_URL; services without one start an embedded, "
        "non-persistent redis-server)",
    )
    common.add_argument(
        "--namespace", default=argparse.SUPPRESS, help="key namespace (default: dynoq)"
    )
    common.add_argument("--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS)
    common.add_argument("--log-format", choices=("text", "json"), default=argparse.SUPPRESS)
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = Parser(
        prog="dynoq", description="A sharded priority + delay queue on Redis.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help, parents=[common])
        return sub

    for name, service in SERVICES.items():
        _add_service_options(command(name, service.help), service)

    from dynoq.cli import schedules as schedule_commands

    schedule_commands.add_arguments(command("schedules", "cron and interval schedules"), common)

    worker = command("worker", "run the handlers of a dynoq.Worker")
    worker.add_argument("app", metavar="APP:OBJ", help="e.g. myapp.tasks:worker")
    worker.add_argument("--concurrency", type=int, help="handlers running at once")
    worker.add_argument(
        "--prefetch", type=int, help="messages leased ahead of free handlers (short jobs)"
    )
    worker.add_argument("--grace-period", type=float, help="seconds to finish on SIGTERM")
    worker.add_argument("--metrics-port", type=int, help="serve /metrics on this port")

    command("queues", "every queue with its message counts")

    peek = command("peek", "show the next ready messages without leasing them")
    peek.add_argument("queue")
    peek.add_argument("--count", type=int, default=10)

    push = command("push", "push a message (or a JSON-lines file of them)")
    push.add_argument("queue")
    push.add_argument("payload", nargs="?", help="JSON payload")
    push.add_argument("--id", help="message id (default: random)")
    push.add_argument("--priority", type=int, default=0)
    push.add_argument("--delay", type=float, default=0.0)
    push.add_argument("--file", help="JSON lines: {id?, payload, priority?, delay?} per line")
    push.add_argument("--shards", type=int, default=1, help="shards, if the queue is new")

    dead = command("dead", "dead letters")
    dead_commands = dead.add_subparsers(dest="dead_command", required=True, metavar="ACTION")
    dead_ls = dead_commands.add_parser("ls", help="list dead letters", parents=[common])
    dead_ls.add_argument("queue")
    dead_ls.add_argument("--count", type=int, default=100)
    requeue = dead_commands.add_parser("requeue", help="requeue dead letters", parents=[common])
    requeue.add_argument("queue")
    requeue.add_argument("ids", nargs="*", help="ids to requeue (default: all)")

    purge = command("purge", "delete every message of a queue and unregister it")
    purge.add_argument("queue")
    purge.add_argument("--yes", action="store_true", help="really do it")

    doctor = command("doctor", "check a Redis for what dynoq needs (eviction, persistence, ...)")
    doctor.add_argument("--json", action="store_true", help="findings as JSON")
    doctor.add_argument(
        "--service",
        choices=sorted(SERVICE_COMMANDS),
        help="check the user's ACL for this service only (default: say which services it fits)",
    )
    doctor.add_argument(
        "--acl-user", help="whose ACL to check (default: the user of --redis-url); needs ACL rights"
    )

    from dynoq.loadtest.options import add_arguments as add_bench_arguments

    bench = command("bench", "drive a load through a throw-away queue: throughput and latency")
    add_bench_arguments(bench)

    demo = command("demo", "the HTTP API, a sweeper and a worker on a queue, live")
    demo.add_argument("--messages", type=int, default=2000, help="how many messages (default 2000)")
    demo.add_argument(
        "--shards", type=int, default=4, help="shards of the --library demo's queue (default 4)"
    )
    demo.add_argument(
        "--library",
        action="store_true",
        help="bare library producers and consumers instead of the services",
    )
    demo.add_argument(
        "--serve",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the web UI on the result until Ctrl-C (default: when run in a terminal)",
    )
    return parser


def _explicit_url(args: argparse.Namespace) -> str | None:
    """--redis-url, else DYNOQ_REDIS_URL, else None."""
    url = getattr(args, "redis_url", None) or settings.env_setting("redis_url")
    return str(url) if url else None


def _service_url(args: argparse.Namespace) -> str:
    """As :func:`_explicit_url`, with a private embedded redis-server when none is given."""
    return _explicit_url(args) or settings.EMBEDDED_URL


def _namespace(args: argparse.Namespace) -> str | None:
    return getattr(args, "namespace", None)


def _run_service(args: argparse.Namespace) -> int:
    from dynoq.runtime.serving import serve
    from dynoq.workflow import MISSING_EXTRA
    from dynoq.workflow import installed as workflows_installed

    service = SERVICES[args.command]
    if service.needs_workflows and not workflows_installed():
        raise CliError(f"'{args.command}': {MISSING_EXTRA}")
    config = getattr(settings, service.config).from_env(
        redis_url=_service_url(args),
        namespace=_namespace(args),
        **_service_overrides(args, service),
    )
    module = importlib.import_module(service.module)
    serve(lambda stop: module.run(config, stop=stop))
    return 0


def _run_worker(args: argparse.Namespace) -> int:
    from dynoq.runtime.worker import load_worker

    worker = load_worker(args.app)
    worker.configure(
        redis_url=_explicit_url(args),
        namespace=_namespace(args),
        concurrency=args.concurrency,
        prefetch=args.prefetch,
        grace_period=args.grace_period,
        metrics_port=args.metrics_port,
    )
    worker.run()
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from dynoq.demo import queues as demo

    if args.messages < 1:
        raise CliError("--messages must be at least 1")
    if not args.library:
        from dynoq.demo import services as demo_services

        return demo_services.main(_service_url(args), args.messages, args.serve)
    return demo.main(_service_url(args), args.messages, args.shards)


def _run_bench(args: argparse.Namespace) -> int:
    from dynoq.cli import bench as command

    return command.main(args, _service_url(args), _namespace(args) or "dynoq")


def _run_doctor(args: argparse.Namespace) -> int:
    from dynoq.cli import doctor

    url = _explicit_url(args)
    if url is None:
        raise CliError("'doctor' needs a Redis: pass --redis-url or set DYNOQ_REDIS_URL")
    return doctor.run(url, _namespace(args) or "dynoq", args.json, args.service, args.acl_user)


def dispatch(args: argparse.Namespace) -> int:
    services: dict[str, Any] = {
        **dict.fromkeys(SERVICES, _run_service),
        "worker": _run_worker,
        "demo": _run_demo,
        "bench": _run_bench,
        "doctor": _run_doctor,
    }
    if args.command in services:
        return int(services[args.command](args))
    from dynoq.cli import queues as commands

    url = _explicit_url(args)
    if url is None:
        raise CliError(f"'{args.command}' needs a Redis: pass --redis-url or set DYNOQ_REDIS_URL")
    if args.command == "schedules":
        from dynoq.cli import schedules

        return schedules.run(args, url, _namespace(args) or "dynoq")
    return commands.run(args, url, _namespace(args) or "dynoq")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dynoq.runtime.logs import configure_logging

    configure_logging(getattr(args, "log_level", "info"), getattr(args, "log_format", "text"))
    try:
        return dispatch(args)
    except DynoqError as exc:
        print(f"dynoq: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"dynoq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
