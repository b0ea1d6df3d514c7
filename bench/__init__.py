"""Benchmarks: Entra-scale provisioning measured against the machine's floor (`make bench`)."""


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""
