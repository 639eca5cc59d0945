"""deploy/kubernetes says what the code does: settings that parse, grace periods that outlast
the runner's shutdown, probes on paths and ports that are served, a KEDA trigger that reads
the gateway's backlog, commands that exist (gateway, runner, scheduler), and the image version
of this package."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamfn.cli import DELEGATED
from streamfn.gateway.models import Backlog
from streamfn.gateway.routes import ROUTES
from streamfn.runner.metrics_server import LIVENESS_PATH, READINESS_PATH
from streamfn.runner.supervisor import FLUSH_TIMEOUT, RELEASE_TIMEOUT
from streamfn.settings import Settings
from tests.deploy.manifests import (
    BASE,
    DEPLOY,
    ROOT,
    Doc,
    containers,
    env_file,
    load,
    manifest_files,
    objects,
    one,
)

BASE_DOCS = [
    d for p in sorted(BASE.glob("*.yaml")) if p.name != "kustomization.yaml" for d in load(p)
]
KUSTOMIZATION = load(BASE / "kustomization.yaml")[0]


def base_settings() -> Settings:
    """The settings every pod of the base gets: settings.env and the Redis Secret."""
    env = env_file(BASE / "settings.env")
    (redis,) = KUSTOMIZATION["secretGenerator"]
    env.update(literal.split("=", 1) for literal in redis["literals"])
    return Settings.from_env(env)


def probe_port(container: Doc, probe: Doc) -> int:
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    port: Any = probe["httpGet"]["port"]
    return int(named.get(port, port))


def test_the_settings_parse_and_name_the_base_namespace() -> None:
    settings = base_settings()  # raises on an unknown name or a bad value
    assert settings.redis_url.startswith("redis://")
    assert KUSTOMIZATION["namespace"] == "streamfn"


def test_the_runner_outlasts_its_own_shutdown() -> None:
    runner = one(BASE_DOCS, "Deployment", "streamfn-runner")
    grace = runner["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    shutdown = base_settings().shutdown_grace + FLUSH_TIMEOUT + RELEASE_TIMEOUT
    assert grace > shutdown + 1, (grace, shutdown)
    assert "replicas" not in runner["spec"], "KEDA's HPA owns the runner count"


def test_the_gateway_outlasts_its_prestop_and_drain() -> None:
    gateway = one(BASE_DOCS, "Deployment", "streamfn-gateway")
    pod = gateway["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    sleep, seconds = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(seconds) + base_settings().shutdown_grace


def test_runner_probes_are_the_ones_the_runner_serves() -> None:
    (container,) = containers(one(BASE_DOCS, "Deployment", "streamfn-runner"))
    paths = {
        kind: container[kind]["httpGet"]["path"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert paths == {
        "startupProbe": LIVENESS_PATH,
        "livenessProbe": LIVENESS_PATH,
        "readinessProbe": READINESS_PATH,
    }
    for kind in paths:
        assert probe_port(container, container[kind]) == base_settings().runner_metrics_port


def test_gateway_probes_and_service_reach_served_routes() -> None:
    gateway = one(BASE_DOCS, "Deployment", "streamfn-gateway")
    (container,) = containers(gateway)
    served = {r.path for r in ROUTES if r.method == "GET"}
    for kind in ("livenessProbe", "readinessProbe"):
        assert container[kind]["httpGet"]["path"] in served
        assert probe_port(container, container[kind]) == base_settings().port
    service = one(BASE_DOCS, "Service", "streamfn-gateway")
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_the_keda_trigger_reads_the_gateways_backlog() -> None:
    scaled = one(BASE_DOCS, "ScaledObject", "streamfn-runner")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "streamfn-runner"
    assert scaled["spec"]["minReplicaCount"] == 0
    (trigger,) = scaled["spec"]["triggers"]
    assert (trigger["type"], trigger["metricType"]) == ("metrics-api", "AverageValue")
    meta = trigger["metadata"]
    url = urlsplit(meta["url"])
    service = one(BASE_DOCS, "Service", "streamfn-gateway")
    # KEDA's operator runs in its own namespace: the host must name ours.
    assert url.hostname == f"{service['metadata']['name']}.{KUSTOMIZATION['namespace']}.svc"
    assert url.port == service["spec"]["ports"][0]["port"]
    assert ("GET", url.path) in {(r.method, r.path) for r in ROUTES}
    assert (meta["format"], meta["valueLocation"]) == ("json", "backlog")
    assert meta["valueLocation"] in Backlog.__struct_fields__
    assert 0 < float(meta["targetValue"]) <= base_settings().concurrency
    assert float(meta["activationTargetValue"]) == 0  # one invocation (1 > 0) wakes it


def commands(path: Path) -> list[tuple[str, str]]:
    """(image, streamfn command) of every container of the Deployments in ``path``."""
    return [
        (c["image"], c["args"][0])
        for deployment in objects(load(path), "Deployment")
        for c in containers(deployment)
    ]


VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_every_pod_runs_a_streamfn_command_of_this_version() -> None:
    found = sorted(cmd for p in manifest_files() for cmd in commands(p))
    image = f"streamfn:{VERSION}"
    assert found == [(image, "gateway"), (image, "runner"), (image, "scheduler")]
    assert all(command in DELEGATED for _, command in found)


def test_the_configmap_overlay_ships_the_repositorys_echo() -> None:
    shipped = DEPLOY / "overlays" / "functions-configmap" / "functions" / "echo.py"
    assert shipped.read_text() == (ROOT / "functions" / "echo.py").read_text()
