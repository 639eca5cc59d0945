"""Property tests over paths, headers and bodies against a live gateway (G1-G3 generalised).

Properties: no request a client can make is answered 5xx; a request that names an invalid
or unknown function, or carries a body that is not JSON, is a 4xx and enqueues nothing; a
valid JSON body to a known function is accepted exactly once.
"""

from __future__ import annotations

import urllib.parse
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamfn.names import FUNCTION_RE
from tests.fault.figures import record
from tests.fuzz.conftest import KNOWN, Live
from tests.fuzz.rawhttp import RawClient

pytestmark = pytest.mark.fuzz


def fast(examples: int) -> settings:
    """Settings for a property that talks to a live server: no deadline, no shrink database."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


STATUSES: Counter[int] = Counter()

# Printable ASCII that may stand raw in a request target (no space, no '#', no '?').
RAW = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#?"), max_size=80
)
ANY_TEXT = st.text(max_size=80)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture
def raw(live: Live) -> Iterator[RawClient]:
    client = RawClient(live.proc.port)
    yield client
    client.close()


def _send(raw: RawClient, method: str, target: bytes, **kw: object) -> int:
    status, _ = raw.request(method, target, **kw)  # type: ignore[arg-type]
    STATUSES[status] += 1
    assert status < 500, (method, target, status)
    return status


def _is_known(decoded: str) -> bool:
    return decoded == KNOWN


def test_function_names_in_paths(live: Live, raw: RawClient) -> None:
    before = live.enqueued()

    @fast(3000)
    @given(name=st.one_of(RAW, ANY_TEXT.map(lambda t: urllib.parse.quote(t, safe=""))))
    def prop(name: str) -> None:
        decoded = urllib.parse.unquote(name)
        if _is_known(decoded) or not name:
            return
        status = _send(raw, "POST", b"/invoke/" + name.encode(), body=b"{}")
        assert 400 <= status < 500
        if FUNCTION_RE.fullmatch(decoded) is None and "/" not in decoded:
            assert status in (400, 404, 405)

    prop()
    assert live.enqueued() == before, "a rejected name enqueued something"


def test_bodies(live: Live, raw: RawClient) -> None:
    before = live.enqueued()
    accepted = 0

    @fast(2000)
    @given(body=st.one_of(st.binary(max_size=200), JSON.map(orjson.dumps)))
    def prop(body: bytes) -> None:
        nonlocal accepted
        try:
            orjson.loads(body) if body else None
            valid = True
        except orjson.JSONDecodeError:
            valid = False
        status = _send(raw, "POST", f"/invoke/{KNOWN}".encode(), body=body)
        assert status == (202 if valid else 400), (body, status)
        accepted += status == 202

    prop()
    assert live.enqueued() == before + accepted, "exactly the accepted bodies were enqueued"


def test_headers_and_queries(live: Live, raw: RawClient) -> None:
    header_value = st.binary(max_size=60).map(lambda b: bytes(c for c in b if 0x20 <= c < 0x7F))
    names = st.sampled_from(
        ["Content-Type", "Idempotency-Key", "Accept", "X-Anything", "Content-Encoding"]
    )

    @fast(2000)
    @given(
        headers=st.dictionaries(names, header_value, max_size=3),
        query=st.dictionaries(
            st.sampled_from(["wait", "delay", "at", "x", "count"]), ANY_TEXT, max_size=2
        ),
    )
    def prop(headers: dict[str, bytes], query: dict[str, str]) -> None:
        target = f"/invoke/{KNOWN}"
        if query:
            target += "?" + urllib.parse.urlencode(query)
        if "wait" in query:
            return  # a valid wait would hold the request open: covered by schemathesis
        _send(raw, "POST", target.encode(), body=b"null", headers=headers)

    prop()


def test_invocation_ids(live: Live, raw: RawClient) -> None:
    @fast(2000)
    @given(
        method=st.sampled_from(["GET", "DELETE"]),
        inv=st.one_of(RAW, st.text(max_size=40).map(lambda t: urllib.parse.quote(t, safe=""))),
    )
    def prop(method: str, inv: str) -> None:
        if not inv:
            return
        status = _send(raw, method, b"/invocations/" + inv.encode())
        assert status in (400, 404, 405), status

    prop()


def test_zz_record_property_figures() -> None:
    sent = sum(STATUSES.values())
    record(
        "G-properties",
        title="hypothesis properties over paths, headers, queries and bodies",
        fault=f"{sent} generated raw requests (no client-side normalisation)",
        expectation="0 server errors; invalid names and bodies 4xx with nothing enqueued",
        lost=None,
        duplicates=None,
        recovery_s=None,
        requests=sent,
        server_errors=sum(n for s, n in STATUSES.items() if s >= 500),
        statuses=dict(sorted(STATUSES.items())),
    )
    assert sent > 0
