"""Cross-account promotion: dev -> preprod -> prod hand the exact artifact on, with lineage.

Each account keeps its own MLflow registry. An account hands its champion to the next one
as a *promotion package* in its outbox (any fsspec URI; on AWS s3://<artifacts>/promotions,
readable by the next account only):

    <outbox>/<agent>/<model>-v<version>-<sha12>/
        bundle/          the bundle's files, byte for byte as the source registry holds them
        manifest.json    written LAST: a folder without it is incomplete and ignored

    manifest = {schema: 1, agent, source_env, source_version, source_run_id,
                bundle_sha256,            # tree hash: sha256 over sorted "relpath\\tsha256\\n"
                files: {relpath: sha256}, decision: {...how it became champion there},
                source_tags: {...what describes the artifact: data window, market, eval},
                lineage: [{env, version, run_id, at, decision, summary, approved_by?}, ...],
                note, created_at}

The last lineage hop is the source itself. The roles (docs/promotion.md):

- dev: `propose` (or `publish_champion`) after a promotion; idempotent per bundle hash.
- preprod: `forward_newest` = `import_package` the newest package, `validate_and_forward`
  it on preprod's own calibrated market (compare.decide); a win makes it preprod's champion
  and is proposed to preprod's outbox with preprod's hop appended.
- prod: `receive_newest` imports with `forecourt.approval = pending`; a person approves
  (rl_core.registry.approval); `promote_approved` moves the alias only for an approved
  version whose registry artifact still hashes to the approved sha.

Imported versions are recognised by `forecourt.lineage.bundle_sha256`: importing the same
package twice returns the version registered the first time. Every file and the tree hash
are verified before anything is registered.

Torch-free at module level (MWAA's workers import it); the bundle load check, the
comparison and the alias move import their torch-bound modules inside the functions.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rl_core import paths
from rl_core.market.model import Market, check_objective
from rl_core.pipeline import runfolder
from rl_core.registry import approval
from rl_core.registry.errors import RegistryError
from rl_core.registry.tracking import client, experiment_id, mlflow_dir, model_name

log = logging.getLogger(__name__)

SCHEMA = 1
MANIFEST = "manifest.json"
BUNDLE_DIR = "bundle"  # in a package, and the run artifact path (as register.BUNDLE_ARTIFACT)

LINEAGE_SHA = approval.LINEAGE_SHA
LINEAGE_SOURCE_ENV = "forecourt.lineage.source_env"
LINEAGE_SOURCE_VERSION = "forecourt.lineage.source_version"
LINEAGE_SOURCE_RUN = "forecourt.lineage.source_run_id"
LINEAGE_PACKAGE = "forecourt.lineage.package_uri"
LINEAGE_CREATED = "forecourt.lineage.created_at"
LINEAGE_IMPORTED = "forecourt.lineage.imported_at"
LINEAGE_HOPS = "forecourt.lineage.hops"
LINEAGE_NOTE = "forecourt.lineage.note"
LINEAGE_FORWARDED = "forecourt.lineage.forwarded_to"

# what describes the artifact itself (not this account's decisions): travels with it
ARTIFACT_TAGS = (
    "forecourt.code_version",
    "forecourt.data_window",
    "forecourt.data_window_hash",
    "forecourt.market_hash",
    "forecourt.training_data_hash",
    "forecourt.hyperparameters",
    "forecourt.market",
    "forecourt.bundle_created_at",
)
_TAG_LIMIT = 5000


class HandoffError(RegistryError):
    """A promotion package that cannot be proposed or imported as asked (incomplete,
    tampered, another agent...). Nothing was registered."""


@dataclass(frozen=True)
class Package:
    uri: str  # the package folder
    manifest: dict
    created: bool = False  # written by this call (False: it was there already)

    @property
    def agent(self) -> str:
        return self.manifest["agent"]

    @property
    def bundle_sha256(self) -> str:
        return self.manifest["bundle_sha256"]

    def to_dict(self) -> dict:
        return {"uri": self.uri, "created": self.created, "manifest": self.manifest}


# ---- hashing ----------------------------------------------------------------------------------


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_files(folder: str | os.PathLike) -> dict[str, str]:
    """{relative posix path: sha256} of every file under `folder`."""
    base = Path(folder)
    return {
        p.relative_to(base).as_posix(): file_sha256(p)
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def tree_hash(files: dict[str, str]) -> str:
    """sha256 over the sorted lines "relpath<TAB>sha256<LF>": one hash for the whole bundle."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\t{files[rel]}\n".encode())
    return h.hexdigest()


