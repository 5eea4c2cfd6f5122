"""The orchestrator: Conductor's workflow language (:mod:`.definitions`, :mod:`.expressions`,
:mod:`.javascript`), the pure decider (:mod:`.decide`, :mod:`.tasks`, :mod:`.operations`,
:mod:`.structure`), and the Redis side (:mod:`.store`, :mod:`.engine`, :mod:`.system_tasks`).

Layer 2, beside :mod:`dynoq.runtime`. May import the Redis layer and the core."""
