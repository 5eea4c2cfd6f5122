"""The long-running services: the HTTP API (:mod:`.server`) and the unack sweeper
(:mod:`.sweeper`). Each is an ``async run(config, *, metrics=..., stop=...)`` that serves until
``stop`` is set; :func:`dynoq.services.runtime.serve` runs one until SIGTERM/SIGINT."""
