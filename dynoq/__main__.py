import sys

from dynoq.cli import main

sys.exit(main())
