"""A run's folder at any fsspec URI: a local path by default, `s3://` on AWS.

Every step of a daily run reads what earlier steps left here and adds its own records, so
the steps can run in different processes, containers or machines (an MWAA worker, an AWS
Batch job) with nothing but the plan's URI in common. One code path for every URI:

- small JSON records: `save` / `load` (atomic locally: a reader never sees half a file;
  on S3 a PUT is atomic by itself);
- folders of files (checkpoints, policy bundles): `staged_output` writes them on local disk
  and publishes them only when complete; `local_copy` gives a local path to read from.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec


def join(uri: str, *parts: str) -> str:
    """`uri`/`part`/... with exactly one slash between pieces, for paths and URIs alike."""
    out = str(uri).rstrip("/")
    for part in parts:
        out = f"{out}/{str(part).strip('/')}"
    return out


def is_local(uri: str) -> bool:
    return "://" not in str(uri) or str(uri).startswith("file://")


def _fs(uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    return fsspec.core.url_to_fs(str(uri))


def save(folder: str | os.PathLike, name: str, obj: Any) -> str:
    """Write `obj` as JSON to folder/name, atomically; returns the file's URI."""
    uri = join(os.fspath(folder), name)
    data = json.dumps(obj, indent=2, default=str)
    if is_local(uri):
        path = Path(_fs(uri)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(data)
        os.replace(tmp, path)
    else:
        fs, path = _fs(uri)
        fs.pipe_file(path, data.encode())
    return uri


def load(folder: str | os.PathLike, name: str) -> Any:
    """The JSON at folder/name, or None when there is none."""
    fs, path = _fs(join(os.fspath(folder), name))
    if not fs.isfile(path):
        return None
    with fs.open(path, "rb") as fh:
        return json.loads(fh.read())


def exists(folder: str | os.PathLike, name: str) -> bool:
    fs, path = _fs(join(os.fspath(folder), name))
    return fs.exists(path)


def remove(folder: str | os.PathLike, name: str) -> None:
    """Delete folder/name if it is there."""
    fs, path = _fs(join(os.fspath(folder), name))
    if fs.exists(path):
        fs.rm(path)


def names(folder: str | os.PathLike, pattern: str) -> list[str]:
    """Paths under `folder` matching the glob `pattern`, relative to `folder`, sorted."""
    fs, base = _fs(os.fspath(folder))
    base = base.rstrip("/")
    return sorted(p[len(base) + 1 :] for p in fs.glob(f"{base}/{pattern}"))


@contextmanager
def staged_output(folder: str | os.PathLike, name: str) -> Iterator[Path]:
    """A local, empty folder to write folder/name into; published only if the block succeeds.

    Locally the files go to a hidden sibling that is renamed into place at the end; on S3
    they are uploaded after the block. Either way a failed or killed writer leaves no
    half-written folder under `name` (a previous complete one is replaced only at the end).
    """
    uri = join(os.fspath(folder), name)
    if is_local(uri):
        final = Path(_fs(uri)[1])
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir()
        try:
            yield tmp
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    with tempfile.TemporaryDirectory(prefix="forecourt-stage-") as tmp:
        yield Path(tmp)
        fs, path = _fs(uri)
        fs.put(f"{tmp}/", path.rstrip("/") + "/", recursive=True)


@contextmanager
def local_copy(uri: str) -> Iterator[Path]:
    """A local path holding the folder (or file) at `uri`: itself when local, else a
    temporary download removed after the block."""
    if is_local(uri):
        yield Path(_fs(uri)[1])
        return
    fs, path = _fs(uri)
    with tempfile.TemporaryDirectory(prefix="forecourt-fetch-") as tmp:
        target = Path(tmp) / Path(path.rstrip("/")).name
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", f"{target}/", recursive=True)
        else:
            fs.get(path, str(target))
        yield target


def put_file(local: Path, folder: str | os.PathLike, name: str) -> str:
    """Copy one local file to folder/name (no-op when that is where it already is)."""
    uri = join(os.fspath(folder), name)
    fs, path = _fs(uri)
    if is_local(uri):
        if Path(path).resolve() != Path(local).resolve():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, path)
    else:
        fs.put_file(str(local), path)
    return uri
