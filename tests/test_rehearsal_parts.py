"""The rehearsal's two pieces: moto whose Batch jobs really run, and an MLflow server on moto S3.

One moto server (rehearsal.moto_batch) for the module, jobs run by this venv's python;
every job is a `python -c` one-liner. The Airflow test drives the Amazon provider's own
BatchClientHook and AwsTaskLogFetcher, as the BatchOperator does.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `rehearsal` is not an installed package
    sys.path.insert(0, str(ROOT))

from rehearsal.mlflow_server import mlflow_server  # noqa: E402
from rehearsal.moto_batch import (  # noqa: E402
    TIMEOUT_REASON,
    batch_moto_server,
    substitute_parameters,
)


def _marker_declared(name: str) -> bool:
    """--strict-markers makes an undeclared mark an error: mark only once pyproject has it."""
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())
    markers = ini.get("tool", {}).get("pytest", {}).get("ini_options", {}).get("markers", [])
    return any(m.split(":", 1)[0].strip() == name for m in markers)


pytestmark = [pytest.mark.integration] if _marker_declared("integration") else []

REGION = "eu-west-1"
GROUP = "/forecourt/rehearsal"
BUCKET = "rehearsal-jobs"
QUEUE = "rehearsal-queue"
DONE = ("SUCCEEDED", "FAILED")

ECHO = """
import json, os, sys, boto3
print("argv", json.dumps(sys.argv[1:]))
print("env", os.environ["FROM_DEFINITION"], os.environ["FROM_OVERRIDE"], os.environ["EXTRA"])
print("to stderr", file=sys.stderr)
key = sys.argv[2].split("=", 1)[1]
body = json.dumps({"argv": sys.argv[1:], "job": os.environ["AWS_BATCH_JOB_ID"]})
boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=body)
"""


def _clients(url: str) -> dict:
    kw = dict(
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    names = ("batch", "logs", "s3", "iam", "sagemaker")
    return {name: boto3.client(name, **kw) for name in names}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with batch_moto_server(
        Path(sys.executable).parent,
        max_parallel=2,
        extra_env={"EXTRA": "from-extra-env"},
        workdir=tmp_path_factory.mktemp("jobs"),
    ) as srv:
        c = _clients(srv.url)
        role = c["iam"].create_role(RoleName="batch-service", AssumeRolePolicyDocument="{}")
        c["logs"].create_log_group(logGroupName=GROUP)
        c["s3"].create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        ce = c["batch"].create_compute_environment(
            computeEnvironmentName="rehearsal-ce",
            type="UNMANAGED",
            state="ENABLED",
            serviceRole=role["Role"]["Arn"],
        )
        c["batch"].create_job_queue(
            jobQueueName=QUEUE,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}
            ],
        )
        yield srv


@pytest.fixture(scope="module")
def c(server):
    return _clients(server.url)


def _define(c, name: str, command: list[str], **extra) -> None:
    container = {
        "image": "forecourt-training:rehearsal",
        "vcpus": 1,
        "memory": 512,
        "command": command,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": GROUP, "awslogs-stream-prefix": "rehearsal"},
        },
        **extra.pop("container", {}),
    }
    c["batch"].register_job_definition(
        jobDefinitionName=name, type="container", containerProperties=container, **extra
    )


def _submit(c, name: str, definition: str | None = None, **kw) -> str:
    job = c["batch"].submit_job(
        jobName=name, jobQueue=QUEUE, jobDefinition=definition or name, **kw
    )
    return job["jobId"]


def _describe(c, job_id: str) -> dict:
    return c["batch"].describe_jobs(jobs=[job_id])["jobs"][0]


def _wait(c, job_id: str, statuses=DONE, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = _describe(c, job_id)
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}: {job}"
        time.sleep(0.1)


def _messages(c, job: dict) -> list[str]:
    events = c["logs"].get_log_events(
        logGroupName=GROUP, logStreamName=job["container"]["logStreamName"], startFromHead=True
    )["events"]
    return [e["message"] for e in events]


def _record(server, job_id: str):
    return next(r for r in server.jobs() if r.job_id == job_id)


def test_sagemaker_update_endpoint_switches_the_config(server, c):
    """moto lacks UpdateEndpoint; the server adds it (the deploy step's second promotion)."""
    sm = c["sagemaker"]
    for n in (1, 2):
        sm.create_model(
            ModelName=f"m{n}",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
            PrimaryContainer={"Image": "img:latest"},
        )
        variant = {"VariantName": "AllTraffic", "ModelName": f"m{n}"}
        variant.update(InstanceType="ml.m5.large", InitialInstanceCount=1)
        sm.create_endpoint_config(EndpointConfigName=f"c{n}", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    ep = sm.describe_endpoint(EndpointName="ep")
    assert (ep["EndpointConfigName"], ep["EndpointStatus"]) == ("c2", "InService")
    with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint_config"):
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="nope")
    with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint"):
        sm.update_endpoint(EndpointName="nope", EndpointConfigName="c1")


def test_parameters_are_substituted_longest_name_first():
    command = ["run", "Ref::lr", "--decay=Ref::lr_decay", "Ref::missing", "Ref::lr-x"]
    assert substitute_parameters(command, {"lr": "0.1", "lr_decay": "0.9"}) == [
        "run",
        "0.1",
        "--decay=0.9",
        "Ref::missing",
        "Ref::lr-x",
    ]


def test_job_runs_its_command_with_parameters_environment_logs_and_s3(server, c):
    _define(
        c,
        "rehearsal-echo",
        ["python", "-c", ECHO, "Ref::greeting", "--key=Ref::key"],
        parameters={"greeting": "default greeting", "key": "default-key.json"},
        container={
            "environment": [
                {"name": "FROM_DEFINITION", "value": "definition"},
                {"name": "FROM_OVERRIDE", "value": "definition"},
                {"name": "BUCKET", "value": BUCKET},
            ]
        },
    )
    job_id = _submit(
        c,
        "rehearsal-echo",
        parameters={"greeting": "hello world"},
        containerOverrides={"environment": [{"name": "FROM_OVERRIDE", "value": "override"}]},
    )
    job = _wait(c, job_id)

    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    assert job["container"]["exitCode"] == 0
    stream = f"rehearsal/default/{job_id}"  # <awslogs-stream-prefix>/default/<job id>
    assert job["container"]["logStreamName"] == stream
    assert job["attempts"][0]["container"]["logStreamName"] == stream
    assert job["container"]["logConfiguration"]["options"]["awslogs-group"] == GROUP
    record = _record(server, job_id)
    assert record.command == ["python", "-c", ECHO, "hello world", "--key=default-key.json"]
    assert record.exit_code == 0 and record.seconds is not None and record.seconds > 0
    assert record.started_at <= record.stopped_at

    messages = _messages(c, job)
    assert 'argv ["hello world", "--key=default-key.json"]' in messages
    assert "env definition override from-extra-env" in messages
    assert "to stderr" in messages
    body = json.loads(c["s3"].get_object(Bucket=BUCKET, Key="default-key.json")["Body"].read())
    assert body == {"argv": ["hello world", "--key=default-key.json"], "job": job_id}


def test_nonzero_exit_and_signal_fail_the_job_with_the_code(server, c):
    _define(c, "rehearsal-exit3", ["python", "-c", "import sys; print('bye'); sys.exit(3)"])
    kill = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    _define(c, "rehearsal-killed", ["python", "-c", kill])
    exit3, killed = _submit(c, "rehearsal-exit3"), _submit(c, "rehearsal-killed")

    job = _wait(c, exit3)
    assert job["status"] == "FAILED"
    assert job["container"]["exitCode"] == 3
    assert job["attempts"][0]["container"]["exitCode"] == 3
    assert "exit code 3" in job["statusReason"]
    assert _messages(c, job) == ["bye"]

    job = _wait(c, killed)
    assert job["status"] == "FAILED"
    assert job["container"]["exitCode"] == 128 + signal.SIGKILL
    assert "SIGKILL" in job["statusReason"]


def test_a_job_that_cannot_start_fails_with_the_reason(server, c):
    c["batch"].register_job_definition(
        jobDefinitionName="rehearsal-no-group",
        type="container",
        containerProperties={
            "image": "forecourt-training:rehearsal",
            "vcpus": 1,
            "memory": 512,
            "command": ["python", "-c", "print('never')"],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/forecourt/not-created"},
            },
        },
    )
    _define(c, "rehearsal-no-exe", ["no-such-executable-here", "Ref::x"])

    job = _wait(c, _submit(c, "rehearsal-no-group"))
    assert job["status"] == "FAILED"
    assert "log group does not exist" in job["statusReason"]
    assert job["container"]["reason"] == job["statusReason"]
    job = _wait(c, _submit(c, "rehearsal-no-exe"))
    assert job["status"] == "FAILED"
    assert job["statusReason"].startswith("CannotStartContainerError")
    assert "no-such-executable-here" in job["statusReason"]


