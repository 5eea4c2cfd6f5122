"""Running code against queues: the ``Worker``, ``enqueue``, metrics, logging, settings read
from the environment (:mod:`.settings`) and the event-loop / signal handling every long-running
process shares (:mod:`.serving`).

Layer 2, beside :mod:`dynoq.workflow` and :mod:`dynoq.loadtest`. May import the core and the
Redis layer."""