# ---- helpers ----------------------------------------------------------------------------------


def source_env() -> str:
    return os.environ.get("FORECOURT_ENV") or "local"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _clip(value: str) -> str:
    return value if len(value) <= _TAG_LIMIT else value[: _TAG_LIMIT - 3] + "..."


def _json_list(value: str | None) -> list:
    try:
        out = json.loads(value or "[]")
    except json.JSONDecodeError:
        return []
    return out if isinstance(out, list) else []


def _download(mv, dest: str) -> Path:
    """The version's bundle as the registry holds it, freshly downloaded into `dest`."""
    return Path(client().download_artifacts(mv.run_id, BUNDLE_DIR, dest))


def lineage_text(hops: list[dict]) -> str:
    return " -> ".join(f"{h.get('env')} v{h.get('version')}" for h in hops) or "-"


def _hop(mv, env: str) -> dict:
    tags = dict(mv.tags)
    hop = {
        "env": env,
        "version": str(mv.version),
        "run_id": mv.run_id,
        "at": tags.get("forecourt.promoted_at") or _now(),
        "decision": tags.get("forecourt.decision") or tags.get("forecourt.status"),
        "summary": (
            tags.get("forecourt.promote_reason") or tags.get("forecourt.decision.reason") or ""
        )[:300],
    }
    if tags.get(approval.APPROVAL) == approval.APPROVED:
        hop["approved_by"] = tags.get(approval.APPROVAL_BY)
        hop["approved_at"] = tags.get(approval.APPROVAL_AT)
    return hop


def _lineage(mv, env: str) -> list[dict]:
    """The version's hops so far (imported ones carry them) plus its own, last."""
    hops = [
        h
        for h in _json_list(mv.tags.get(LINEAGE_HOPS))
        if not (h.get("env") == env and h.get("version") == str(mv.version))
    ]
    return [*hops, _hop(mv, env)]


def _decision(mv) -> dict:
    tags = dict(mv.tags)
    out = {
        k.removeprefix("forecourt."): v
        for k, v in tags.items()
        if k.startswith("forecourt.decision")
    }
    for key in ("forecourt.status", "forecourt.promote_reason", "forecourt.promoted_at"):
        if key in tags:
            out[key.removeprefix("forecourt.")] = tags[key]
    return out


def package_name(agent: str, version: str | int, sha: str) -> str:
    return f"{model_name(agent)}-v{version}-{sha[:12]}"


# ---- dev (and preprod's forward): propose -----------------------------------------------------


