"""A moto server (moto 5.2.5) whose AWS Batch jobs really run, as local processes.

Real moto: every API (Batch resources, submit/describe/list/cancel/terminate, job states
SUBMITTED > [PENDING] > RUNNABLE > STARTING > RUNNING > SUCCEEDED/FAILED, CloudWatch Logs, S3,
IAM...), served in-process by moto's ThreadedMotoServer on 127.0.0.1.
Stand-in (the only one): instead of starting the image, a job runs exactly its command
(containerOverrides applied, `Ref::` parameters substituted) as a subprocess, `python_bin_dir`
first on PATH, with the definition's + override environment, AWS_BATCH_*, AWS_ENDPOINT_URL=<this
server>, dummy credentials, PYTHONUNBUFFERED=1, cwd and HOME a fresh per-job folder; its output
lines go to the awslogs group/stream real Batch uses. Image, vCPUs, memory, GPUs, roles and
scaling are ignored; `max_parallel` jobs run at once, the rest wait RUNNABLE.
Patched on moto.batch.models.Job: run() (moto's needs docker), _container_details() (adds the
logConfiguration, exitCode and reason that moto omits); batch::job transitions set to manual.
Patched on moto.s3.models.FakeBucket.get_permission: bucket-policy statements with a Condition
are left out (moto would apply them without it: a TLS-only Deny would deny everything).
Added: SageMaker's UpdateEndpoint, which moto lacks (rehearsal/moto_sagemaker.py).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rehearsal.moto_sagemaker import patch_update_endpoint

log = logging.getLogger("rehearsal.moto_batch")

MOTO_WRITTEN_FOR = "5.2.5"
DEFAULT_LOG_GROUP = "/aws/batch/job"  # Batch's own group, present in every account
STOP_GRACE_S = 10.0  # SIGTERM, then SIGKILL after this (ECS waits 30 s)
TIMEOUT_REASON = "Job attempt duration exceeded timeout"  # real Batch's statusReason
_POLL_S = 0.1
_MAX_EVENT_CHARS = 200_000  # CloudWatch caps an event at 256 KiB
_PATCHED = ("run", "_container_details")
_USED = ("_start_attempt", "_mark_stopped", "_wait_for_dependencies", "_get_container_property")


@dataclass(frozen=True)
class JobRecord:
    """One executed (or refused) job, as this stand-in ran it."""

    job_id: str
    name: str
    command: list[str] = field(default_factory=list)
    status: str = "RUNNABLE"
    exit_code: int | None = None
    reason: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    seconds: float | None = None
    log_group: str | None = None
    log_stream: str | None = None
    workdir: str | None = None


class _CannotStart(Exception):
    """The job fails before its process starts (statusReason and container.reason)."""


def substitute_parameters(command: list[str] | str, parameters: dict[str, str]) -> list[str]:
    """Replace each `Ref::name` whose name is a parameter (longest name wins); others stay."""
    parts = [command] if isinstance(command, str) else list(command)
    if not parameters:
        return parts
    names = sorted(parameters, key=len, reverse=True)
    ref = re.compile(r"Ref::(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_-])")
    return [ref.sub(lambda m: str(parameters[m.group(1)]), part) for part in parts]


class _Slots:
    """At most n jobs at once, started in submission order."""

    def __init__(self, n: int) -> None:
        self.n, self.running = n, 0
        self.waiting: deque[str] = deque()
        self.cond = threading.Condition()

    def acquire(self, job_id: str, abandon: Callable[[], bool]) -> bool:
        with self.cond:
            self.waiting.append(job_id)
            while not (self.running < self.n and self.waiting[0] == job_id):
                if abandon():
                    self.waiting.remove(job_id)
                    self.cond.notify_all()
                    return False
                self.cond.wait(_POLL_S)
            self.waiting.popleft()
            self.running += 1
            self.cond.notify_all()
            return True

    def release(self) -> None:
        with self.cond:
            self.running -= 1
            self.cond.notify_all()


class _Executor:
    """Runs moto's Batch jobs as subprocesses (installed as Job.run while a server is up)."""

    def __init__(
        self,
        python_bin_dir: Path,
        max_parallel: int,
        extra_env: dict[str, str] | None,
        workdir: Path,
    ) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be >= 1, got {max_parallel}")
        self.bin_dir = Path(python_bin_dir).resolve()
        if not self.bin_dir.is_dir():
            raise FileNotFoundError(f"python_bin_dir {self.bin_dir} is not a folder")
        self.extra_env = dict(extra_env or {})
        self.workdir = workdir
        self.url = ""
        self.slots = _Slots(max_parallel)
        self.lock = threading.Lock()
        self.records: dict[str, JobRecord] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.threads: list[threading.Thread] = []
        self.closing = False

    # ---- the replacement of Job.run ------------------------------------------------------

    def run(self, job: Any) -> None:
        with self.lock:
            self.threads.append(threading.current_thread())
            self.records[job.job_id] = JobRecord(job.job_id, job.job_name)
        try:
            self._run(job)
        except Exception as exc:  # never leave a job RUNNING because this stand-in broke
            log.exception("rehearsal: job %s (%s) failed in the stand-in", job.job_name, job.job_id)
            self._finish(job, success=False, reason=f"rehearsal stand-in error: {exc!r}")

    def _run(self, job: Any) -> None:
        if job.depends_on:
            job.status = "PENDING"
            if not job._wait_for_dependencies():  # marks the job FAILED itself
                job.job_stopped_reason = job.job_stopped_reason or "Dependent Job failed"
                self._record(job, status="FAILED", reason=job.job_stopped_reason)
                return
        job.status = "RUNNABLE"
        if not self.slots.acquire(job.job_id, lambda: job.stop or self.closing):
            self._finish(job, success=False, reason=job.job_stopped_reason or "Job cancelled")
            return
        try:
            job.status = "STARTING"
            try:
                command, env, group, stream, cwd = self._prepare(job)
            except _CannotStart as exc:
                self._finish(job, success=False, reason=str(exc), container_reason=str(exc))
                return
            self._execute(job, command, env, group, stream, cwd)
        finally:
            self.slots.release()

    def _credentials(self, role_arn: str | None, region: str) -> dict[str, str]:
        dummy = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        if not role_arn:
            return dummy
        return assume_role_env(self.url, role_arn, region, session="batch-job")

    def _prepare(self, job: Any) -> tuple[list[str], dict[str, str], str, str, Path]:
        jd = job.job_definition
        props = jd.container_properties
        if props is None or getattr(jd, "eks_properties", None):
            raise _CannotStart("rehearsal stand-in runs container jobs only (no multinode/EKS)")
        if props.get("secrets"):
            raise _CannotStart("rehearsal stand-in does not resolve containerProperties.secrets")
        command = substitute_parameters(job._get_container_property("command", []), job.parameters)
        if not command:
            raise _CannotStart("job has no command (the stand-in has no image default CMD)")

        env = {k: os.environ[k] for k in ("LANG", "LC_ALL", "TZ", "TMPDIR") if k in os.environ}
        cwd = self.workdir / job.job_id.replace(":", "-")
        cwd.mkdir(parents=True, exist_ok=True)
        # a fresh HOME per job, as a container has: nothing lands in the user's home
        env.update(PATH=os.environ.get("PATH", os.defpath), HOME=str(cwd), PYTHONUNBUFFERED="1")
        env.update(self.extra_env)
        env.update({e["name"]: e["value"] for e in props.get("environment", [])})
        overrides = job.container_overrides.get("environment") or []
        env.update({e["name"]: e["value"] for e in overrides})
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(key, None)
        region = job.backend.region_name
        # the job's role, as Batch gives a container its job role's credentials (moto STS):
        # the job then acts in the role's account, where Terraform made the stack
        env.update(AWS_ENDPOINT_URL=self.url, **self._credentials(props.get("jobRoleArn"), region))
        env.setdefault("AWS_REGION", region)
        env.setdefault("AWS_DEFAULT_REGION", region)
        envs = getattr(job.job_queue, "environments", None) or []
        env.update(
            AWS_BATCH_JOB_ID=job.job_id,
            AWS_BATCH_JOB_ATTEMPT="1",
            AWS_BATCH_JQ_NAME=job.job_queue.name,
            AWS_BATCH_CE_NAME=getattr(envs[0], "name", "") if envs else "",
        )
        if "index" in (job.array_properties or {}):
            env["AWS_BATCH_JOB_ARRAY_INDEX"] = str(job.array_properties["index"])

        config = props.get("logConfiguration") or {}
        if config.get("logDriver", "awslogs") != "awslogs":
            raise _CannotStart(f"rehearsal stand-in supports the awslogs driver only: {config}")
        options = config.get("options") or {}
        group = options.get("awslogs-group", DEFAULT_LOG_GROUP)
        stream = f"{options.get('awslogs-stream-prefix', jd.name)}/default/{job.job_id}"
        logs = job._log_backend
        if group not in logs.groups:
            if group != DEFAULT_LOG_GROUP and options.get("awslogs-create-group") != "true":
                raise _CannotStart(
                    "CannotStartContainerError: failed to initialize logging driver: failed to "
                    f"create Cloudwatch log stream: ResourceNotFoundException: The specified log "
                    f"group does not exist ({group})"
                )
            logs.ensure_log_group(group)
        logs.ensure_log_stream(group, stream)
        job.log_stream_name = stream
        return command, env, group, stream, cwd

    def _execute(
        self, job: Any, command: list[str], env: dict[str, str], group: str, stream: str, cwd: Path
    ) -> None:
        self._record(job, command=command, log_group=group, log_stream=stream, workdir=str(cwd))
        try:
            proc = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stop kills the whole tree
            )
        except OSError as exc:
            reason = f"CannotStartContainerError: exec: {command[0]!r}: {exc.strerror}"
            self._finish(job, success=False, reason=reason, container_reason=reason)
            return
        with self.lock:
            self.procs[job.job_id] = proc
        job.job_started_at = datetime.now()
        started = time.monotonic()
        job._start_attempt()
        job.status = "RUNNING"
        self._record(job, status="RUNNING", started_at=datetime.now(UTC))
        log.info("job %s (%s) RUNNING: %s", job.job_name, job.job_id, command)

        lines: queue.Queue[tuple[int, str]] = queue.Queue()
        readers = [
            threading.Thread(target=_read_lines, args=(pipe, lines), daemon=True)
            for pipe in (proc.stdout, proc.stderr)
        ]
        for reader in readers:
            reader.start()
        duration = _attempt_duration(job)
        stop_reason: str | None = None
        term_sent = 0.0
        while proc.poll() is None:
            if stop_reason is None:
                if job.stop or self.closing:
                    stop_reason = job.job_stopped_reason or "Job terminated"
                elif duration and time.monotonic() - started > duration:
                    stop_reason = TIMEOUT_REASON
                if stop_reason:
                    _signal_group(proc, signal.SIGTERM)
                    term_sent = time.monotonic()
            elif time.monotonic() - term_sent > STOP_GRACE_S:
                _signal_group(proc, signal.SIGKILL)
            self._flush(job, lines, group, stream)
            time.sleep(_POLL_S)
        _signal_group(proc, signal.SIGKILL)  # the container stops with its main process
        for reader in readers:
            reader.join(5)
        self._flush(job, lines, group, stream)
        with self.lock:
            self.procs.pop(job.job_id, None)

        code = proc.returncode
        exit_code = 128 - code if code < 0 else code  # as docker reports a signal
        exited = "Essential container in task exited"
        if stop_reason:
            reason = stop_reason
        elif code < 0:
            name = signal.Signals(-code).name
            reason = f"{exited}: killed by signal {name} (exit code {exit_code})"
        elif code:
            reason = f"{exited}: exit code {code}"
        else:
            reason = None
        seconds = time.monotonic() - started
        self._finish(job, reason is None, reason, exit_code=exit_code, seconds=seconds)

    def _flush(self, job: Any, lines: queue.Queue, group: str, stream: str) -> None:
        events = []
        while True:
            try:
                stamp, text = lines.get_nowait()
            except queue.Empty:
                break
            if text.strip():
                events.append({"timestamp": stamp, "message": text[:_MAX_EVENT_CHARS]})
                log.debug("[%s] %s", job.job_name, text)
        if events:
            events.sort(key=lambda e: e["timestamp"])
            try:
                job._log_backend.put_log_events(group, stream, events)
            except Exception:  # a deleted group must not break the job
                log.exception("rehearsal: could not put log events for job %s", job.job_id)

    def _finish(
        self,
        job: Any,
        success: bool,
        reason: str | None = None,
        exit_code: int | None = None,
        container_reason: str | None = None,
        seconds: float | None = None,
    ) -> None:
        job.exit_code = exit_code
        if reason:
            job.job_stopped_reason = reason
        job._rehearsal_container_reason = container_reason
        if job.latest_attempt is not None:
            if exit_code is not None:
                job.latest_attempt["container"]["exitCode"] = exit_code
            if reason:
                job.latest_attempt["statusReason"] = reason
        job._mark_stopped(success=success)
        status = "SUCCEEDED" if success else "FAILED"
        self._record(
            job,
            status=status,
            exit_code=exit_code,
            reason=reason,
            stopped_at=datetime.now(UTC),
            seconds=seconds,
        )
        log.info(
            "job %s (%s) %s%s%s",
            job.job_name,
            job.job_id,
            status,
            "" if exit_code is None else f" exit code {exit_code}",
            f": {reason}" if reason else "",
        )

    def _record(self, job: Any, **changes: Any) -> None:
        with self.lock:
            old = self.records.get(job.job_id) or JobRecord(job.job_id, job.job_name)
            self.records[job.job_id] = replace(old, **changes)

    def jobs(self) -> list[JobRecord]:
        with self.lock:
            return list(self.records.values())

    def close(self, wait_s: float = 15.0) -> None:
        """Stop every job still waiting or running; wait for their threads."""
        self.closing = True
        deadline = time.monotonic() + wait_s
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self.lock:
            procs = list(self.procs.values())
        for proc in procs:  # a job thread that did not finish in time
            _signal_group(proc, signal.SIGKILL)


