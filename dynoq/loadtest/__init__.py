"""``dynoq bench``: drives a configurable load through a queue and reports what the Redis
deployment sustains (throughput, end-to-end latency, errors).

``options`` the validated settings, ``histogram`` latency counting, ``load`` what each child
process runs (asyncio producers and consumers on an AsyncQueue), ``runner`` the parent
(safety check, child processes, progress line, clean-up), ``report`` the table, JSON and plot.
"""
