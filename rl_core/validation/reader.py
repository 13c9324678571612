"""Read one delivered pricing file (CSV, gzipped CSV or Parquet) from a path or fsspec URI.

Everything that can go wrong with the bytes themselves becomes a `DataReadError` that names
the problem and the fix (empty file, header without rows, truncated or corrupt Parquet,
bytes that are not UTF-8, a delimiter other than the expected one), never a raw traceback.
What the values mean is not checked here: that is the expectation suite's job.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass
from datetime import date

import fsspec
import pandas as pd

from rl_core.validation.errors import DataReadError, DeliveryNotFoundError

PARQUET_MAGIC = b"PAR1"
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_DAY_IN_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})")
_DAY_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
_COMPACT_DAY_IN_NAME = re.compile(r"(?<!\d)(\d{8})(?!\d)")


@dataclass
class Delivery:
    """A delivered file and what was read from it."""

    uri: str  # as given
    path: str  # without the protocol, for the file system
    fs: fsspec.AbstractFileSystem
    name: str  # base name
    size: int
    format: str  # "csv" | "parquet"
    frame: pd.DataFrame | None = None  # None when it could not be read
    error: str | None = None  # the DataReadError's message when it could not be read


def open_delivery(source: str | os.PathLike) -> Delivery:
    """Locate `source` (DeliveryNotFoundError when there is no file there)."""
    uri = os.fspath(source)
    try:
        fs, path = fsspec.core.url_to_fs(uri)
    except (ValueError, ImportError) as exc:
        raise DeliveryNotFoundError(f"cannot open {uri}: {exc}") from None
    if not fs.exists(path):
        raise DeliveryNotFoundError(f"no file at {uri}")
    if fs.isdir(path):
        raise DeliveryNotFoundError(f"{uri} is a folder; give one day's file")
    name = path.rstrip("/").rsplit("/", 1)[-1]
    size = int(fs.size(path) or 0)
    fmt = "parquet" if _strip_gz(name).lower().endswith(PARQUET_SUFFIXES) else "csv"
    return Delivery(uri=uri, path=path, fs=fs, name=name, size=size, format=fmt)


def read_delivery(
    source: str | os.PathLike | Delivery, *, encoding: str = "utf-8", delimiter: str = ","
) -> Delivery:
    """Open and read `source`; raises DataReadError naming what is wrong with the file."""
    delivery = source if isinstance(source, Delivery) else open_delivery(source)
    data = delivery.fs.cat_file(delivery.path)
    delivery.size = len(data)
    delivery.frame = parse_bytes(
        data, delivery.name, encoding=encoding, delimiter=delimiter, fmt=delivery.format
    )
    if data[:4] == PARQUET_MAGIC:
        delivery.format = "parquet"
    return delivery


def parse_bytes(
    data: bytes,
    name: str,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    fmt: str | None = None,
) -> pd.DataFrame:
    """The table in `data` (a file's bytes). `name` is used in messages and, unless `fmt`
    ("csv" or "parquet") says, for the format: Parquet by suffix or by its magic bytes."""
    if fmt is None:
        fmt = "parquet" if _strip_gz(name).lower().endswith(PARQUET_SUFFIXES) else "csv"
    if not data:
        raise DataReadError(f"{name} is empty (0 bytes): nothing was delivered in it")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataReadError(f"{name} is a truncated or corrupt gzip file ({exc})") from None
        if not data:
            raise DataReadError(f"{name} holds an empty gzip stream: no rows")
    if fmt == "parquet" or data[:4] == PARQUET_MAGIC:
        frame = _parse_parquet(data, name)
    else:
        frame = _parse_csv(data, name, encoding, delimiter)
    if len(frame) == 0:
        cols = ", ".join(map(str, frame.columns)) or "no columns"
        raise DataReadError(f"{name} has a header ({cols}) but no data rows")
    return frame


def _parse_parquet(data: bytes, name: str) -> pd.DataFrame:
    if data[:4] != PARQUET_MAGIC:
        raise DataReadError(
            f"{name} is not a Parquet file (it does not start with the PAR1 magic bytes; "
            f"first bytes {data[:8]!r})"
        )
    if len(data) < 12 or data[-4:] != PARQUET_MAGIC:
        raise DataReadError(
            f"{name} is a truncated Parquet file ({len(data):,} bytes, no PAR1 footer): "
            "the upload was probably cut off; deliver it again"
        )
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises OSError, ArrowInvalid, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataReadError(f"{name} is a corrupt Parquet file: {first}") from None


def _parse_csv(data: bytes, name: str, encoding: str, delimiter: str) -> pd.DataFrame:
    text = _decode(data, name, encoding)
    if not text.strip():
        raise DataReadError(f"{name} holds only whitespace: no header, no rows")
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype={"station_id": str}, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise DataReadError(f"{name} has no header and no rows") from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataReadError(f"{name} is not a well-formed CSV: {first}") from None
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        seen = [d for d in _OTHER_DELIMITERS if d != delimiter and d in header]
        if seen:
            raise DataReadError(
                f"{name} uses the wrong delimiter: its header {header[:80]!r} reads as one "
                f"column with {delimiter!r}; it looks {seen[0]!r}-separated "
                f"(deliver {delimiter!r}-separated CSV or set the delimiter)"
            )
    return frame


def _decode(data: bytes, name: str, encoding: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataReadError(
            f"{name} is UTF-16 encoded (it starts with a UTF-16 byte-order mark); "
            f"deliver it as {encoding}"
        )
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        around = data[max(exc.start - 12, 0) : exc.end + 12]
        hint = (
            "it looks latin-1/cp1252 encoded"
            if all(b >= 0x80 for b in data[exc.start : exc.end])
            else "it may be binary"
        )
        raise DataReadError(
            f"{name} is not valid {encoding}: byte {exc.start:,} ({around!r}) does not decode; "
            f"{hint}: re-export it as {encoding} (or set the encoding)"
        ) from None
    if "\x00" in text[:4096]:
        raise DataReadError(
            f"{name} contains NUL bytes: it looks UTF-16 encoded (without a byte-order mark) "
            f"or binary; deliver {encoding} text"
        )
    return text


def infer_day(source: str | os.PathLike, frame: pd.DataFrame | None = None) -> date | None:
    """The day a delivery is for: `date=YYYY-MM-DD` in its path, a date in its file name,
    else the most common value of its `date` column; None when none of them says.

    The path wins over the column on purpose: a file for the 5th whose rows say the 4th must
    be flagged as a wrong date, not silently replace the 4th.
    """
    text = os.fspath(source)
    name = text.rstrip("/").rsplit("/", 1)[-1]
    for pattern, fmt, where in (
        (_DAY_IN_PARTITION, "%Y-%m-%d", text),
        (_DAY_IN_NAME, "%Y-%m-%d", name),
        (_COMPACT_DAY_IN_NAME, "%Y%m%d", name),
    ):
        for match in pattern.finditer(where):
            try:
                return pd.to_datetime(match.group(1), format=fmt).date()
            except ValueError:
                continue
    if frame is not None and "date" in frame.columns:
        from rl_core.validation.frame import parse_dates

        dates = parse_dates(frame["date"]).dropna()
        if len(dates):
            return dates.mode().iloc[0].date()
    return None


def _strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name
