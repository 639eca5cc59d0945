"""The docs match the code: the README's settings table and the Lua headers."""

from __future__ import annotations

import re
from pathlib import Path

from streamfn.gateway.access import ACCESS
from streamfn.gateway.routes import ROUTES
from streamfn.scripts import ScriptSet
from streamfn.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_readme_settings_table_matches_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `(STREAMFN_[A-Z_]+)` \| `([^`]*)` \| (.+) \|$", readme, re.M)
    assert rows == [(env, default, doc) for env, default, doc in Settings.table()]


def test_every_lua_script_has_a_contract_header_and_is_loaded() -> None:
    files = sorted(p.stem for p in (ROOT / "lua").glob("*.lua"))
    assert files == sorted(ScriptSet.__dataclass_fields__)
    for name in files:
        head = (ROOT / "lua" / f"{name}.lua").read_text()[:3000]
        assert "KEYS[1]" in head and "Returns" in head, name


def test_readme_quickstart_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quick.splitlines()[1:]]
    assert [c for c in commands if c] == ["make run", "make test"]


def test_the_auth_page_lists_the_role_of_every_route() -> None:
    page = (ROOT / "docs" / "auth.md").read_text()
    rows = re.findall(r"^\| `([A-Z]+) (/\S*)` \| (\w+)", page, re.M)
    roles = [ACCESS[route.name].role for route in ROUTES]  # /metrics: the role it can require
    expected = [
        (route.method, route.path, "none" if role is None else role.label)
        for route, role in zip(ROUTES, roles, strict=True)
    ]
    assert rows == expected
