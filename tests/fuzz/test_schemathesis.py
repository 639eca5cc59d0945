"""Schemathesis against the live gateway's own ``GET /openapi.json``: 0 server errors.

Generated requests (valid and invalid parameters, bodies and headers alike) go to every
operation of the description; any 5xx fails the test with the request that caused it.  The
fast tier sends 2,500 (the hypothesis properties of ``test_properties.py`` send the rest of
the 10,000 the fast tier promises); the soak tier sends 10,000 here alone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fault.figures import record
from tests.fuzz.conftest import Live

pytestmark = pytest.mark.fuzz

ROUNDS = 8  # operations without parameters run out of new examples; others make up for it


def _send(
    live: Live,
    operation: Any,
    examples: int,
    session: requests.Session,
    statuses: Counter[int],
    failures: list[str],
) -> None:
    """Up to ``examples`` generated requests to one operation."""
    strategy = operation.as_strategy()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        response = case.call(base_url=live.url, session=session, timeout=10)
        statuses[response.status_code] += 1
        if response.status_code >= 500 and len(failures) < 5:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

    run()


def _fuzz(live: Live, total: int, tier: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    session = requests.Session()
    for _ in range(ROUNDS):
        left = total - sum(statuses.values())
        if left <= 0:
            break
        for operation in operations:
            _send(live, operation, left // len(operations) + 10, session, statuses, failures)
    sent = sum(statuses.values())
    record(
        "G-schemathesis",
        title="schemathesis over GET /openapi.json of a live gateway",
        fault=f"{sent} generated requests over {len(operations)} operations",
        expectation="0 server errors",
        tier=tier,
        lost=None,
        duplicates=None,
        recovery_s=None,
        requests=sent,
        server_errors=sum(n for s, n in statuses.items() if s >= 500),
        statuses=dict(sorted(statuses.items())),
    )
    assert not failures, failures
    assert sent >= total, "enough requests were generated"


def test_schemathesis_finds_no_server_error(live: Live) -> None:
    _fuzz(live, 2_500, "fast")


@pytest.mark.soak
def test_schemathesis_finds_no_server_error_soak(live: Live) -> None:
    _fuzz(live, 10_000, "soak")