def _read_lines(pipe: Any, lines: queue.Queue) -> None:
    with pipe:
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            lines.put((int(time.time() * 1000), text))


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _attempt_duration(job: Any) -> float | None:
    """The submitted timeout, else the job definition's (moto's own rule)."""
    for timeout in (job.timeout, job.job_definition.timeout):
        if timeout and timeout.get("attemptDurationSeconds"):
            return float(timeout["attemptDurationSeconds"])
    return None


def _patch_moto(executor: _Executor) -> Callable[[], None]:
    """Install the stand-in on moto's Batch Job; return the function that undoes it."""
    import moto
    from moto.batch.models import Job
    from moto.moto_api import state_manager

    missing = [name for name in (*_PATCHED, *_USED) if not hasattr(Job, name)]
    if missing:
        raise RuntimeError(
            f"rehearsal/moto_batch.py was written against moto {MOTO_WRITTEN_FOR}; moto "
            f"{moto.__version__} has no moto.batch.models.Job.{', Job.'.join(missing)}: "
            "update the stand-in to this moto version"
        )
    if moto.__version__ != MOTO_WRITTEN_FOR:
        log.warning(
            "rehearsal.moto_batch: written against moto %s, running on %s",
            MOTO_WRITTEN_FOR,
            moto.__version__,
        )
    original = {name: Job.__dict__[name] for name in _PATCHED}

    def run(job: Any) -> None:
        executor.run(job)

    def container_details(job: Any) -> dict[str, Any]:
        # moto appends to the override's environment list on every describe: work on a copy
        overrides = job.container_overrides
        job.container_overrides = copy.deepcopy(overrides)
        try:
            details = original["_container_details"](job)
        finally:
            job.container_overrides = overrides
        props = job.job_definition.container_properties or {}
        if props.get("logConfiguration"):
            details["logConfiguration"] = copy.deepcopy(props["logConfiguration"])
        if job.exit_code is not None:
            details["exitCode"] = job.exit_code
        if getattr(job, "_rehearsal_container_reason", None):
            details["reason"] = job._rehearsal_container_reason
        return details

    Job.run = run
    Job._container_details = container_details
    # statuses change only when this module sets them (moto's default jumps to RUNNING)
    state_manager.set_transition("batch::job", {"progression": "manual", "times": sys.maxsize})

    def undo() -> None:
        for name, value in original.items():
            setattr(Job, name, value)
        state_manager.unset_transition("batch::job")

    return undo


