"""The Redis layer: the one script runner (:mod:`.runner`, used by queues and workflows alike),
the Lua sources (:mod:`.scripts`), connections (:mod:`.connect`), the embedded redis-server, the
queue registry, and the queue clients ``AsyncQueue`` / ``Queue`` (:mod:`.queue`).

Layer 1. May import :mod:`dynoq.core` and :mod:`dynoq.errors`."""
