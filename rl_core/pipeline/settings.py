"""Where the daily run's state lives and where its torch steps run, from the environment.

Locally nothing needs setting. On AWS every value comes from a Terraform output, through
MWAA's configuration options (`forecourt.<name>` arrives as AIRFLOW__FORECOURT__<NAME>,
which the DAG maps to FORECOURT_<NAME>) and the Batch job definition's environment:

| setting                         | Terraform output            | default (local)          |
|---------------------------------|-----------------------------|--------------------------|
| FORECOURT_RUNNER                | (batch on MWAA)             | local                    |
| FORECOURT_BATCH_JOB_QUEUE       | batch_job_queue_name        | - (needed by batch)      |
| FORECOURT_BATCH_JOB_DEFINITION  | batch_job_definition_name   | - (needed by batch)      |
| FORECOURT_STORE                 | store_uri                   | <home>/store             |
| FORECOURT_RUNS                  | runs_uri                    | <home>/runs              |
| FORECOURT_MLFLOW_TRACKING_URI   | mlflow_tracking_uri         | SQLite under <home>      |
| FORECOURT_METRICS               | (cloudwatch on AWS)         | local                    |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rl_core import paths
from rl_core.errors import ForecourtError

RUNNERS = ("local", "batch")


class SettingsError(ForecourtError):
    """A setting the platform needs is missing or wrong (named, with where it comes from)."""


@dataclass(frozen=True)
class Settings:
    runner: str
    batch_job_queue: str
    batch_job_definition: str
    store: str
    runs: str
    mlflow_tracking_uri: str | None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            runner=env.get("FORECOURT_RUNNER", "local").strip().lower(),
            batch_job_queue=env.get("FORECOURT_BATCH_JOB_QUEUE", "").strip(),
            batch_job_definition=env.get("FORECOURT_BATCH_JOB_DEFINITION", "").strip(),
            store=paths.store_uri(),
            runs=paths.runs_uri(),
            mlflow_tracking_uri=env.get("FORECOURT_MLFLOW_TRACKING_URI") or None,
        )

    def problems(self) -> list[str]:
        out = []
        if self.runner not in RUNNERS:
            out.append(f"FORECOURT_RUNNER={self.runner!r}: use one of {', '.join(RUNNERS)}")
        if self.runner == "batch":
            for name, value, output in (
                ("FORECOURT_BATCH_JOB_QUEUE", self.batch_job_queue, "batch_job_queue_name"),
                (
                    "FORECOURT_BATCH_JOB_DEFINITION",
                    self.batch_job_definition,
                    "batch_job_definition_name",
                ),
            ):
                if not value:
                    out.append(
                        f"{name} is not set: the batch runner submits the torch steps there "
                        f"(Terraform output `{output}`; on MWAA the configuration option "
                        f"forecourt.{name.removeprefix('FORECOURT_').lower()})"
                    )
            for name, value, output in (
                ("FORECOURT_STORE", self.store, "store_uri"),
                ("FORECOURT_RUNS", self.runs, "runs_uri"),
            ):
                if "://" not in value:
                    out.append(
                        f"{name}={value!r} is a path on this worker, which a Batch job "
                        f"cannot read: set it to Terraform output `{output}` (s3://...)"
                    )
            if not self.mlflow_tracking_uri:
                out.append(
                    "FORECOURT_MLFLOW_TRACKING_URI is not set: the registry would be a SQLite "
                    "file on one machine; set it to Terraform output `mlflow_tracking_uri`"
                )
        return out


def preflight() -> Settings:
    """The settings, checked: every problem named at once, then the registry reached."""
    settings = Settings.from_env()
    problems = settings.problems()
    if problems:
        raise SettingsError("the platform is not configured: " + "; ".join(problems))
    if settings.mlflow_tracking_uri:
        from rl_core.registry.tracking import RegistryUnreachableError, check_reachable

        try:
            check_reachable()
        except RegistryUnreachableError as exc:
            raise SettingsError(str(exc)) from exc
    return settings
