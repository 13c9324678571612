"""The Great Expectations suite for one day of pricing data, and the runner that applies it.

`build_suite(config, columns)` lists the expectations (each tagged with a short check name
and a description a person can read, both in the summary and in the Data Docs). The suite
depends on the configuration and on which optional columns the delivery carries, never on
the day: the expected day is a suite parameter (`$PARAMETER: day`), so one suite serves a
whole backfill. `GXRunner` keeps one ephemeral context per distinct suite and runs it on a
DataFrame (result format SUMMARY: counts plus up to 20 example values and row indices).

Station counts, drift and the economic checks (whole-day figures, mostly against the trailing
window) are not expectations on one batch; they live in stations.py, drift.py, economics.py.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rl_core.validation._gx import RunIdentifier, ephemeral_context, gx, gxe
from rl_core.validation.config import ValidationConfig
from rl_core.validation.ids import station_id_pattern

SUITE_NAME = "forecourt_pricing_day"
DATA_SOURCE, ASSET, BATCH = "forecourt", "pricing", "delivered_day"
DOCS_SITE = "forecourt_day"
DAY_COLUMN = "_delivered_day"  # backfill only: the day each row's file was delivered for
NUMERIC_TYPES = [
    "float64",
    "float32",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint64",
    "uint32",
    "uint16",
    "uint8",
    "Float64",
    "Float32",
    "Int64",
    "Int32",
]
STATION_ID_TYPES = ["str", "int", "int64", "int32"]
OPTIONAL_VALUE_COLUMNS = ("volume", "unit_cost", "competitor_price")
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
# backfill batches: every unexpected row, named by the day its file was delivered for
BATCH_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [DAY_COLUMN],
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class Check:
    """One expectation with its short name and human description."""

    name: str
    description: str
    expectation: Any  # a gx.expectations.Expectation


def suite_columns(config: ValidationConfig, columns: list[str] | tuple[str, ...]) -> tuple:
    """The value columns the suite covers: the required ones plus optional ones present."""
    cols = ["price"]
    for name in OPTIONAL_VALUE_COLUMNS:
        if name in config.required_columns or name in columns:
            cols.append(name)
    return tuple(cols)


def build_checks(
    config: ValidationConfig, value_columns: tuple[str, ...], multi_day: bool = False
) -> list[Check]:
    """The expectations, in the order the summary lists them.

    `multi_day` is the backfill variant, which validates several delivered days in one run:
    the same expectations, except that each row's date must equal the day its file was
    delivered for (a `_delivered_day` column the backfill adds) instead of one `$day`.
    """
    required = config.required_columns
    checks: list[Check] = [
        Check(
            "has_rows",
            "the file has at least one data row",
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
        ),
    ]
    for col in required:
        checks.append(
            Check(f"{col}_present", f"column {col} is present", gxe.ExpectColumnToExist(column=col))
        )
    checks += [
        Check(
            "station_id_type",
            "station_id holds text (or integer) ids",
            gxe.ExpectColumnValuesToBeInTypeList(column="station_id", type_list=STATION_ID_TYPES),
        ),
        Check(
            "date_parseable",
            "every row has a date that parses as an ISO date (YYYY-MM-DD)",
            gxe.ExpectColumnValuesToNotBeNull(column="date"),
        ),
        Check(
            "station_id_not_null",
            "every row has a station_id",
            gxe.ExpectColumnValuesToNotBeNull(column="station_id"),
        ),
        Check(
            "station_id_format",
            f"station_id, trimmed and upper-cased, is 1-{config.station_id_max_length} of "
            "A-Z 0-9 - _ . (no leading '.', no '..', nothing path-like)",
            gxe.ExpectColumnValuesToMatchRegex(
                column="station_id", regex=station_id_pattern(config.station_id_max_length)
            ),
        ),
        Check(
            "date_station_unique",
            "one row per (date, station_id), ids compared trimmed and upper-cased",
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "station_id"]),
        ),
        Check(
            "date_is_day",
            "every row is dated the day the file was delivered for",
            gxe.ExpectColumnPairValuesToBeEqual(column_A="date", column_B=DAY_COLUMN)
            if multi_day
            else gxe.ExpectColumnValuesToBeBetween(
                column="date", min_value={"$PARAMETER": "day"}, max_value={"$PARAMETER": "day"}
            ),
        ),
    ]
    for col in value_columns:
        lo, hi = config.band(col)
        unit = "L" if col == "volume" else "$/L"
        checks.append(
            Check(
                f"{col}_type",
                f"{col} holds numbers",
                gxe.ExpectColumnValuesToBeInTypeList(column=col, type_list=NUMERIC_TYPES),
            )
        )
        if col in required:
            checks.append(
                Check(
                    f"{col}_not_null",
                    f"every row has a {col}",
                    gxe.ExpectColumnValuesToNotBeNull(column=col),
                )
            )
        if col == "price":
            checks.append(
                Check(
                    "price_positive",
                    "price > 0",
                    gxe.ExpectColumnValuesToBeBetween(column=col, min_value=0, strict_min=True),
                )
            )
        if col == "volume":
            checks.append(
                Check(
                    "volume_non_negative",
                    "volume >= 0 litres",
                    gxe.ExpectColumnValuesToBeBetween(column=col, min_value=0),
                )
            )
            checks.append(
                Check(
                    "volume_plausible",
                    f"volume <= {hi:,.0f} L (a station's day)",
                    gxe.ExpectColumnValuesToBeBetween(column=col, max_value=hi),
                )
            )
        else:
            checks.append(
                Check(
                    f"{col}_in_band",
                    f"{col} inside the plausible band {lo:.2f}..{hi:.2f} {unit}",
                    gxe.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi),
                )
            )
    for check in checks:
        check.expectation.description = check.description
        check.expectation.meta = {"check": check.name}
    return checks


def suite_key(config: ValidationConfig, value_columns: tuple[str, ...], multi_day: bool) -> tuple:
    bands = tuple(config.band(c) for c in value_columns)
    return (config.required_columns, value_columns, bands, config.station_id_max_length, multi_day)


@dataclass
class GXRun:
    """What one GX validation returned, plus the Data Docs it rendered (if asked)."""

    result: Any  # ExpectationSuiteValidationResult
    checks: list[Check]
    docs_dir: Path | None = None  # local folder holding the rendered site
    docs_files: list[str] = field(default_factory=list)  # site files, relative to docs_dir


class GXRunner:
    """One ephemeral context holding one suite; `run` validates a DataFrame against it.

    Not thread-safe (GX contexts are not); use one per process.
    """

    def __init__(
        self, config: ValidationConfig, value_columns: tuple[str, ...], multi_day: bool = False
    ) -> None:
        self.checks = build_checks(config, value_columns, multi_day)
        name = f"{SUITE_NAME}_backfill" if multi_day else SUITE_NAME
        self._docs_root = Path(tempfile.mkdtemp(prefix="forecourt-gx-docs-"))
        weakref.finalize(self, shutil.rmtree, self._docs_root, True)  # at exit at the latest
        self.context = ephemeral_context(
            {
                DOCS_SITE: {
                    "class_name": "SiteBuilder",
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self._docs_root),
                    },
                }
            }
        )
        batch = (
            self.context.data_sources.add_pandas(DATA_SOURCE)
            .add_dataframe_asset(ASSET)
            .add_batch_definition_whole_dataframe(BATCH)
        )
        suite = gx.ExpectationSuite(
            name=name,
            expectations=[c.expectation for c in self.checks],
            meta={"notes": "Forecourt: one day of pricing data (rl_core.validation)"},
        )
        suite = self.context.suites.add(suite)
        self.validation = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_validation", data=batch, suite=suite)
        )

    def run(
        self,
        frame: pd.DataFrame,
        day: date,
        *,
        data_docs: bool | str = False,
        label: str = "",
        result_format: dict | None = None,
    ) -> GXRun:
        """Validate `frame` as the delivery for `day`.

        `data_docs`: True renders the Data Docs site, "if_success" only when all passed.
        """
        now = datetime.now(UTC)
        result = self.validation.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters={"day": pd.Timestamp(day)},
            result_format=result_format or RESULT_FORMAT,
            run_id=RunIdentifier(run_name=label or f"{day:%Y-%m-%d}", run_time=now),
        )
        run = GXRun(result=result, checks=self.checks)
        try:
            if data_docs is True or (data_docs == "if_success" and result.success):
                run.docs_dir, run.docs_files = self._render_docs()
                weakref.finalize(run, shutil.rmtree, run.docs_dir, True)
        finally:
            # keep the in-memory results store empty: the next site shows only its own run
            store = self.context.validation_results_store
            for key in store.list_keys():
                store.remove_key(key)
        return run

    def _render_docs(self) -> tuple[Path, list[str]]:
        """Build the site, then copy its pages to a folder of this run's own (the next run
        rebuilds the shared site folder); the copy goes when the GXRun is dropped."""
        shutil.rmtree(self._docs_root, ignore_errors=True)
        self._docs_root.mkdir(parents=True)
        self.context.build_data_docs(site_names=[DOCS_SITE])
        own = Path(tempfile.mkdtemp(prefix="forecourt-gx-run-"))
        files = []
        for path in sorted(self._docs_root.rglob("*")):
            rel = path.relative_to(self._docs_root)
            if path.is_file() and _worth_keeping(rel):
                (own / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, own / rel)
                files.append(rel.as_posix())
        return own, files

    def close(self) -> None:
        shutil.rmtree(self._docs_root, ignore_errors=True)


def _worth_keeping(rel: Path) -> bool:
    """The pages, and of GX's 4 MB of static assets only what the pages link (the favicon)."""
    return rel.suffix == ".html" or rel.as_posix() == "static/images/favicon.ico"