def test_a_moto_without_the_patched_attribute_fails_loudly(monkeypatch):
    from moto.batch.models import Job

    from rehearsal.moto_batch import _patch_moto

    monkeypatch.delattr(Job, "_container_details")
    with pytest.raises(RuntimeError, match=r"written against moto 5\.2\.5.*_container_details"):
        _patch_moto(None)


def _pid_from_log(c, job_id: str) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        job = _describe(c, job_id)
        if job["status"] == "RUNNING" and job["container"].get("logStreamName"):
            messages = _messages(c, job)
            if messages:
                return int(messages[0])
        time.sleep(0.1)
    raise AssertionError(f"no pid logged by {job_id}: {_describe(c, job_id)}")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_terminate_and_timeout_kill_the_process(server, c):
    sleeper = "import os, time; print(os.getpid(), flush=True); time.sleep(120)"
    _define(c, "rehearsal-sleep", ["python", "-c", sleeper])
    _define(
        c, "rehearsal-timeout", ["python", "-c", sleeper], timeout={"attemptDurationSeconds": 1}
    )
    terminated, timed_out = _submit(c, "rehearsal-sleep"), _submit(c, "rehearsal-timeout")

    pid = _pid_from_log(c, terminated)
    c["batch"].terminate_job(jobId=terminated, reason="stopped by the test")
    job = _wait(c, terminated, timeout=20)
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "stopped by the test"
    assert job["container"]["exitCode"] == 128 + signal.SIGTERM
    assert _gone(pid)

    pid = _pid_from_log(c, timed_out)
    job = _wait(c, timed_out, timeout=20)
    assert job["status"] == "FAILED"
    assert job["statusReason"] == TIMEOUT_REASON
    assert _gone(pid)
    record = _record(server, timed_out)
    assert 1 <= record.seconds < 12