def propose(
    agent: str,
    version: str | int,
    outbox_uri: str,
    *,
    note: str = "",
    require_champion: bool = True,
) -> Package:
    """Publish `version` of `agent` as a promotion package in `outbox_uri`.

    Only the champion by default (what this account put in service). Idempotent: a complete
    package with the same bundle hash is left as it is and returned (`created` False).
    """
    check_objective(agent)
    mv = approval._version(agent, version)  # noqa: SLF001 - same package
    v = str(mv.version)
    if require_champion and approval.champion(agent) != v:
        raise HandoffError(
            f"{mv.name} v{v} is not this account's champion "
            f"(champion: {approval.champion(agent) or 'none'}): only champions are proposed"
        )
    tags = dict(mv.tags)
    with tempfile.TemporaryDirectory(prefix="forecourt-propose-") as tmp:
        local = _download(mv, tmp)
        files = hash_files(local)
        if not files:
            raise HandoffError(f"{mv.name} v{v} has no bundle files in the registry")
        sha = tree_hash(files)
        imported_sha = tags.get(LINEAGE_SHA)
        if imported_sha and imported_sha != sha:
            raise HandoffError(
                f"{mv.name} v{v}: the registry's artifact hashes to {sha[:12]}, but it was "
                f"imported as {imported_sha[:12]}: it changed after the import"
            )
        uri = runfolder.join(outbox_uri, agent, package_name(agent, v, sha))
        existing = runfolder.load(uri, MANIFEST)
        if existing is not None:
            if existing.get("bundle_sha256") != sha:
                raise HandoffError(f"{uri} holds another bundle ({existing.get('bundle_sha256')})")
            log.info("%s: already proposed at %s", mv.name, uri)
            return Package(uri, existing, created=False)
        for rel in sorted(files):
            runfolder.put_file(local / rel, runfolder.join(uri, BUNDLE_DIR), rel)
        manifest = {
            "schema": SCHEMA,
            "agent": agent,
            "model_name": mv.name,
            "source_env": source_env(),
            "source_version": v,
            "source_run_id": mv.run_id,
            "bundle_sha256": sha,
            "files": files,
            "decision": _decision(mv),
            "source_tags": {
                k: val
                for k, val in tags.items()
                if k in ARTIFACT_TAGS or k.startswith("forecourt.eval.")
            },
            "lineage": _lineage(mv, source_env()),
            "note": note,
            "created_at": _now(),
        }
        runfolder.save(uri, MANIFEST, manifest)  # last: the package is complete from here
    client().set_model_version_tag(mv.name, v, LINEAGE_FORWARDED, uri)
    log.info("%s v%s proposed: %s (sha256 %s)", mv.name, v, uri, sha[:12])
    return Package(uri, manifest, created=True)


def publish_champion(agent: str, outbox_uri: str, *, note: str = "") -> dict:
    """Propose `agent`'s champion (dev's DAG task): {package_uri, created, version} or a
    record saying there is no champion."""
    champ = approval.champion(agent)
    if champ is None:
        return {"agent": agent, "version": None, "package_uri": None, "created": False}
    pkg = propose(agent, champ, outbox_uri, note=note)
    return {"agent": agent, "version": champ, "package_uri": pkg.uri, "created": pkg.created}


# ---- the downstream account: list, import -----------------------------------------------------


def _valid_manifest(m) -> bool:
    return (
        isinstance(m, dict)
        and m.get("schema") == SCHEMA
        and isinstance(m.get("files"), dict)
        and isinstance(m.get("bundle_sha256"), str)
        and m.get("agent") in ("demand", "profit")
    )


def packages(inbox_uri: str, agent: str) -> list[Package]:
    """Complete packages of `agent` in an outbox, oldest first (no manifest: not listed)."""
    check_objective(agent)
    out = []
    for rel in runfolder.names(inbox_uri, f"{agent}/*/{MANIFEST}"):
        folder = runfolder.join(inbox_uri, rel.rsplit("/", 1)[0])
        try:
            manifest = runfolder.load(folder, MANIFEST)
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("skipping %s: unreadable manifest (%s)", folder, exc)
            continue
        if not _valid_manifest(manifest) or manifest["agent"] != agent:
            log.warning("skipping %s: not a schema-%d %s package", folder, SCHEMA, agent)
            continue
        out.append(Package(folder, manifest))
    return sorted(out, key=lambda p: (p.manifest.get("created_at", ""), p.uri))


def imported(agent: str) -> dict[str, str]:
    """{bundle_sha256: version} of the versions imported into this account's registry."""
    from mlflow.exceptions import MlflowException

    try:
        found = client().search_model_versions(f"name = '{model_name(agent)}'")
    except MlflowException:
        return {}
    out = {}
    for mv in sorted(found, key=lambda m: int(m.version)):
        sha = mv.tags.get(LINEAGE_SHA)
        if sha and sha not in out:
            out[sha] = str(mv.version)
    return out


