"""One adapter per benchmarked system, all with the :class:`~benchmarks.peers.base.Peer`
interface. Adapters import their system lazily, so one that fails to install fails alone."""

from __future__ import annotations

import importlib

from benchmarks.peers.base import Peer

# system name -> "module:class"
SYSTEMS = {
    "dynoq": "benchmarks.peers.dynoq_peer:DynoqLibrary",
    "dynoq-worker": "benchmarks.peers.dynoq_peer:DynoqWorker",
    "saq": "benchmarks.peers.saq_peer:Saq",
    "arq": "benchmarks.peers.arq_peer:Arq",
    "rq": "benchmarks.peers.rq_peer:Rq",
    "bullmq": "benchmarks.peers.bullmq_peer:BullMQ",
    "dramatiq": "benchmarks.peers.dramatiq_peer:Dramatiq",
    "huey": "benchmarks.peers.huey_peer:Huey",
    "celery": "benchmarks.peers.celery_peer:Celery",
}


def load(name: str, url: str) -> Peer:
    module, _, cls = SYSTEMS[name].partition(":")
    peer: Peer = getattr(importlib.import_module(module), cls)(url)
    return peer
