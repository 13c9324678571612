"""Register a trained policy bundle as a challenger: one MLflow run, then one model version.

Order matters for the "never an alias on a partial model" rule: the run logs everything,
the bundle folder is uploaded and checked complete, the run is marked FINISHED, and only
then is the model version created (tags included, in one call). A failure or kill before
that leaves a FAILED (or RUNNING) run and no version; the `champion` alias only ever moves
in `rl_core.registry.promotion.promote`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.entities import Metric, Param, RunTag

from rl_core import __version__
from rl_core.market.model import Market
from rl_core.registry.errors import RegistryError
from rl_core.registry.tracking import client, experiment_id, model_name
from rl_core.training.bundle import BUNDLE_FILE, POLICY_FILE, PolicyBundle

if TYPE_CHECKING:
    from rl_core.training.train import TrainResult

BUNDLE_ARTIFACT = "bundle"
CURVE_KEYS = ("loss", "episode_return", "epsilon", "fraction", "total_reward", "learning_rate")
EVAL_KEYS = ("total_reward", "fraction_of_optimum", "volume", "profit", "optimum")
_TAG_LIMIT = 5000  # MLflow's limit on a model version tag value


@dataclass(frozen=True)
class ModelVersionInfo:
    agent: str
    name: str  # registered model, e.g. forecourt-profit
    version: str
    run_id: str
    source: str  # artifact URI of the bundle folder
    tags: dict

    def to_dict(self) -> dict:
        return {
            "agent": self.agent,
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "source": self.source,
            "tags": self.tags,
        }


def content_hash(obj) -> str:
    """sha256 of the canonical JSON of `obj` (sorted keys, no whitespace)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def code_version(start: str | os.PathLike | None = None) -> str:
    """`FORECOURT_CODE_VERSION`, else the git commit of the checkout, else the package version.

    Reads .git directly (HEAD, loose refs, packed-refs): no git binary needed.
    """
    env = os.environ.get("FORECOURT_CODE_VERSION")
    if env:
        return env
    here = Path(start or Path(__file__)).resolve()
    for folder in (here, *here.parents):
        git = folder / ".git"
        if git.is_file():  # a worktree: "gitdir: <path>"
            text = git.read_text().strip()
            if text.startswith("gitdir:"):
                git = (folder / text.split(":", 1)[1].strip()).resolve()
        if git.is_dir():
            commit = _git_head(git)
            if commit:
                return commit
            break
    return f"rl_core {__version__}"


def _git_head(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.split(":", 1)[1].strip()
        common = git
        if (git / "commondir").is_file():
            common = (git / (git / "commondir").read_text().strip()).resolve()
        for base in (git, common):
            if (base / ref).is_file():
                return (base / ref).read_text().strip()
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    except OSError:
        return None
    return None


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (list, tuple)) and len(v) > 8:
            continue  # long series (unit_costs) live in the JSON artifact and the hash
        else:
            out[key] = v
    return out


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _clip(value: str) -> str:
    return value if len(value) <= _TAG_LIMIT else value[: _TAG_LIMIT - 3] + "..."


