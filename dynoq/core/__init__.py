"""The pure core: messages, keys and sharding, the record codec, queue options, backoff, URL
parsing, and every queue operation written once without I/O (:mod:`.ops`).

Layer 0. Imports nothing from ``dynoq`` but :mod:`dynoq.errors` and itself; no ``redis``, no
``asyncio``."""
