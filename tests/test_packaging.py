"""Packaging: the wheel really ships the Lua scripts; Dockerfile and compose.yaml hold together.

There is no Docker engine in CI, so nothing here builds an image.  The wheel is built from
exactly the files the Dockerfile copies, which is what ``pip install .`` sees in the image.
compose.yaml is checked by ``docker-compose config`` where that tool is installed, and by its
structure (parsed with PyYAML) everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def instructions(name: str) -> list[str]:
    """Arguments of every ``name`` instruction in the Dockerfile (continuations joined)."""
    text = DOCKERFILE.replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [line[len(name) + 1 :].strip() for line in lines if line.startswith(name + " ")]


def copied_sources() -> list[str]:
    """What the Dockerfile copies from the build context (not ``--from`` a stage)."""
    sources: list[str] = []
    for args in instructions("COPY"):
        words = [w for w in args.split() if not w.startswith("--")]
        sources += words[:-1]
    return sources


# --- the wheel ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built (with build isolation, like ``pip install .``) from the Docker inputs."""
    src = tmp_path_factory.mktemp("src")
    for name in copied_sources():
        if name == "functions":
            continue  # copied into the image beside the package, not part of it
        path = ROOT / name
        if path.is_dir():
            # The same exclusions as .dockerignore: caches, the peers' venvs, results.
            skip = shutil.ignore_patterns("__pycache__", ".peers", "results")
            shutil.copytree(path, src / name, ignore=skip)
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("streamfn-*.whl")
    return built


def test_wheel_ships_every_lua_script_page_asset_and_the_typing_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    scripts = sorted(p.name for p in (ROOT / "lua").glob("*.lua"))
    assert scripts
    assert {f"streamfn/lua/{s}" for s in scripts} <= names
    assert "streamfn/py.typed" in names
    pages = sorted(p.name for p in (ROOT / "gateway" / "static").iterdir())
    assert pages and {f"streamfn/gateway/static/{p}" for p in pages} <= names
    for package in PYPROJECT["tool"]["setuptools"]["packages"]:
        assert f"{package.replace('.', '/')}/__init__.py" in names


def test_every_package_is_listed_for_the_wheel() -> None:
    """A subpackage missing from pyproject's list would be left out of the wheel silently."""
    package = ROOT / "streamfn"
    found = {
        ".".join(Path(folder).relative_to(ROOT).parts)
        for folder, _, files in os.walk(package, followlinks=True)  # gateway/runner/lua links
        if "__init__.py" in files
    }
    assert found == set(PYPROJECT["tool"]["setuptools"]["packages"])


def test_wheel_installs_one_top_level_name_and_no_bench(wheel: Path) -> None:
    """gateway, runner and lua install under streamfn; bench is a repository tool."""
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"streamfn"}
    assert not [n for n in names if "/bench/" in n or n.endswith(".cjs")]
    assert {"streamfn/gateway/app.py", "streamfn/runner/supervisor.py"} <= set(names)


def test_wheel_declares_the_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "streamfn = streamfn.cli:main" in text


def test_installed_code_loads_its_scripts_from_outside_the_repo(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import streamfn; from importlib import resources; from streamfn.scripts import SCRIPTS;"
        "print(streamfn.__file__);"
        "lua = resources.files('streamfn.lua').iterdir();"
        "print(*sorted(p.name for p in lua if p.name.endswith('.lua')))"
    )
    # -I: the current dir and PYTHONPATH stay off sys.path, so the repo cannot stand in.
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(site)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    location, scripts = done.stdout.splitlines()
    assert location.startswith(str(site))
    assert scripts.split() == sorted(p.name for p in (ROOT / "lua").glob("*.lua"))


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_base_user_and_entrypoint() -> None:
    assert instructions("FROM") == ["python:3.11-slim"]
    (user,) = instructions("USER")
    assert user.split(":")[0] not in {"root", "0"}
    assert [json.loads(e) for e in instructions("ENTRYPOINT")] == [["streamfn"]]
    assert [json.loads(c) for c in instructions("CMD")] == [["gateway"]]
    env = " ".join(instructions("ENV"))
    assert "STREAMFN_HOST=0.0.0.0" in env
    assert any("pip install ." in run for run in instructions("RUN"))


def test_dockerfile_copies_every_package_and_the_functions() -> None:
    sources = set(copied_sources())
    # streamfn/gateway, streamfn/runner and streamfn/lua are symlinks to these folders.
    assert {"streamfn", "gateway", "runner", "lua"} <= sources, "pip install . needs them all"
    assert "bench" not in sources, "the benchmarks are not part of the image"
    assert {"pyproject.toml", PYPROJECT["project"]["readme"], "functions"} <= sources


def test_dockerignore_keeps_what_the_image_needs() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not ignored & set(copied_sources())
    assert {".git", ".venv", "bench"} <= ignored


# --- compose.yaml -------------------------------------------------------------------------


def test_compose_file_is_valid_for_docker_compose() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    done = subprocess.run(
        [tool, "-f", str(ROOT / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read compose.yaml")
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "write environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def test_compose_has_redis_gateway_runner_and_scheduler(compose: dict[str, Any]) -> None:
    assert {"redis", "gateway", "runner", "scheduler"} <= set(compose["services"])


def test_compose_scheduler_runs_the_image_against_the_same_redis(compose: dict[str, Any]) -> None:
    scheduler = compose["services"]["scheduler"]
    assert scheduler["command"] in (["scheduler"], "scheduler")
    assert scheduler["image"] == compose["services"]["gateway"]["image"]
    assert _env(scheduler)["STREAMFN_REDIS_URL"] == "redis://redis:6379/0"
    assert scheduler["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_redis_is_durable_and_never_evicts(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert redis["image"] == "redis:7.0"
    command = " ".join(map(str, redis["command"]))
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command
    (data,) = [v for v in redis["volumes"] if str(v).endswith(":/data")]
    assert data.split(":")[0] in compose["volumes"]
    assert "test" in redis["healthcheck"]


def test_compose_gateway(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["build"] == "."
    assert "8080:8080" in [str(p) for p in gateway["ports"]]
    env = _env(gateway)
    assert env["STREAMFN_REDIS_URL"] == "redis://redis:6379/0"
    assert env["STREAMFN_HOST"] == "0.0.0.0"
    assert gateway["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_runner_can_be_scaled(compose: dict[str, Any]) -> None:
    runner = compose["services"]["runner"]
    gateway = compose["services"]["gateway"]
    assert "container_name" not in runner
    assert "ports" not in runner  # metrics are for the compose network only
    assert "9091" in [str(p) for p in runner["expose"]]
    assert runner["command"] in (["runner"], "runner")
    assert runner["image"] == gateway["image"]
    assert _env(runner)["STREAMFN_REDIS_URL"] == "redis://redis:6379/0"
    assert runner["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["gateway", "runner"])
def test_compose_mounts_functions_read_only(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    target = _env(service)["STREAMFN_FUNCTIONS_DIR"]
    assert f"./functions:{target}:ro" in service["volumes"]
    assert f"STREAMFN_FUNCTIONS_DIR={target}" in " ".join(instructions("ENV"))