def pending(inbox_uri: str, agent: str) -> list[Package]:
    """Complete packages in the upstream outbox not imported here yet, oldest first."""
    done = imported(agent)
    return [p for p in packages(inbox_uri, agent) if p.bundle_sha256 not in done]


def verify(bundle_dir: str | os.PathLike, manifest: dict) -> None:
    """Every file present with its sha256, no other file, and the tree hash: else a
    HandoffError naming the file."""
    files = manifest["files"]
    if tree_hash(files) != manifest["bundle_sha256"]:
        raise HandoffError(
            "the manifest's file list does not hash to its bundle_sha256 "
            f"{manifest['bundle_sha256'][:12]}: the manifest was altered"
        )
    actual = hash_files(bundle_dir)
    for rel in sorted(files):
        if rel not in actual:
            raise HandoffError(f"bundle/{rel} is missing from the package")
        if actual[rel] != files[rel]:
            raise HandoffError(
                f"bundle/{rel} does not match its sha256 in the manifest (expected "
                f"{files[rel][:12]}, got {actual[rel][:12]}): tampered or truncated"
            )
    extra = sorted(set(actual) - set(files))
    if extra:
        raise HandoffError(f"bundle/{extra[0]} is not in the manifest: unexpected file")
    if tree_hash(actual) != manifest["bundle_sha256"]:  # follows from the above; belt and braces
        raise HandoffError("the bundle's tree hash differs from the manifest's")


@contextlib.contextmanager
def _import_lock(agent: str):
    """Serialise imports of one model on this machine (a remote registry: the DAG's
    max_active_runs=1 does)."""
    folder = mlflow_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{model_name(agent)}.import.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(package_uri: str) -> dict:
    try:
        manifest = runfolder.load(package_uri, MANIFEST)
    except (OSError, json.JSONDecodeError) as exc:
        raise HandoffError(f"{package_uri}: unreadable {MANIFEST}: {exc}") from exc
    if manifest is None:
        raise HandoffError(
            f"{package_uri} has no {MANIFEST}: an incomplete package (still being written, "
            "or its writer failed); nothing imported"
        )
    if not _valid_manifest(manifest):
        raise HandoffError(f"{package_uri}/{MANIFEST} is not a schema-{SCHEMA} manifest")
    return manifest


def import_package(
    package_uri: str, *, require_approval: bool = False, agent: str | None = None
) -> str:
    """Verify a package and register its bundle as a new version here; returns the version.

    Idempotent: a package whose bundle hash was imported before returns that version.
    `require_approval` (prod): the version is tagged `forecourt.approval = pending`, and
    older versions still pending are marked superseded. Tampered, truncated or incomplete
    packages raise HandoffError before anything is registered.
    """
    manifest = read_manifest(package_uri)
    agent = agent or manifest["agent"]
    if manifest["agent"] != agent:
        raise HandoffError(f"{package_uri} holds a {manifest['agent']} policy, not {agent}")
    sha = manifest["bundle_sha256"]
    done = imported(agent).get(sha)
    if done is not None:
        log.info("%s: already imported as v%s", package_uri, done)
        return done
    with tempfile.TemporaryDirectory(prefix="forecourt-import-") as tmp:
        bundle_dir = Path(tmp) / BUNDLE_DIR
        src_uri = runfolder.join(package_uri, BUNDLE_DIR)
        try:
            with runfolder.local_copy(src_uri) as src:
                if not src.is_dir():
                    raise HandoffError(f"{src_uri} is missing: an incomplete package")
                shutil.copytree(src, bundle_dir)
        except (OSError, FileNotFoundError) as exc:
            raise HandoffError(f"{src_uri} cannot be read: {exc}") from exc
        verify(bundle_dir, manifest)  # the copy we register is the copy we checked
        _check_loads(bundle_dir, agent)
        with _import_lock(agent):
            done = imported(agent).get(sha)  # imported meanwhile
            if done is not None:
                return done
            version = _register(agent, bundle_dir, manifest, package_uri, require_approval)
    if require_approval:
        _supersede(agent, version)
    return version


