"""dynoq's benchmarks: ``python -m benchmarks run [--quick]`` compares dynoq with its peers and
with the physical limit of the Redis it runs on (see ``benchmarks/run.py``)."""
