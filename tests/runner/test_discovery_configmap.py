"""Discovery over a Kubernetes ConfigMap volume (deploy/kubernetes/overlays/functions-configmap).

The kubelet writes a ConfigMap volume as its AtomicWriter does: the files live in a hidden
timestamped folder, ``..data`` links to it, and each key is a link ``<key> -> ..data/<key>``.
An update writes a new folder and swaps ``..data`` with one rename, so every file changes at
once; a removed key loses its link.  Discovery follows the links (the inode it compares is the
target's), so an updated ConfigMap takes effect without a restart.
"""

from __future__ import annotations

import os
from pathlib import Path

from streamfn.runner.discovery import Discovery
from streamfn.settings import Settings
from tests.runner.conftest import wait_for


class ConfigMapVolume:
    """A folder laid out and updated the way the kubelet does it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.version = 0

    def write(self, files: dict[str, str]) -> None:
        self.version += 1
        data = self.root / f"..2026_12_03_00_00_00.{self.version:09d}"
        data.mkdir()
        for name, text in files.items():
            (data / name).write_text(text)
        old = os.readlink(self.root / "..data") if (self.root / "..data").exists() else None
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(data.name)
        os.replace(tmp, self.root / "..data")  # the one atomic swap
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(f"..data/{name}")
        for link in self.root.iterdir():
            if link.is_symlink() and not link.name.startswith("..") and link.name not in files:
                link.unlink()
        if old is not None:
            for f in (self.root / old).iterdir():
                f.unlink()
            (self.root / old).rmdir()


def handler(timeout: int) -> str:
    return f"TIMEOUT = {timeout}\n\nasync def handle(payload, ctx):\n    return payload\n"


async def test_an_updated_configmap_reloads_adds_and_removes(
    settings: Settings, fdir: Path
) -> None:
    volume = ConfigMapVolume(fdir)
    volume.write({"echo.py": handler(5)})
    d = Discovery(settings)
    await d.start()
    try:
        await wait_for(lambda: "echo" in d.functions, 2, "echo from the ConfigMap")
        assert d.functions["echo"].policy.timeout == 5.0
        assert d.errors == {}

        volume.write({"echo.py": handler(7), "other.py": handler(1)})
        await wait_for(
            lambda: "other" in d.functions and d.functions["echo"].policy.timeout == 7.0,
            3,
            "the updated ConfigMap",
        )

        volume.write({"other.py": handler(1)})
        await wait_for(lambda: set(d.functions) == {"other"}, 3, "echo's key removed")
        assert d.errors == {}
    finally:
        await d.stop()
