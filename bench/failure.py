"""The one error type the bench raises: it names what failed and what to do."""


class BenchError(RuntimeError):
    """A workload could not run (a process did not start, work did not finish in time...)."""
