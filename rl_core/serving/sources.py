"""Where serving gets its champions: a `ModelSource` answers "which version is champion?"
(cheap, polled) and "give me that bundle" (expensive, only when the version changed).

    DirectorySource(root)   <root>/<agent>/<version>/ bundle folders and
                            <root>/<agent>/CHAMPION, a text file naming the version
                            (tests, local runs; `promote` rewrites it atomically)
    RegistrySource()        the MLflow registry's `champion` alias (rl_core.registry)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

from rl_core.errors import ForecourtError
from rl_core.training.bundle import PolicyBundle, read_bundle

CHAMPION_FILE = "CHAMPION"


class ModelSourceError(ForecourtError):
    """A model source that cannot be used (missing folder, bad version name...)."""


@runtime_checkable
class ModelSource(Protocol):
    def version(self, agent: str) -> str | None:
        """The champion's version for `agent`, None when there is none."""

    def load(self, agent: str) -> tuple[PolicyBundle, str] | None:
        """The champion's bundle and its version, None when there is none."""


def _check_version(version: str) -> str:
    if not version or version in (".", "..") or "/" in version or "\\" in version:
        raise ModelSourceError(f"invalid model version {version!r}: use a plain folder name")
    return version


class DirectorySource:
    """Champions as bundle folders on disk: <root>/<agent>/<version>/ + <root>/<agent>/CHAMPION."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ModelSourceError(
                f"model folder {self.root} does not exist: create <root>/<agent>/<version>/ "
                f"bundles and a <root>/<agent>/{CHAMPION_FILE} file naming the version"
            )

    def __repr__(self) -> str:
        return f"DirectorySource({str(self.root)!r})"

    def version(self, agent: str) -> str | None:
        try:
            text = (self.root / agent / CHAMPION_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        return _check_version(text) if text else None

    def load(self, agent: str) -> tuple[PolicyBundle, str] | None:
        version = self.version(agent)
        if version is None:
            return None
        return read_bundle(self.root / agent / version), version

    def promote(self, agent: str, version: str) -> None:
        """Make `version` the champion (atomic: readers see the old or the new name)."""
        _check_version(version)
        read_bundle(self.root / agent / version)  # refuse to point at a non-bundle
        final = self.root / agent / CHAMPION_FILE
        tmp = final.with_name(f".{CHAMPION_FILE}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(version + "\n")
        os.replace(tmp, final)


class RegistrySource:
    """Champions from the model registry (its `champion` alias), imported lazily."""

    def __repr__(self) -> str:
        return "RegistrySource()"

    def version(self, agent: str) -> str | None:
        from rl_core import registry

        return registry.champion_version(agent)

    def load(self, agent: str) -> tuple[PolicyBundle, str] | None:
        from rl_core import registry

        return registry.champion_bundle(agent)


def source_from_spec(spec: str) -> ModelSource:
    """`registry` -> RegistrySource(), anything else is a DirectorySource folder."""
    return RegistrySource() if spec == "registry" else DirectorySource(spec)