_RUNNERS: dict[tuple, GXRunner] = {}


def runner_for(config: ValidationConfig, columns, multi_day: bool = False) -> GXRunner:
    """The cached runner for this configuration and set of delivered columns."""
    value_columns = suite_columns(config, tuple(columns))
    key = suite_key(config, value_columns, multi_day)
    if key not in _RUNNERS:
        if len(_RUNNERS) >= 16:  # a long-lived process that saw many configs
            _RUNNERS.pop(next(iter(_RUNNERS))).close()
        _RUNNERS[key] = GXRunner(config, value_columns, multi_day)
    return _RUNNERS[key]


def check_results(run: GXRun, raw: pd.DataFrame, config: ValidationConfig) -> list:
    """The GX results as `CheckResult`s, in suite order, with example rows from `raw`.

    `raw` is the table as delivered (its index is the row number GX reports), so the
    examples show the values the producer sent, not what the date parser made of them.
    """
    from rl_core.validation.result import FAILED, PASSED, CheckResult

    by_name = {r.expectation_config.meta.get("check"): r for r in run.result.results}
    missing_columns = set()
    bad_types = set()
    out = []
    for check in run.checks:
        res = by_name.get(check.name)
        if res is None:  # cannot happen with a suite built by build_checks
            continue
        cfg = res.expectation_config
        column = cfg.kwargs.get("column")
        info = res.result or {}
        exc = res.exception_info or {}
        item = CheckResult(
            name=check.name,
            description=check.description,
            kind="expectation",
            status=PASSED if res.success else FAILED,
            column=column,
            expectation=cfg.type,
            element_count=info.get("element_count"),
            unexpected_count=info.get("unexpected_count"),
            observed=info.get("observed_value"),
        )
        if column in missing_columns:
            # GX resolves column names case-insensitively for metrics (so "Price" would
            # satisfy price_in_band) while expect_column_to_exist is exact: an expectation
            # on a missing column is not evaluated, whatever GX says.
            item.status = FAILED
            item.error = f"column {column} is missing"
        elif not res.success:
            raised = _raised(exc)
            if raised is not None:
                item.error = _explain_error(column, raised, bad_types)
            elif check.name.endswith("_present"):
                missing_columns.add(column)
                item.message = _missing_column_message(column, list(raw.columns))
            elif check.name.endswith("_type"):
                bad_types.add(column)
                observed = info.get("observed_value")
                item.message = (
                    f"{column} holds {observed} values, not numbers"
                    if observed
                    else f"{column} holds values that are not numbers"
                )
                item.examples = _non_numeric_examples(raw, column, config.example_rows)
                if check.name == "station_id_type":
                    item.message = "station_id holds values that are neither text nor integers"
            else:
                rows = info.get("partial_unexpected_index_list") or []
                item.examples = _rows(raw, rows, config.example_rows)
        out.append(item)
    return out


