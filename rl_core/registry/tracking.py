"""Where the registry lives: the MLflow tracking/registry URI, the artifact root, the names.

Local default (no server): a SQLite tracking DB and an artifact folder in the data directory,

    sqlite:///<FORECOURT_HOME>/mlflow/mlflow.db      runs, metrics, Model Registry
    <FORECOURT_HOME>/mlflow/artifacts/               bundles, reports logged to runs

`FORECOURT_MLFLOW_TRACKING_URI` overrides the URI (on AWS: the ARN of a SageMaker managed
MLflow tracking server; the server then decides where artifacts go, e.g. the account's S3
bucket). MLflow's own telemetry is switched off by `rl_core` itself (its __init__), before
MLflow is imported, so nothing is written under $HOME (~/.config/mlflow) or sent anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from rl_core import paths
from rl_core.errors import ForecourtError
from rl_core.market.model import check_objective

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from mlflow import MlflowClient  # noqa: E402

ENV_URI = "FORECOURT_MLFLOW_TRACKING_URI"
EXPERIMENT = "forecourt-training"
CHAMPION = "champion"
MODEL_PREFIX = "forecourt-"


def mlflow_dir() -> Path:
    return paths.home() / "mlflow"


def tracking_uri() -> str:
    uri = os.environ.get(ENV_URI)
    if uri:
        return uri
    return f"sqlite:///{mlflow_dir() / 'mlflow.db'}"


def is_local() -> bool:
    return not os.environ.get(ENV_URI)


def artifact_root() -> str | None:
    """The experiment's artifact location: a local folder by default, the server's otherwise."""
    return (mlflow_dir() / "artifacts").as_uri() if is_local() else None


def client() -> MlflowClient:
    uri = tracking_uri()
    if is_local():
        mlflow_dir().mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def model_name(agent: str) -> str:
    """`forecourt-demand` or `forecourt-profit`."""
    return MODEL_PREFIX + check_objective(agent)


def experiment_id(c: MlflowClient) -> str:
    exp = c.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return exp.experiment_id
    try:
        return c.create_experiment(EXPERIMENT, artifact_location=artifact_root())
    except Exception:  # created meanwhile by another process
        exp = c.get_experiment_by_name(EXPERIMENT)
        if exp is None:
            raise
        return exp.experiment_id


class RegistryUnreachableError(ForecourtError):
    """The MLflow tracking server does not answer: nothing was registered or promoted."""


def check_reachable(timeout_s: float = 10.0) -> None:
    """Fail fast, with the server named, when a remote tracking server does not answer.

    An http(s) server is asked for /health; a SageMaker ARN through the client (the
    sagemaker-mlflow plugin signs the request). Local SQLite needs no check.
    """
    uri = tracking_uri()
    if is_local():
        return
    try:
        if uri.startswith(("http://", "https://")):
            import urllib.request

            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s) as r:
                if r.status != 200:
                    raise OSError(f"/health answered HTTP {r.status}")
        else:
            client().search_experiments(max_results=1)
    except Exception as exc:  # noqa: BLE001 - named and re-raised as one clear error
        raise RegistryUnreachableError(
            f"the MLflow tracking server {uri} ({ENV_URI}) is unreachable: {exc}. Nothing "
            "was registered or promoted; the champion is untouched"
        ) from exc