def _check_loads(bundle_dir: Path, agent: str) -> None:
    from rl_core.training.bundle import read_bundle

    try:
        bundle = read_bundle(bundle_dir)
        bundle.load_policy()
    except Exception as exc:  # noqa: BLE001 - any failure to load refuses the package
        raise HandoffError(f"the package's bundle does not load: {exc}") from exc
    if bundle.agent != agent:
        raise HandoffError(f"the package's bundle is a {bundle.agent} policy, not {agent}")


def _ensure_model(c, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        c.get_registered_model(name)
        return
    except MlflowException:
        pass
    try:
        c.create_registered_model(
            name,
            tags={"forecourt.champion_stack": "[]"},
            description=f"Forecourt {name.split('-', 1)[1]} pricing agent (policy bundles); "
            "the alias `champion` marks the version in service.",
        )
    except MlflowException:
        c.get_registered_model(name)  # created meanwhile: fine; else this raises


def _register(
    agent: str, bundle_dir: Path, manifest: dict, package_uri: str, require_approval: bool
) -> str:
    from mlflow.entities import Metric, RunTag

    c = client()
    name = model_name(agent)
    sha = manifest["bundle_sha256"]
    src_tags = {k: str(v) for k, v in (manifest.get("source_tags") or {}).items()}
    hops = manifest.get("lineage") or []
    lineage_tags = {
        LINEAGE_SHA: sha,
        LINEAGE_SOURCE_ENV: str(manifest.get("source_env", "")),
        LINEAGE_SOURCE_VERSION: str(manifest.get("source_version", "")),
        LINEAGE_SOURCE_RUN: str(manifest.get("source_run_id", "")),
        LINEAGE_PACKAGE: _clip(package_uri),
        LINEAGE_CREATED: str(manifest.get("created_at", "")),
        LINEAGE_IMPORTED: _now(),
        LINEAGE_HOPS: _clip(json.dumps(hops)),
        LINEAGE_NOTE: _clip(str(manifest.get("note", ""))),
    }
    run = c.create_run(
        experiment_id(c),
        run_name=f"{agent}-import-{sha[:8]}",
        tags={
            "forecourt.agent": agent,
            "forecourt.import": "true",
            "mlflow.source.git.commit": src_tags.get("forecourt.code_version", ""),
        },
    )
    run_id = run.info.run_id
    try:
        ts = int(1000 * time.time())
        metrics = []
        for key, value in src_tags.items():
            if key.startswith("forecourt.eval."):
                with contextlib.suppress(ValueError):
                    x = float(value)
                    if math.isfinite(x):
                        metrics.append(
                            Metric(f"eval.{key.removeprefix('forecourt.eval.')}", x, ts, 0)
                        )
        run_tags = [RunTag(k, v) for k, v in {**src_tags, **lineage_tags}.items()]
        c.log_batch(run_id, metrics=metrics, tags=run_tags)
        c.log_dict(run_id, manifest, f"promotion/{MANIFEST}")
        c.log_artifacts(run_id, str(bundle_dir), BUNDLE_DIR)
        logged = {Path(f.path).name for f in c.list_artifacts(run_id, BUNDLE_DIR)}
        wanted = {rel.split("/", 1)[0] for rel in manifest["files"]}
        if not wanted <= logged:
            raise HandoffError(f"bundle upload incomplete for run {run_id}: found {logged}")
        c.set_terminated(run_id, "FINISHED")
    except BaseException:
        c.set_terminated(run_id, "FAILED")
        raise
    version_tags = {
        **src_tags,
        **lineage_tags,
        "forecourt.agent": agent,
        "forecourt.run_id": run_id,
        "forecourt.status": "imported",
    }
    if require_approval:
        version_tags[approval.APPROVAL] = approval.PENDING
        version_tags[approval.APPROVAL_HISTORY] = "[]"
    _ensure_model(c, name)
    source = f"{run.info.artifact_uri.rstrip('/')}/{BUNDLE_DIR}"
    mv = c.create_model_version(name, source, run_id=run_id, tags=version_tags)
    log.info(
        "%s: imported %s as v%s (sha256 %s, lineage %s)",
        name,
        package_uri,
        mv.version,
        sha[:12],
        lineage_text(hops),
    )
    return str(mv.version)


def _supersede(agent: str, newest: str) -> None:
    """Older versions still pending approval will never be wanted: say so, in their history."""
    c = client()
    for st in approval.awaiting(agent):
        if st["state"] == approval.PENDING and int(st["version"]) < int(newest):
            entry = {"decision": "superseded", "by": "forecourt", "at": _now()}
            entry["reason"] = f"superseded by v{newest}"
            name, v = st["name"], st["version"]
            c.set_model_version_tag(
                name, v, approval.APPROVAL_HISTORY, json.dumps([*st["history"], entry])
            )
            c.set_model_version_tag(name, v, approval.APPROVAL, "superseded")


# ---- preprod: validate on its own market, forward ---------------------------------------------


def todays_market(market: Market | str | None = None, runs_uri: str | None = None) -> Market:
    """The market to validate on: `market` itself, a market/calibration JSON at a URI
    (calibration.json points at its market.json), or else the newest calibration recorded
    by this account's daily runs under `runs_uri` (default FORECOURT_RUNS)."""
    from rl_core.market.presets import market_setup

    if isinstance(market, Market):
        return market
    if not market:
        runs = runs_uri or paths.runs_uri()
        found = runfolder.names(runs, "*/*/calibration.json")  # <day>/<run>/calibration.json
        if not found:
            raise HandoffError(
                f"no calibrated market under {runs}: run the daily retraining first, or "
                "pass a market (a market or calibration JSON)"
            )
        market = runfolder.join(runs, max(found))  # ISO days sort; the last run of the day
    with runfolder.local_copy(str(market)) as path:
        record = json.loads(Path(path).read_text())
    if isinstance(record, dict) and "market_file" in record:  # a run's calibration.json
        return todays_market(record["market_file"])
    with runfolder.local_copy(str(market)) as path:
        return market_setup(str(path)).evaluate[0]


def validate_and_forward(
    agent: str,
    package_uri: str,
    market: Market | str | None,
    outbox_uri: str | None,
    *,
    runs_uri: str | None = None,
    n_scenarios: int = 64,
    seed: int = 0,
    margin: float = 0.005,
    report: bool = True,
) -> dict:
    """Import the package, decide it against this account's champion on this account's
    market (compare.decide, which promotes a win), and forward the champion it makes.

    Safe to re-run: the import is idempotent, and a version that is already the champion
    is (re)proposed, which is idempotent too.
    """
    from rl_core.registry.compare import decide

    version = import_package(package_uri, agent=agent)
    today = todays_market(market, runs_uri)
    decision = decide(
        agent,
        version,
        today,
        n_scenarios=n_scenarios,
        seed=seed,
        margin=margin,
        report=report,
    )
    out = {
        "agent": agent,
        "version": version,
        "package_uri": package_uri,
        "outcome": decision.outcome,
        "summary": decision.summary(),
        "forwarded": None,
    }
    if approval.champion(agent) == version and outbox_uri:
        pkg = propose(agent, version, outbox_uri, note=f"validated in {source_env()}")
        out["forwarded"] = pkg.uri
    log.info(
        "%s v%s: %s; forwarded: %s",
        model_name(agent),
        version,
        out["summary"],
        out["forwarded"] or "no",
    )
    return out


def newest(inbox_uri: str, agent: str) -> Package | None:
    """The newest complete package of `agent` in an outbox (older ones are superseded)."""
    found = packages(inbox_uri, agent)
    return found[-1] if found else None


def forward_newest(
    agent: str,
    source_uri: str,
    outbox_uri: str | None,
    market: Market | str | None = None,
    **decide_args,
) -> dict:
    """Preprod's DAG task: validate and forward the newest upstream package, once."""
    pkg = newest(source_uri, agent)
    if pkg is None:
        return {"agent": agent, "package_uri": None, "outcome": "nothing to import"}
    done = imported(agent).get(pkg.bundle_sha256)
    if done is not None:
        decided = approval._version(agent, done).tags.get("forecourt.decision")  # noqa: SLF001
        if decided:  # validated before: never decide twice (it would overwrite the record)
            out = {"agent": agent, "package_uri": pkg.uri, "version": done}
            out.update(outcome=f"already validated: {decided}", forwarded=None)
            if outbox_uri and approval.champion(agent) == done:  # a crash before forwarding
                out["forwarded"] = propose(agent, done, outbox_uri).uri
            return out
    return validate_and_forward(agent, pkg.uri, market, outbox_uri, **decide_args)


# ---- prod: receive, then promote only what a person approved ----------------------------------


def receive_newest(agent: str, source_uri: str, *, require_approval: bool = True) -> dict:
    """Prod's DAG task: import the newest upstream package, pending approval."""
    pkg = newest(source_uri, agent)
    if pkg is None:
        return {"agent": agent, "package_uri": None, "version": None}
    version = import_package(pkg.uri, require_approval=require_approval, agent=agent)
    st = approval.state(agent, version)
    return {
        "agent": agent,
        "package_uri": pkg.uri,
        "version": version,
        "bundle_sha256": pkg.bundle_sha256,
        "approval": st["state"],
        "lineage": lineage_text(pkg.manifest.get("lineage") or []),
    }


def promote_approved(agent: str, version: str | int) -> dict:
    """Make an approved version the champion; refuse anything else.

    Refuses (ApprovalError, nothing moved) unless the version's approval is `approved` and
    the sha that was approved equals its lineage sha (the manifest's) and the artifact in
    this registry, downloaded now, still hashes to it: prod serves exactly what preprod
    validated and a person approved. The recorded reason cites approver and lineage.
    """
    from rl_core.registry.promotion import champion_version, promote

    st = approval.state(agent, version)
    name, v = st["name"], st["version"]
    if st["state"] is None:
        raise approval.ApprovalError(
            f"{name} v{v} did not come through the approval gate (not imported with "
            "require_approval): promote it with `forecourt registry promote` if you mean to"
        )
    if st["state"] == approval.PENDING:
        raise approval.ApprovalError(
            f"{name} v{v} is awaiting approval: run `{approval.approve_command(agent, v)}`"
        )
    if st["state"] != approval.APPROVED:
        raise approval.ApprovalError(
            f"{name} v{v} is {st['state']}"
            + (f" by {st['by']} at {st['at']}: {st['reason']}" if st["by"] else "")
        )
    sha = st["lineage_sha256"]
    if not sha or st["bundle_sha256"] != sha:
        raise approval.ApprovalError(
            f"{name} v{v}: the approved sha {str(st['bundle_sha256'])[:12]} is not the "
            f"version's lineage sha {str(sha)[:12]}: approve it again"
        )
    mv = approval._version(agent, v)  # noqa: SLF001
    with tempfile.TemporaryDirectory(prefix="forecourt-verify-") as tmp:
        actual = tree_hash(hash_files(_download(mv, tmp)))
    if actual != sha:
        raise approval.ApprovalError(
            f"{name} v{v}: the registry's artifact hashes to {actual[:12]}, not the approved "
            f"{sha[:12]}: it changed after approval; nothing promoted"
        )
    current = champion_version(agent)
    hops = _json_list(mv.tags.get(LINEAGE_HOPS))
    if current == v:
        return {"agent": agent, "name": name, "version": v, "action": "already champion"}
    env = source_env()
    reason = (
        f"approved by {st['by']} at {st['at']} ({st['reason']}); lineage "
        f"{lineage_text(hops)} -> {env} v{v}; bundle sha256 {sha[:12]}"
    )
    move = promote(agent, v, expected_champion=current, reason=reason)
    mv = approval._version(agent, v)  # noqa: SLF001
    client().set_model_version_tag(name, v, LINEAGE_HOPS, _clip(json.dumps(_lineage(mv, env))))
    return move
