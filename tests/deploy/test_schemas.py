"""deploy/kubernetes validates offline: every object file against the Kubernetes schemas (or
KEDA's CRD), and every kustomization rendered by kustomize and validated again, with each
ConfigMap and Secret a pod uses present in its namespace.  No cluster is involved."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.manifests import (
    BASE,
    CRD,
    DEPLOY,
    KUBECTL,
    Doc,
    load,
    manifest_files,
    one,
    references,
    render,
    validate,
    validate_scaled_object,
)

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl (kustomize) not on PATH")

KUSTOMIZATIONS = [
    BASE,
    DEPLOY / "overlays" / "functions-configmap",
    DEPLOY / "overlays" / "functions-image",
]


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_each_object_file_is_valid(path: Path) -> None:
    docs = load(path)
    assert docs, f"{path} holds no object"
    for doc in docs:
        validate(doc)


def test_strict_validation_refuses_an_unknown_field() -> None:
    """The checks above would catch a typo: both validators refuse a field that does not exist."""
    (runner,) = load(BASE / "runner.yaml")
    runner["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        validate(runner)
    (scaled,) = load(BASE / "scaledobject.yaml")
    scaled["spec"]["pollingIntervall"] = 10
    with pytest.raises(jsonschema.ValidationError, match="pollingIntervall"):
        validate_scaled_object(scaled)
    (scaled,) = load(BASE / "scaledobject.yaml")
    scaled["spec"]["triggers"][0]["metadata"]["targetValue"] = 100  # KEDA wants strings
    with pytest.raises(jsonschema.ValidationError):
        validate_scaled_object(scaled)


def test_the_vendored_crd_is_the_release_its_readme_names() -> None:
    readme = (CRD.parent / "README.md").read_text()
    (digest,) = re.findall(r"sha256\s+`([0-9a-f]{64})`", readme)
    assert hashlib.sha256(CRD.read_bytes()).hexdigest() == digest
    assert "v2.20.2" in readme and "Apache License 2.0" in readme
    assert (CRD.parent / "LICENSE").read_text().split()[:3] == ["Apache", "License", "Version"]


def check_rendered(docs: list[Doc]) -> None:
    for doc in docs:
        validate(doc)
    present = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for d in docs}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        ns = doc["metadata"].get("namespace")
        for kind, name in references(doc):
            assert (kind, name, ns) in present, f"{doc['metadata']['name']} uses {kind} {name}"


@needs_kubectl
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_each_kustomization_renders_valid_objects(directory: Path) -> None:
    docs = render(directory)
    check_rendered(docs)
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"} == {
        "streamfn-gateway",
        "streamfn-runner",
        "streamfn-scheduler",
    }
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {
        "streamfn"
    }


@needs_kubectl
def test_the_configmap_overlay_mounts_its_functions_in_the_runners() -> None:
    docs = render(DEPLOY / "overlays" / "functions-configmap")
    runner = one(docs, "Deployment", "streamfn-runner")
    (volume,) = [v for v in runner["spec"]["template"]["spec"]["volumes"] if "configMap" in v]
    config = one(docs, "ConfigMap", volume["configMap"]["name"])
    assert set(config["data"]) == {"echo.py"}
    (mount,) = [
        m
        for m in runner["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        if m["name"] == volume["name"]
    ]
    assert mount["mountPath"] == image_functions_dir()


def image_functions_dir() -> str:
    """STREAMFN_FUNCTIONS_DIR as the Dockerfile sets it: where the runners look."""
    text = (DEPLOY.parents[1] / "Dockerfile").read_text()
    (value,) = re.findall(r"STREAMFN_FUNCTIONS_DIR=(\S+)", text)
    return value