@dataclass
class BatchMotoServer:
    """A running server: `url`, `port`, `jobs()` (what the stand-in executed)."""

    url: str
    port: int
    _executor: _Executor

    def jobs(self) -> list[JobRecord]:
        return self._executor.jobs()

    def aws_env(self, region: str = "eu-west-1") -> dict[str, str]:
        """Environment variables that point boto3 (and Terraform) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }


_ACTIVE = threading.Lock()  # moto's backends and the patch are per process: one server


def assume_role_env(url: str, role_arn: str, region: str, session: str) -> dict[str, str]:
    """AWS_* credentials of `role_arn`, assumed through the moto server's STS."""
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def _patch_bucket_policy_conditions() -> Callable[[], None]:
    """moto 5.2.5 evaluates a bucket policy's statements without their Condition (its IAM
    evaluator has none), so every conditional Deny (TLS only, KMS headers) denies every
    object call. Here a statement with a Condition is left out of moto's evaluation:
    the conditions Forecourt's buckets carry are the ones real S3 evaluates (and that a
    plain HTTPS request without encryption headers passes). Returns the undo."""
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission

    def get_permission(self, action: str, resource: str):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy.decode())
        statements = policy.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        kept = [st for st in statements if "Condition" not in st]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(
            action, resource
        )

    FakeBucket.get_permission = get_permission

    def undo() -> None:
        FakeBucket.get_permission = original

    return undo