def test_at_most_max_parallel_jobs_run_the_rest_wait_runnable(server, c):
    _define(c, "rehearsal-short", ["python", "-c", "import time; time.sleep(2)"])
    first = [_submit(c, f"rehearsal-short-{i}", "rehearsal-short") for i in range(2)]
    queued = _submit(c, "rehearsal-short-2", "rehearsal-short")
    cancelled = _submit(c, "rehearsal-short-3", "rehearsal-short")
    for job_id in first:
        _wait(c, job_id, ("RUNNING",), timeout=15)
    assert _describe(c, queued)["status"] == "RUNNABLE"
    assert _describe(c, cancelled)["status"] == "RUNNABLE"

    # as on Batch: cancel_job stops a job that has not started, and leaves a running one be
    c["batch"].cancel_job(jobId=first[0], reason="too late")
    c["batch"].cancel_job(jobId=cancelled, reason="cancelled by the test")
    job = _wait(c, cancelled, timeout=5)
    assert job["status"] == "FAILED" and job["statusReason"] == "cancelled by the test"
    assert _record(server, cancelled).command == []  # never ran

    for job_id in [*first, queued]:
        assert _wait(c, job_id)["status"] == "SUCCEEDED"
    started = _record(server, queued).started_at
    assert started >= min(_record(server, j).stopped_at for j in first)