def _raised(exc: dict) -> str | None:
    """The exception message of a result, if GX raised one while evaluating it.

    GX 1.x reports it in two shapes: flat ({"raised_exception": ..., "exception_message":
    ...}) when the expectation itself raised, and keyed by metric id ({metric_id: {...}})
    when a metric it needs could not be resolved.
    """
    if not exc:
        return None
    infos = [exc] if "raised_exception" in exc else [v for v in exc.values() if isinstance(v, dict)]
    for info in infos:
        if info.get("raised_exception"):
            return str(info.get("exception_message") or "error")
    return None


def _explain_error(column, message: str, bad_types: set) -> str:
    if column in bad_types:
        return f"column {column} is not numeric"
    lines = message.strip().splitlines()
    return (lines[0] if lines else "error")[:200]


def _missing_column_message(column: str, present: list[str]) -> str:
    import difflib

    text = f"column {column} is missing; the file has {', '.join(map(str, present)) or 'none'}"
    close = difflib.get_close_matches(column, [str(c).strip().lower() for c in present], n=1)
    if close:
        original = next(c for c in present if str(c).strip().lower() == close[0])
        text += f" (did you mean {original!r}?)"
    return text


def _rows(raw: pd.DataFrame, index: list, limit: int) -> list[dict]:
    rows = []
    for i in index[:limit]:
        try:
            values = raw.iloc[int(i)].to_dict()
        except (IndexError, TypeError, ValueError):
            continue
        rows.append({"row": int(i) + 1, **values})
    return rows


def _non_numeric_examples(raw: pd.DataFrame, column: str, limit: int) -> list[dict]:
    if column not in raw.columns:
        return []
    col = raw[column]
    bad = col.notna() & pd.to_numeric(col, errors="coerce").isna()
    return _rows(raw, list(bad[bad].index[:limit]), limit)
