"""The Kubernetes manifests of deploy/kubernetes, loaded, rendered and validated offline.

* Core objects go through ``kubernetes-validate`` in strict mode (an unknown field is an
  error, as ``kubectl apply``'s default strict field validation makes it), against the oldest
  Kubernetes we claim and the newest the package knows.
* The KEDA ScaledObject goes through the ``v1alpha1`` openAPIV3Schema of KEDA's own CRD
  (vendored in tests/deploy/keda), made strict the same way: ``additionalProperties: false``
  wherever the CRD lists properties and keeps no unknown fields.
* Kustomizations are rendered by ``kubectl kustomize`` (kustomize v5 is built into kubectl,
  which this machine kind carries); without kubectl the rendering tests are skipped and the
  plain files are still checked.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
BASE = DEPLOY / "base"
CRD = Path(__file__).resolve().parent / "keda" / "keda.sh_scaledobjects.yaml"
KUBERNETES = ("1.29.0", "1.37.0")
"""The oldest Kubernetes the manifests claim (docs/deploy.md), and the newest with schemas."""
KUBECTL = shutil.which("kubectl")

Doc = dict[str, Any]


def load(path: Path) -> list[Doc]:
    """Every YAML document of ``path`` (empty ones dropped)."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def manifest_files() -> list[Path]:
    """Every object file of deploy/kubernetes: not the kustomizations, not the patches."""
    return sorted(
        p
        for p in DEPLOY.rglob("*.yaml")
        if p.name != "kustomization.yaml" and "overlays" not in p.parts
    )


def objects(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = objects(docs, kind, name)
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def containers(deployment: Doc) -> list[Doc]:
    spec: list[Doc] = deployment["spec"]["template"]["spec"]["containers"]
    return spec


def env_file(path: Path) -> dict[str, str]:
    """A kustomize ``envs:`` file: ``NAME=value`` lines, ``#`` comments."""
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def validate_core(doc: Doc) -> None:
    """Raise ``kubernetes_validate.ValidationError`` unless ``doc`` is valid in every version."""
    for version in KUBERNETES:
        kubernetes_validate.validate(doc, version, strict=True)


def _strict(schema: Any) -> Any:
    """``schema`` with unknown fields refused wherever it names its fields."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        keeps_unknown = schema.get("x-kubernetes-preserve-unknown-fields") is True
        if "properties" in schema and "additionalProperties" not in schema and not keeps_unknown:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@cache
def scaled_object_schema() -> Doc:
    (crd,) = load(CRD)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: Doc = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
    # The CRD leaves metadata to the API server (ObjectMeta): check what we write in it.
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    return schema


def validate_scaled_object(doc: Doc) -> None:
    """Raise ``jsonschema.ValidationError`` unless KEDA's CRD schema accepts ``doc``."""
    assert doc["apiVersion"] == "keda.sh/v1alpha1", doc["apiVersion"]
    jsonschema.validate(doc, scaled_object_schema())


def validate(doc: Doc) -> None:
    if doc["apiVersion"].startswith("keda.sh/"):
        validate_scaled_object(doc)
    else:
        validate_core(doc)


def render(directory: Path) -> list[Doc]:
    """``kubectl kustomize directory``: what ``kubectl apply -k`` would send."""
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def references(doc: Doc) -> Iterator[tuple[str, str]]:
    """(kind, name) of each ConfigMap and Secret a workload's pods use."""
    pod = doc["spec"]["template"]["spec"]
    for c in pod["containers"]:
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                yield "ConfigMap", source["configMapRef"]["name"]
            if "secretRef" in source:
                yield "Secret", source["secretRef"]["name"]
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"]
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"]


@dataclass(frozen=True, slots=True)
class Trigger:
    """The ScaledObject's metrics-api trigger: what KEDA requests and how it reads the answer."""

    path: str
    value_location: str
    activation: float

    @classmethod
    def shipped(cls) -> Trigger:
        """The one trigger of deploy/kubernetes/base/scaledobject.yaml."""
        scaled = one(load(BASE / "scaledobject.yaml"), "ScaledObject", "streamfn-runner")
        (trigger,) = scaled["spec"]["triggers"]
        meta = trigger["metadata"]
        assert (trigger["type"], meta["format"]) == ("metrics-api", "json")
        return cls(
            urlsplit(meta["url"]).path, meta["valueLocation"], float(meta["activationTargetValue"])
        )

    def read(self, status: int, body: Any) -> tuple[float, bool]:
        """(value, active) from one answer, as KEDA's scaler reads it: anything but 200 is an
        error; ``valueLocation`` is a GJSON path (ours: plain keys, ``a.b``); active is
        value > ``activationTargetValue``."""
        assert status == 200, (status, body)
        for key in self.value_location.split("."):
            body = body[key]
        assert isinstance(body, int | float) and not isinstance(body, bool), body
        return float(body), body > self.activation
