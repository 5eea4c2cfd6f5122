"""The ``dynoq`` command: :mod:`.main` parses and dispatches, :mod:`.queues` holds the queue
admin commands, :mod:`.bench` drives ``dynoq bench``.

Top layer. May import anything below it."""