def register_challenger(
    result: TrainResult,
    bundle: PolicyBundle,
    *,
    data_window: dict,
    market: Market,
    code_version: str | None = None,
) -> ModelVersionInfo:
    """Log `result` and `bundle` as one run and register it as a new version (no alias).

    `data_window` describes the data the market was calibrated on (e.g. store URI, first
    and last day, stations, file hashes); `market` is the market trained on.
    """
    agent = result.objective
    if bundle.agent != agent:
        raise RegistryError(f"bundle is a {bundle.agent} policy, the training result {agent}")
    missing = [f for f in (POLICY_FILE, BUNDLE_FILE) if not (bundle.path / f).is_file()]
    if missing:
        raise RegistryError(f"{bundle.path} is incomplete: missing {', '.join(missing)}")
    name = model_name(agent)
    version_of_code = code_version or globals()["code_version"]()
    market_dict = market.to_dict()
    data_hash = content_hash(data_window)
    market_hash = content_hash(market_dict)
    training_hash = content_hash({"data_window": data_window, "market": market_dict})
    ev = result.evaluation.to_dict()
    evaluation = {k: float(ev[k]) for k in EVAL_KEYS}

    c = client()
    exp = experiment_id(c)
    run = c.create_run(
        exp,
        run_name=f"{agent}-{training_hash[:8]}",
        tags={"forecourt.agent": agent, "mlflow.source.git.commit": version_of_code},
    )
    run_id = run.info.run_id
    try:
        hyper = {f"hp.{k}": v for k, v in result.config.to_dict().items()}
        market_params = {f"market.{k}": v for k, v in _flatten(market_dict).items()}
        params = [Param(k, str(v)[:6000]) for k, v in {**hyper, **market_params}.items()]
        for i in range(0, len(params), 100):
            c.log_batch(run_id, params=params[i : i + 100])

        ts = int(1000 * time.time())
        metrics = [Metric(f"eval.{k}", v, ts, 0) for k, v in evaluation.items()]
        metrics.append(Metric("env_steps", float(result.env_steps), ts, 0))
        metrics.append(Metric("updates", float(result.updates), ts, 0))
        metrics.append(Metric("train_s", float(result.train_s), ts, 0))
        for row in result.curve:
            step = int(row["env_steps"])
            for key in CURVE_KEYS:
                if _finite(row.get(key)):
                    metrics.append(Metric(f"train.{key}", float(row[key]), ts, step))
        for i in range(0, len(metrics), 900):
            c.log_batch(run_id, metrics=metrics[i : i + 900])

        tags = {
            "forecourt.agent": agent,
            "forecourt.code_version": version_of_code,
            "forecourt.data_window": _clip(json.dumps(data_window, sort_keys=True, default=str)),
            "forecourt.data_window_hash": data_hash,
            "forecourt.market_hash": market_hash,
            "forecourt.training_data_hash": training_hash,
            "forecourt.bundle_created_at": str(bundle.metadata.get("created_at", "")),
        }
        c.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        c.log_dict(run_id, data_window, "data_window.json")
        c.log_dict(run_id, market_dict, "market.json")
        c.log_dict(run_id, result.curve, "training_curve.json")
        c.log_artifacts(run_id, str(bundle.path), BUNDLE_ARTIFACT)
        logged = {Path(f.path).name for f in c.list_artifacts(run_id, BUNDLE_ARTIFACT)}
        if not {POLICY_FILE, BUNDLE_FILE} <= logged:
            raise RegistryError(f"bundle upload incomplete for run {run_id}: found {logged}")
        c.set_terminated(run_id, "FINISHED")
    except BaseException:
        c.set_terminated(run_id, "FAILED")
        raise

    source = f"{run.info.artifact_uri.rstrip('/')}/{BUNDLE_ARTIFACT}"
    version_tags = {
        **tags,
        "forecourt.run_id": run_id,
        "forecourt.status": "challenger",
        **{f"forecourt.eval.{k}": repr(v) for k, v in evaluation.items()},
        "forecourt.hyperparameters": _clip(json.dumps(result.config.to_dict(), default=str)),
        "forecourt.market": _clip(json.dumps(market_dict)),
    }
    if not _exists(c, name):
        _create_model(c, name)
    mv = c.create_model_version(name, source, run_id=run_id, tags=version_tags)
    return ModelVersionInfo(agent, name, str(mv.version), run_id, source, version_tags)


def _exists(c, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        c.get_registered_model(name)
        return True
    except MlflowException:
        return False


def _create_model(c, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        c.create_registered_model(
            name,
            tags={"forecourt.champion_stack": "[]"},
            description=f"Forecourt {name.split('-', 1)[1]} pricing agent (policy bundles); "
            "the alias `champion` marks the version in service.",
        )
    except MlflowException:
        if not _exists(c, name):  # lost a creation race: fine if it exists now
            raise
