"""``dynoq demo``: the queue library on its own (:mod:`.queues`), the services with a worker
(:mod:`.services`), and workflows over the Conductor API (:mod:`.workflows`).

Top layer. May import anything below it."""
