"""The ``dynoq`` command."""

from __future__ import annotations

import argparse
import sys

from dynoq.errors import DynoqError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynoq", description="A sharded priority + delay queue on Redis."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run producers and consumers on a queue, live")
    demo.add_argument(
        "--redis-url",
        default="embedded://",
        help="Redis to use (default: embedded://, a throw-away redis-server)",
    )
    demo.add_argument("--messages", type=int, default=2000, help="how many messages (default 2000)")
    demo.add_argument("--shards", type=int, default=4, help="shards of the demo queue (default 4)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from dynoq import demo

            if args.messages < 1:
                raise DynoqError("--messages must be at least 1")
            return demo.main(args.redis_url, args.messages, args.shards)
    except DynoqError as exc:
        print(f"dynoq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