@contextlib.contextmanager
def batch_moto_server(
    python_bin_dir: Path,
    max_parallel: int = 2,
    extra_env: dict[str, str] | None = None,
    *,
    port: int = 0,
    workdir: Path | None = None,
    iam_managed_policies: bool = False,
) -> Iterator[BatchMotoServer]:
    """moto on 127.0.0.1:`port` (0: a free one) whose Batch jobs run with `python_bin_dir`
    first on PATH, `max_parallel` at once, `extra_env` under each job's own environment.
    Jobs run in `workdir/<job id>` (their cwd and HOME; a temporary folder by default).
    `iam_managed_policies` loads AWS managed IAM policies (what `terraform apply` attaches)."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    if not _ACTIVE.acquire(blocking=False):
        raise RuntimeError("a batch_moto_server is already running in this process")
    iam_config = default_user_config.setdefault("iam", {})
    iam_before = iam_config.get("load_aws_managed_policies", False)
    with contextlib.ExitStack() as stack:
        stack.callback(_ACTIVE.release)
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="moto-batch-")))
        executor = _Executor(python_bin_dir, max_parallel, extra_env, Path(workdir))
        stack.callback(_patch_moto(executor))
        stack.callback(_patch_bucket_policy_conditions())
        stack.callback(patch_update_endpoint())  # the deploy step's second promotion on
        stack.callback(executor.close)  # (callbacks run last first) before the undo above
        if iam_managed_policies:
            iam_config["load_aws_managed_policies"] = True
            stack.callback(iam_config.__setitem__, "load_aws_managed_policies", iam_before)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        stack.callback(server.stop)
        bound = server.get_host_and_port()[1]
        executor.url = f"http://127.0.0.1:{bound}"
        yield BatchMotoServer(executor.url, bound, executor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rehearsal.moto_batch",
        description="A moto server whose AWS Batch jobs run locally in a venv (foreground).",
    )
    parser.add_argument("--venv", type=Path, required=True, help="the training venv (its bin/)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--max-parallel", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="jobs' working folders (default: temp)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("-v", "--verbose", action="store_true", help="echo the jobs' output")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    bin_dir = args.venv / "bin"
    if not (bin_dir / "python").exists():
        parser.error(f"{bin_dir}/python not found: --venv must be a Python venv")
    extra = dict(item.split("=", 1) for item in args.env if "=" in item)
    # Ctrl-C / SIGTERM only set a flag: an interrupt raised mid-setup or mid-print could
    # skip the server's shutdown and leave its thread keeping the process alive
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with batch_moto_server(
        bin_dir,
        args.max_parallel,
        extra,
        port=args.port,
        workdir=args.workdir,
        iam_managed_policies=True,
    ) as server:
        print(f"moto with local Batch jobs on {server.url} (Ctrl-C stops it)", flush=True)
        for key, value in server.aws_env().items():
            print(f"export {key}={value}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
