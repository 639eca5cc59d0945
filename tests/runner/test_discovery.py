"""Discovery: files added, changed and removed take effect while running; failures are reported.

Also covers the loader's checks (file names, imports, ``handle``, policy) through the errors a
real scan reports.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from streamfn.runner.discovery import FULL_SCAN_INTERVAL, Discovery
from streamfn.settings import Settings
from tests.runner.conftest import wait_for, write_function

ASYNC = "async def handle(payload, ctx):\n    return payload\n"
SYNC = "def handle(payload, ctx):\n    return payload\n"


async def test_loads_async_and_sync_handlers(settings: Settings, fdir: Path) -> None:
    write_function(fdir, "a_async", ASYNC + "TIMEOUT = 5\nRETRIES = 1\n")
    write_function(fdir, "b_sync", SYNC)
    d = Discovery(settings)
    assert await d.scan()
    assert set(d.functions) == {"a_async", "b_sync"}
    assert d.errors == {}
    assert d.functions["a_async"].to_report() == {
        "timeout": 5.0,
        "retries": 1,
        "backoff": 1.0,
        "backoff_max": 300.0,
        "dead_letter": True,
        "isolate": False,
        "memory_mb": None,
        "partitions": 1,
        "kind": "async",
    }
    assert d.functions["b_sync"].kind == "sync"
    assert not await d.scan()  # nothing changed: no reload, no notification


async def test_add_change_remove_take_effect_within_two_seconds(
    settings: Settings, fdir: Path
) -> None:
    d = Discovery(settings)
    changes: list[int] = []
    d.subscribe(lambda: changes.append(d.version))
    await d.start()
    try:
        write_function(fdir, "hot", ASYNC + "TIMEOUT = 1\n")
        took = await wait_for(lambda: "hot" in d.functions, 2, "the new file to load")
        assert took < 2
        first = d.functions["hot"]

        # Same size, new content: a rewrite in place still counts (mtime or inode changes).
        write_function(fdir, "hot", ASYNC + "TIMEOUT = 2\n")
        await wait_for(lambda: d.functions["hot"].policy.timeout == 2.0, 2, "the change")
        # The old version served until the new one was ready: never a gap in between.
        assert first.module_name not in sys.modules  # the old version was dropped
        assert d.functions["hot"].module_name in sys.modules

        (fdir / "hot.py").unlink()
        await wait_for(lambda: "hot" not in d.functions, 2, "the removal")
        assert changes, "listeners are told about every change"
    finally:
        await d.stop()


async def test_an_old_file_rewritten_in_place_is_seen_by_the_next_full_look(
    settings: Settings, fdir: Path
) -> None:
    path = write_function(fdir, "old", ASYNC + "TIMEOUT = 1\n")
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))  # as a deploy that keeps mtimes leaves it
    d = Discovery(settings)
    await d.scan()
    inode = path.stat().st_ino
    with path.open("w") as f:  # in place: the directory does not change
        f.write(ASYNC + "TIMEOUT = 2\n")
    assert path.stat().st_ino == inode
    await d.start()
    try:
        limit = FULL_SCAN_INTERVAL + 2.0  # the next full look, and the import
        await wait_for(lambda: d.functions["old"].policy.timeout == 2.0, limit, "the edit")
    finally:
        await d.stop()


async def test_broken_files_are_reported_and_the_rest_loads(settings: Settings, fdir: Path) -> None:
    write_function(fdir, "good", ASYNC)
    write_function(fdir, "syntax", "def handle(payload, ctx)\n    return 1\n")
    write_function(fdir, "raises", "x = 1\nraise RuntimeError('no config')\n")
    write_function(fdir, "exits", "import sys\nsys.exit(3)\n")
    write_function(fdir, "nohandle", "def other(payload, ctx):\n    return 1\n")
    write_function(fdir, "notcallable", "handle = 42\n")
    write_function(fdir, "badpolicy", ASYNC + "RETRIES = 'three'\n")
    write_function(fdir, "_private", "raise RuntimeError('never imported')\n")
    write_function(fdir, "Bad-Name", ASYNC)
    d = Discovery(settings)
    await d.scan()

    assert set(d.functions) == {"good"}
    errors = d.errors
    assert set(errors) == {
        "syntax.py",
        "raises.py",
        "exits.py",
        "nohandle.py",
        "notcallable.py",
        "badpolicy.py",
        "Bad-Name.py",
    }
    assert "SyntaxError" in errors["syntax.py"]
    assert "RuntimeError: no config (line 2)" in errors["raises.py"]
    assert "SystemExit" in errors["exits.py"]
    assert "handle" in errors["nohandle.py"] and "async def handle" in errors["nohandle.py"]
    assert "handle" in errors["notcallable.py"]
    assert "RETRIES" in errors["badpolicy.py"] and "whole number" in errors["badpolicy.py"]
    assert "lower-case" in errors["Bad-Name.py"]
    assert not any(m.startswith("_streamfn_fn_syntax") for m in sys.modules)

    # Fixing a file clears its error and loads it.
    write_function(fdir, "badpolicy", ASYNC + "RETRIES = 3\n")
    await d.scan()
    assert "badpolicy" in d.functions and "badpolicy.py" not in d.errors


async def test_a_hanging_import_is_reported_not_waited_for(settings: Settings, fdir: Path) -> None:
    write_function(fdir, "slow", "import time\ntime.sleep(1)\n" + ASYNC)
    write_function(fdir, "fine", ASYNC)
    d = Discovery(settings, import_timeout=0.2)
    await d.scan()
    assert "fine" in d.functions
    assert "longer than 0.2 s" in d.errors["slow.py"]


async def test_missing_directory_is_reported(settings: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    d = Discovery(replace(settings, functions_dir=tmp_path / "nowhere"))
    await d.scan()
    assert d.functions == {}
    (message,) = d.errors.values()
    assert "STREAMFN_FUNCTIONS_DIR" in message


async def test_removed_names_the_files_of_functions_it_had_until_they_are_back(
    settings: Settings, fdir: Path
) -> None:
    write_function(fdir, "had", ASYNC)
    write_function(fdir, "never_loaded", "import nonexistent_module_xyz\n")
    d = Discovery(settings)
    await d.scan()
    write_function(fdir, "had", "import nonexistent_module_xyz\n")  # broken, still there
    await d.scan()
    assert "had" not in d.functions and d.removed == set()
    (fdir / "had.py").unlink()
    (fdir / "never_loaded.py").unlink()
    await d.scan()
    assert d.removed == {"had"}, "only a function this runner had counts as removed"
    write_function(fdir, "had", "import nonexistent_module_xyz\n")
    await d.scan()
    assert d.removed == set(), "a file of that name is back (even a broken one)"
