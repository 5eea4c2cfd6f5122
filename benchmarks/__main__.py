"""``python -m benchmarks run [--quick] ...`` (see ``benchmarks/run.py``)."""

from __future__ import annotations

import sys

from benchmarks.run import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        print("usage: python -m benchmarks run [--quick] [--systems a,b] [--depths 1k,1m]")
        sys.exit(2)
    sys.exit(main(sys.argv[2:]))
