"""The long-running services: the HTTP server (:mod:`.server`: the queue API :mod:`.queue_api`,
Conductor's API :mod:`.conductor`), the unack sweeper, the workflow decider and the workflow
sweeper. Each is an ``async run(config, *, metrics=..., stop=...)`` that serves until ``stop``
is set; :func:`dynoq.runtime.serving.serve` runs one until SIGTERM/SIGINT.

Layer 3. May import the runtime, the workflow package, the Redis layer and the core; never the
CLI or the demo."""
