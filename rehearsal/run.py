"""The offline rehearsal of the AWS path, end to end, in one call (`make rehearse`).

1. a moto server (rehearsal.moto_batch) stands in for the AWS account;
2. `terraform apply` of terraform/envs/dev against it (everything moto implements: VPC,
   IAM, KMS, S3, Batch compute environment / queue / job definition, CloudWatch dashboard
   and alarms, SNS, ECR...; MWAA and the managed MLflow server are not in moto, so the
   root runs with enable_mwaa/enable_mlflow off and `mlflow_tracking_uri` pointing at
   step 3's server);
3. an MLflow tracking server (SQLite backend, artifacts in the artifacts bucket on moto S3);
4. a synthetic pricing history and three days' deliveries written to the store Terraform
   made (`store_uri` on moto S3);
5. the DAG run by the MWAA-parity Airflows (Python 3.12, no torch: the venvs the parity
   tests build): day 1 on 3.3.1, day 2 on 3.0.6 (MWAA's floor), day 3 on 3.3.1 with every
   attempt of one Batch job killed while it runs; rl_core from plugins.zip
   (docker/mwaa/build_plugins.py), and
   every setting from Terraform's outputs as MWAA's configuration options would pass them;
   runner `batch`: the torch steps are submitted by the Amazon provider's BatchOperator to
   the job queue on moto, where each job runs its job definition's command in the training
   environment (the one stand-in: rehearsal/moto_batch.py);
6. read back from moto: the CloudWatch metrics the dashboard plots, what each agent's
   SageMaker endpoint serves (the deploy step's work; moto's missing UpdateEndpoint added
   by rehearsal/moto_sagemaker.py), and from MLflow the decision per agent; then
   `terraform destroy`.

What this proves and what only a real account can: docs/deploy.md ("The offline rehearsal").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from contextlib import ExitStack
from dataclasses import asdict
from datetime import date
from pathlib import Path

import rl_core  # noqa: F401  (first: switches MLflow's telemetry off, nothing under ~)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the Terraform and MWAA-venv tooling the tests use

import mwaa_envs  # noqa: E402
import terraform_tools as tft  # noqa: E402

from rehearsal.mlflow_server import mlflow_server  # noqa: E402
from rehearsal.moto_batch import assume_role_env, batch_moto_server  # noqa: E402

REGION = "eu-west-1"
DAY = date(2026, 3, 10)
DAY2 = date(2026, 3, 11)
DAY3 = date(2026, 3, 12)
SABOTAGE = "profit.register_challenger"  # day 3: every attempt of this step is killed
ENV_ROOT = "envs/dev"
APPLY_TIMEOUT_S = 600
# the outputs every setting comes from (docs/deploy.md, "Settings")
SETTINGS_FROM_OUTPUTS = {
    "BATCH_JOB_QUEUE": "batch_job_queue_name",
    "BATCH_JOB_DEFINITION": "batch_job_definition_name",
    "STORE": "store_uri",
    "RUNS": "runs_uri",
    "MLFLOW_TRACKING_URI": "mlflow_tracking_uri",
    "ENV": "environment",
    "SNS_TOPIC_ARN": "sns_topic_arn",
}


class JobKiller:
    """Terminates every Batch job of one step (`agent.step`) once it runs: a job killed
    midway, as a Spot reclaim or an out-of-memory kill would."""

    def __init__(self, queue: str, target: str | None) -> None:
        self.queue, self.target = queue, target
        self.agent, self.step = target.split(".") if target else (None, None)
        self.killed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> JobKiller:
        if self.target:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        import boto3

        batch = boto3.client("batch")
        while not self._stop.wait(0.5):
            running = batch.list_jobs(jobQueue=self.queue, jobStatus="RUNNING")["jobSummaryList"]
            ids = [j["jobId"] for j in running if j["jobId"] not in self.killed]
            if not ids:
                continue
            for job in batch.describe_jobs(jobs=ids)["jobs"]:
                p = job.get("parameters") or {}
                if p.get("step") == self.step and p.get("agent") == self.agent:
                    time.sleep(1.0)  # into its work, not before it starts
                    batch.terminate_job(jobId=job["jobId"], reason="rehearsal: killed midway")
                    self.killed.append(job["jobId"])


class RehearsalError(RuntimeError):
    """A rehearsal step failed; the message names it and where its log is."""


def _say(msg: str) -> None:
    print(msg, flush=True)


def _workspace(work: Path) -> Path:
    """A copy of terraform/ (local state instead of S3) and what the stack uploads."""
    repo = work / "repo"
    shutil.copytree(
        ROOT / "terraform",
        repo / "terraform",
        ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"),
    )
    for folder in ("dags", "plugins"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "docker" / "mwaa", repo / "docker" / "mwaa")
    (repo / "terraform" / ENV_ROOT / "backend_override.tf").write_text(
        'terraform {\n  backend "local" {}\n}\n'
    )
    return repo


def build_plugins_zip(out: Path) -> Path:
    subprocess.run(
        [sys.executable, str(ROOT / "docker" / "mwaa" / "build_plugins.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def _outputs(cwd: Path, env: dict) -> dict:
    raw = json.loads(tft.tf(["output", "-json"], cwd, env, timeout=120))
    return {k: v["value"] for k, v in raw.items()}


def mwaa_settings(outputs: dict) -> dict[str, str]:
    """What MWAA's configuration options carry (forecourt.<name>), from Terraform's outputs;
    a missing output is named, never defaulted."""
    missing = [o for o in SETTINGS_FROM_OUTPUTS.values() if outputs.get(o) in (None, "")]
    if missing:
        raise RehearsalError(f"Terraform outputs missing: {', '.join(missing)}")
    env = {f"AIRFLOW__FORECOURT__{k}": str(outputs[o]) for k, o in SETTINGS_FROM_OUTPUTS.items()}
    env["AIRFLOW__FORECOURT__RUNNER"] = "batch"
    env["AIRFLOW__FORECOURT__METRICS"] = "cloudwatch"
    return env


def airflow_side_env(home: Path, plugins_zip: Path, aws: dict, settings: dict) -> dict:
    """The MWAA-like worker: its own Airflow home, dags/, plugins.zip unpacked as MWAA does."""
    plugins = home / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(plugins_zip) as z:
        z.extractall(plugins)
    env = mwaa_envs.probe_environ(home / "probe", deployed=None)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(plugins),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        PYTHONPATH=str(plugins),  # MWAA puts the unpacked plugins.zip on sys.path
        FORECOURT_RETRY_DELAY_S="5",
        FORECOURT_SENSOR_MODE="poke",
        FORECOURT_BATCH_POLL_S="2",  # MWAA polls every 30 s; the rehearsal need not wait
        **aws,
        **settings,
    )
    return env


def empty_buckets(names) -> None:
    """Every object version and delete marker out, as an operator does before a destroy
    (the buckets are not force_destroy: a data bucket must not vanish with a typo)."""
    import boto3

    s3 = boto3.client("s3")
    for name in names:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for i in range(0, len(keys), 1000):
                s3.delete_objects(Bucket=name, Delete={"Objects": keys[i : i + 1000]})


def read_back_metrics(cloudwatch, dashboard: str, environment: str) -> dict:
    """Each Forecourt metric the dashboard plots: how many data points moto holds."""
    body = json.loads(cloudwatch.get_dashboard(DashboardName=dashboard)["DashboardBody"])
    plotted = set()
    for widget in body.get("widgets", []):
        for row in (widget.get("properties") or {}).get("metrics") or []:
            if row and row[0] == "Forecourt":
                plotted.add(row[1])
    listed = cloudwatch.list_metrics(Namespace="Forecourt")["Metrics"]
    found: dict[str, int] = {}
    seen = set()
    for metric in listed:
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        key = (metric["MetricName"], tuple(sorted(dims.items())))
        if dims.get("Environment") != environment or key in seen:
            continue  # moto lists a metric once per data point
        seen.add(key)
        stats = cloudwatch.get_metric_statistics(
            Namespace="Forecourt",
            MetricName=metric["MetricName"],
            Dimensions=metric["Dimensions"],
            StartTime=time.time() - 86400,
            EndTime=time.time() + 3600,
            Period=86400,
            Statistics=["SampleCount"],
        )["Datapoints"]
        found[metric["MetricName"]] = found.get(metric["MetricName"], 0) + int(
            sum(p["SampleCount"] for p in stats)
        )
    return {name: found.get(name, 0) for name in sorted(plotted)}


def read_back_decisions(tracking_uri: str) -> dict:
    from mlflow import MlflowClient

    c = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    out = {}
    for agent in ("demand", "profit"):
        name = f"forecourt-{agent}"
        try:
            versions = c.search_model_versions(f"name='{name}'")
        except Exception:  # noqa: BLE001 - no such model: nothing registered
            versions = []
        try:
            champion = c.get_model_version_by_alias(name, "champion").version
        except Exception:  # noqa: BLE001 - no alias: no champion
            champion = None
        out[agent] = {
            "versions": sorted(v.version for v in versions),
            "champion": champion,
            "decisions": {
                v.version: v.tags.get("forecourt.decision") or v.tags.get("forecourt.outcome")
                for v in versions
            },
        }
    return out


def read_back_endpoints(deploy_config: dict | None) -> dict:
    """Per agent, what its SageMaker endpoint on moto serves now (None: no endpoint)."""
    from rl_core.serving.deploy import current_deployment
    from rl_core.serving.deploy_config import DeployConfig

    if not deploy_config:
        return {}
    config = DeployConfig.from_dict(deploy_config)
    out = {}
    for agent in ("demand", "profit"):
        deployment = current_deployment(agent, config)
        out[agent] = deployment.to_dict() if deployment else None
    return out


def rehearse(
    work: Path,
    trials: int = 2,
    env_steps: int = 60_000,
    stations: int = 8,
    say=_say,
) -> dict:
    """The whole rehearsal; returns what it measured and read back (JSON-safe)."""
    import boto3

    from rl_core.pipeline.demo import find_report, run_day, seed

    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.perf_counter() - since, 1)
        return time.perf_counter()

    say("1. the MWAA-parity Airflows (3.3.1 and 3.0.6, Python 3.12, no torch) and plugins.zip")
    newest, floor = (mwaa_envs.ensure_env(e, say=say) for e in mwaa_envs.ENVS)
    plugins_zip = build_plugins_zip(work / "plugins.zip")
    t = lap("mwaa_env_and_plugins", t0)
    repo = _workspace(work)
    cwd = repo / "terraform" / ENV_ROOT
    mlflow_port = tft.free_port()
    mlflow_uri = f"http://127.0.0.1:{mlflow_port}"
    with ExitStack() as stack:
        say("2. moto server with Batch jobs run in the training environment")
        moto = stack.enter_context(
            batch_moto_server(
                python_bin_dir=Path(sys.executable).parent,
                max_parallel=2,
                workdir=work / "jobs",
                iam_managed_policies=True,
            )
        )
        aws = {
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
        os.environ.update(aws)  # this process seeds the store and reads back from moto
        env = tft.tf_env(aws)
        tf_vars = [
            "-var", "enable_mwaa=false",
            "-var", "enable_mlflow=false",
            "-var", f"mlflow_tracking_uri={mlflow_uri}",
            "-var", f"plugins_zip_path={plugins_zip}",
            # the security baseline's services moto does not implement (tests/test_terraform.py)
            "-var", "enable_security_hub=false",
            "-var", "enable_access_analyzer=false",
            "-var", "enable_budget=false",
        ]  # fmt: skip
        say(f"3. terraform apply {ENV_ROOT} against moto ({moto.url})")
        tft.init(cwd, env, backend=True)
        applied, outputs = False, {}
        try:
            tft.tf(["apply", "-auto-approve", "-input=false", *tf_vars], cwd, env, APPLY_TIMEOUT_S)
            applied = True
            t = lap("terraform_apply", t)
            outputs = _outputs(cwd, env)
            resources = len(tft.resources_in_state(cwd, env))
            settings = mwaa_settings(outputs)
            # the stack lives in the dev account: act there (moto does not evaluate IAM, so
            # the role only selects the account; the MWAA role's policy is tested as HCL)
            account = assume_role_env(moto.url, outputs["stack"]["deploy_role_arn"], REGION, "mwaa")
            os.environ.update(account)
            aws = {**aws, **account}
            say(f"   {resources} resources; settings from outputs: {sorted(settings)}")
            bucket = outputs["stack"]["bucket_names"]["artifacts"]
            say(f"4. MLflow server on {mlflow_uri}, artifacts in s3://{bucket}/mlflow")
            stack.enter_context(
                mlflow_server(
                    work / "mlflow",
                    f"s3://{bucket}/mlflow",
                    moto.url,
                    port=mlflow_port,
                )
            )
            t = lap("mlflow_server", t)
            store = outputs["store_uri"]
            say(f"5. {stations} stations of history and 3 days' deliveries into {store}")
            seed(store, DAY, days=3, stations=stations)
            t = lap("seed_store", t)
            conf = {"trials": trials, "env_steps": env_steps, "calibration_days": 30}
            days = {}
            for n, (day, built, sabotage) in enumerate(
                ((DAY, newest, None), (DAY2, floor, None), (DAY3, newest, SABOTAGE)), start=6
            ):
                airflow = str(built.python.with_name("airflow"))
                side = airflow_side_env(
                    work / f"airflow-{built.env.airflow}", plugins_zip, aws, settings
                )
                subprocess.run(
                    [airflow, "db", "migrate"],
                    env=side,
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
                what = f"every {sabotage} Batch job killed while it runs" if sabotage else "whole"
                say(f"{n}. day {day} on Airflow {built.env.airflow}, runner batch: {what}")
                before = len(moto.jobs())
                with JobKiller(outputs["batch_job_queue_name"], sabotage) as killer:
                    outcome = run_day(
                        day,
                        conf,
                        side,
                        work / f"{day}.log",
                        echo=say,
                        timeout_s=1800,
                        airflow=airflow,
                    )
                t = lap(f"dag_run_{day}", t)
                report = find_report(day, outputs["runs_uri"]) or {}
                say(f"   {outcome['state']}: {report.get('status')}")
                days[str(day)] = {
                    "airflow": built.env.airflow,
                    "sabotage": sabotage,
                    "killed": killer.killed,
                    "dag": outcome,
                    "report_status": report.get("status"),
                    "failed": report.get("failed"),
                    "recommendations": report.get("recommendations"),
                    "batch_jobs": [asdict(j) for j in moto.jobs()[before:]],
                    "decisions": read_back_decisions(mlflow_uri),
                    "endpoints": read_back_endpoints(outputs.get("sagemaker_deploy_config")),
                    "log": str(work / f"{day}.log"),
                }
            say("9. read back: CloudWatch metrics the dashboard plots, decisions in MLflow")
            metrics = read_back_metrics(
                boto3.client("cloudwatch"),
                outputs["stack"]["dashboard_name"],
                outputs["environment"],
            )
            t = lap("read_back", t)
        finally:
            if applied:
                say("10. empty the buckets (versions included), terraform destroy")
                if outputs:
                    empty_buckets(outputs["stack"]["bucket_names"].values())
                t_destroy = time.perf_counter()
                destroy = ["destroy", "-auto-approve", "-input=false", *tf_vars]
                try:
                    tft.tf(destroy, cwd, env, APPLY_TIMEOUT_S)
                except AssertionError as exc:
                    # moto now and then loses a security group rule before Terraform revokes
                    # it (InvalidPermission.NotFound): refresh the state, then destroy again
                    say(f"   destroy failed once, refreshing and retrying: {str(exc)[-300:]}")
                    refresh = ["apply", "-refresh-only", "-auto-approve", "-input=false"]
                    tft.tf([*refresh, *tf_vars], cwd, env, APPLY_TIMEOUT_S)
                    tft.tf(destroy, cwd, env, APPLY_TIMEOUT_S)
                left = tft.resources_in_state(cwd, env)
                timings["terraform_destroy"] = round(time.perf_counter() - t_destroy, 1)
                if left:
                    raise RehearsalError(f"terraform destroy left {len(left)} resources")
    return {
        "conf": conf,
        "resources_applied": resources,
        "outputs": {k: outputs.get(k) for k in SETTINGS_FROM_OUTPUTS.values()},
        "days": days,
        "metrics_on_dashboard": metrics,
        "timings_s": timings,
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    p = argparse.ArgumentParser(prog="python -m rehearsal", description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=2)
    p.add_argument("--env-steps", type=int, default=60_000)
    p.add_argument("--stations", type=int, default=8)
    p.add_argument("--workdir", type=Path, default=None, help="default: a new temp folder")
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="forecourt-rehearsal-"))
    result = rehearse(work, args.trials, args.env_steps, args.stations)
    result.pop("report", None)
    ok = [d["dag"]["state"] for d in result["days"].values()] == ["success", "success", "failed"]
    print(json.dumps(result, default=str))
    return 0 if ok else 1
