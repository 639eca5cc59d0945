"""flaky: fails the first ``payload["failures"]`` attempts (default 2), then succeeds.

A plain ``def``: the runner calls it in a worker process (STREAMFN_ISOLATE_SYNC, on by default).
"""

from typing import Any

from streamfn import Context

RETRIES = 5
BACKOFF = 0.2  # backoff step of the first retry in seconds; doubles each time


def handle(payload: Any, ctx: Context) -> Any:
    failures = int((payload or {}).get("failures", 2))
    if ctx.attempt <= failures:
        raise RuntimeError(f"flaky: attempt {ctx.attempt} of {failures} planned failures")
    return {"succeeded_on_attempt": ctx.attempt}