def test_the_airflow_provider_waits_for_the_job_and_reads_its_log(server, c, monkeypatch):
    for key, value in server.aws_env(REGION).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    from airflow.exceptions import AirflowException
    from airflow.providers.amazon.aws.hooks.batch_client import BatchClientHook
    from airflow.providers.amazon.aws.utils.task_log_fetcher import AwsTaskLogFetcher

    lines = "import time\nfor i in range(3):\n    print('line', i, flush=True); time.sleep(0.3)"
    _define(c, "rehearsal-airflow", ["python", "-c", lines])
    _define(c, "rehearsal-airflow-fail", ["python", "-c", "raise SystemExit(5)"])
    hook = BatchClientHook(aws_conn_id=None, region_name=REGION)
    job_id = hook.client.submit_job(
        jobName="rehearsal-airflow", jobQueue=QUEUE, jobDefinition="rehearsal-airflow"
    )["jobId"]

    task_log = logging.getLogger("test.rehearsal.task")
    task_log.setLevel(logging.INFO)
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    task_log.addHandler(handler)
    fetchers: list[AwsTaskLogFetcher] = []

    def log_fetcher(jid: str) -> AwsTaskLogFetcher | None:  # BatchOperator._get_batch_log_fetcher
        info = hook.get_job_awslogs_info(jid)
        if not info:
            return None
        fetchers.append(
            AwsTaskLogFetcher(
                aws_conn_id=None,
                region_name=info["awslogs_region"],
                log_group=info["awslogs_group"],
                log_stream_name=info["awslogs_stream_name"],
                fetch_interval=timedelta(seconds=0.2),
                logger=task_log,
            )
        )
        return fetchers[-1]

    try:
        hook.wait_for_job(job_id, delay=0.1, get_batch_log_fetcher=log_fetcher)
    finally:
        task_log.removeHandler(handler)
    assert hook.check_job_success(job_id)
    assert hook.get_job_all_awslogs_info(job_id) == [
        {
            "awslogs_stream_name": f"rehearsal/default/{job_id}",
            "awslogs_group": GROUP,
            "awslogs_region": REGION,
        }
    ]
    assert fetchers, "the hook found no CloudWatch stream while the job ran"
    assert [m.split("] ", 1)[1] for m in seen if "] line" in m] == ["line 0", "line 1", "line 2"]
    assert fetchers[0].get_last_log_messages(10) == ["line 0", "line 1", "line 2"]

    failing = hook.client.submit_job(
        jobName="rehearsal-airflow-fail", jobQueue=QUEUE, jobDefinition="rehearsal-airflow-fail"
    )["jobId"]
    hook.wait_for_job(failing, delay=0.1)
    with pytest.raises(AirflowException, match="exit code 5"):
        hook.check_job_success(failing)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/health", timeout=2)
    except OSError:
        return False
    return True


def test_mlflow_server_keeps_artifacts_on_moto_s3(server, c, tmp_path):
    from mlflow import MlflowClient

    c["s3"].create_bucket(
        Bucket="rehearsal-mlflow", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    artifact = tmp_path / "model-card.txt"
    artifact.write_text("challenger")
    with mlflow_server(tmp_path / "mlflow", "s3://rehearsal-mlflow/mlflow", server.url) as url:
        client = MlflowClient(tracking_uri=url)
        run = client.create_run(client.create_experiment("rehearsal"))
        client.log_metric(run.info.run_id, "fraction_of_optimum", 0.995)
        client.log_artifact(run.info.run_id, str(artifact))
        client.set_terminated(run.info.run_id)
        assert client.get_run(run.info.run_id).data.metrics["fraction_of_optimum"] == 0.995
        assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["model-card.txt"]
    assert not _answers(url)
    keys = [o["Key"] for o in c["s3"].list_objects_v2(Bucket="rehearsal-mlflow")["Contents"]]
    assert keys == [f"mlflow/{run.info.experiment_id}/{run.info.run_id}/artifacts/model-card.txt"]
    body = c["s3"].get_object(Bucket="rehearsal-mlflow", Key=keys[0])["Body"].read()
    assert body == b"challenger"
    assert (tmp_path / "mlflow" / "mlflow.db").is_file()


def test_cli_serves_in_the_foreground_until_interrupted(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rehearsal.moto_batch", "--venv", sys.prefix, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        head = [proc.stdout.readline() for _ in range(1)]
        while f"http://127.0.0.1:{port}" not in head[-1] and head[-1] and len(head) < 20:
            head.append(proc.stdout.readline())
        assert f"http://127.0.0.1:{port}" in head[-1], "".join(head)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=5)
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)  # drained, so a full pipe cannot block it
    assert proc.returncode == 0, rest[-3000:]


def test_mlflow_server_that_dies_is_reported_with_its_log(tmp_path):
    fake = tmp_path / "mlflow"
    fake.write_text("#!/bin/sh\necho 'cannot open the backend store' >&2\nexit 1\n")
    fake.chmod(0o755)
    with (
        pytest.raises(RuntimeError, match="(?s)exited with 1.*cannot open the backend store"),
        mlflow_server(tmp_path / "w", "s3://b/mlflow", None, mlflow_bin=fake),
    ):
        pass
