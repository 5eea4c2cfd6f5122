import sys

from dynoq.cli.main import main

sys.exit(main())
