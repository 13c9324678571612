"""Deploy a champion bundle to its SageMaker endpoint, blue/green, with auto-rollback.

    packed = pack(bundle_dir, version="7")        model.tar.gz (deterministic) + sha256
    verify_tarball(packed.path, agent="profit")   the container would load it (or DeployError)
    record = deploy("profit", "7", bundle_dir, DeployConfig.from_env())
    current_deployment("profit", config)          what the endpoint serves now (or None)

`deploy` does, in order, and stops at the first problem:

1. pack the bundle as the champion-folder layout the serving container reads
   (`<agent>/<version>/` + `<agent>/CHAMPION`, rl_core/serving/sagemaker.py), so /invocations
   answers with the registry version; verify the tarball (extract, read_bundle, load and run
   the policy). Nothing is sent to AWS before this passes.
2. describe the endpoint `<prefix>-<agent>`: Creating/Updating/SystemUpdating/RollingBack/
   Deleting -> DeploymentInProgressError (nothing touched); the endpoint configuration we
   would create is already the one in service -> a no-op record (status "unchanged").
3. upload the tarball to `<model_artifacts_uri>/<agent>/v<version>-<sha12>/model.tar.gz`
   (SSE-KMS; skipped when the key is there already: the key names its content);
4. create the Model `<prefix>-<agent>-v<version>-<sha8>` (network isolation, VPC, tags
   forecourt:agent/version/sha256) and the EndpointConfig `<prefix>-<agent>-v<version>-<h8>`
   (h8: a hash of everything in it; KMS, data capture), each reused when it exists;
5. CreateEndpoint when there is none, else UpdateEndpoint with a blue/green DeploymentConfig
   (ALL_AT_ONCE or CANARY, termination wait, execution timeout) and
   AutoRollbackConfiguration on the agent's rollback alarms (terraform/modules/serving);
6. wait for InService (polling DescribeEndpoint, logging progress). Failed, or InService on
   the *old* configuration (SageMaker rolled back) -> DeployFailedError with the reason.

`prune(agent, config)` (called by rl_core.serving.release after a deploy) deletes the
agent's older Models and EndpointConfigs that `deploy` created, keeping the configuration
in service, the previous one (for a rollback) and their models.

The caller needs sagemaker:Describe*/CreateModel/CreateEndpointConfig/CreateEndpoint/
UpdateEndpoint/ListTags/AddTags (prune: ListModels/ListEndpointConfigs/DeleteModel/
DeleteEndpointConfig), iam:PassRole on the execution role, s3:PutObject/HeadObject
under model_artifacts_uri and kms:GenerateDataKey on the key. torch is imported only by
pack/verify (the training image has it; MWAA workers do not).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rl_core.serving.deploy_config import (
    AGENTS,
    DeployConfig,
    DeployConfigError,
    DeployError,
    DeployFailedError,
    DeploymentInProgressError,
    DeployRefusedError,
    DeployTimeoutError,
)

__all__ = [
    "DeployConfig",
    "DeployConfigError",
    "DeployError",
    "DeployFailedError",
    "DeployRecord",
    "DeployRefusedError",
    "Deployment",
    "DeploymentInProgressError",
    "DeployTimeoutError",
    "PackedModel",
    "PruneRecord",
    "VerifiedModel",
    "current_deployment",
    "deploy",
    "deployment_config",
    "model_name",
    "pack",
    "planned_names",
    "prune",
    "verify_tarball",
]

log = logging.getLogger(__name__)

BUSY_STATUSES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
FAILED_STATUSES = ("Failed", "UpdateRollbackFailed", "OutOfService")
TAG_AGENT = "forecourt:agent"
TAG_VERSION = "forecourt:version"
TAG_SHA256 = "forecourt:sha256"
KEEP_DEPLOYMENTS = 2  # prune: the endpoint configuration in service + the previous one
_VERSION = re.compile(r"^[A-Za-z0-9]{1,12}$")
_FIXED_MTIME = 0  # 1970-01-01: the tarball's bytes depend on the bundle's bytes only


# ---- the tarball ------------------------------------------------------------------------


class PackedModel(NamedTuple):
    path: Path
    sha256: str
    size: int


class VerifiedModel(NamedTuple):
    agent: str
    version: str
    n_prices: int


def _members(bundle_dir: Path, prefix: str) -> list[tuple[str, Path | None]]:
    """(archive name, file or None for a folder), sorted; refuses links and odd files."""
    out: list[tuple[str, Path | None]] = []
    parts = [p for p in prefix.split("/") if p]
    for i in range(len(parts)):
        out.append(("/".join(parts[: i + 1]), None))
    for path in sorted(bundle_dir.rglob("*")):
        rel = path.relative_to(bundle_dir).as_posix()
        name = f"{prefix}{rel}" if prefix else rel
        if path.is_symlink():
            raise DeployError(f"{path} is a symbolic link: a bundle holds plain files only")
        if path.is_dir():
            out.append((name, None))
        elif path.is_file():
            out.append((name, path))
        else:
            raise DeployError(f"{path} is not a plain file")
    return sorted(out)


def _tarinfo(name: str, size: int | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = _FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if size is None:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.size = size
        info.mode = 0o644
    return info


def pack(
    bundle_dir: str | os.PathLike,
    dest: str | os.PathLike | None = None,
    *,
    version: str | None = None,
) -> PackedModel:
    """Write `bundle_dir` as a model.tar.gz for SageMaker; the same bundle gives the same bytes.

    version None: the bundle's files at the archive's root (the container's one-bundle
    layout). With a version: `<agent>/<version>/<files>` plus `<agent>/CHAMPION` naming it
    (the champion-folder layout: the endpoint then answers with that version). Sorted
    members, mtime 0, uid/gid 0, no user names, a gzip header without name or time.
    `dest` defaults to model.tar.gz in a new temporary folder (the caller removes it).
    """
    from rl_core.serving.sources import CHAMPION_FILE
    from rl_core.training.bundle import BundleError, read_bundle

    src = Path(bundle_dir)
    try:
        bundle = read_bundle(src)
    except BundleError as exc:
        raise DeployError(f"cannot pack {src}: {exc}") from exc
    extra: list[tuple[str, bytes]] = []
    prefix = ""
    if version is not None:
        _check_version(version)
        prefix = f"{bundle.agent}/{version}/"
        extra.append((f"{bundle.agent}/{CHAMPION_FILE}", f"{version}\n".encode()))
    members = _members(src, prefix)
    out = Path(dest) if dest is not None else Path(tempfile.mkdtemp(prefix="forecourt-pack-"))
    if dest is None:
        out = out / "model.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    entries: list[tuple[str, Path | bytes | None]] = [*members, *extra]
    entries.sort(key=lambda e: e[0])
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=_FIXED_MTIME) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for name, content in entries:
            if content is None:
                tar.addfile(_tarinfo(name, None))
            elif isinstance(content, bytes):
                tar.addfile(_tarinfo(name, len(content)), io.BytesIO(content))
            else:
                with open(content, "rb") as fh:
                    tar.addfile(_tarinfo(name, content.stat().st_size), fh)
    os.replace(tmp, out)
    return PackedModel(out, _sha256(out), out.stat().st_size)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_tarball(
    path: str | os.PathLike, *, agent: str | None = None, version: str | None = None
) -> VerifiedModel:
    """Refuse a tarball the serving container could not serve: corrupt or truncated,
    unsafe member paths, no bundle, the wrong agent or version, a policy that does not load
    or does not answer an observation with one Q-value per price. Reads it exactly as the
    container does (rl_core.serving.sagemaker.source_for) after extracting to a temp folder."""
    import torch

    from rl_core.errors import ForecourtError
    from rl_core.serving.sagemaker import source_for

    tarball = Path(path)
    if not tarball.is_file():
        raise DeployError(f"{tarball} does not exist")
    with tempfile.TemporaryDirectory(prefix="forecourt-verify-") as tmp:
        try:
            with tarfile.open(tarball, mode="r:gz") as tar:
                tar.extractall(tmp, filter="data")  # refuses absolute paths, links out, ..
        except tarfile.FilterError as exc:
            raise DeployError(f"{tarball} has an unsafe member (refused): {exc}") from exc
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise DeployError(
                f"{tarball} is not a readable model.tar.gz (corrupt or truncated?): {exc}"
            ) from exc
        try:
            source, served = source_for(tmp, [agent] if agent else ())
            if len(served) != 1:
                raise DeployError(f"{tarball} holds {len(served)} agents; one is deployed")
            loaded = source.load(served[0])
            if loaded is None:
                held = sorted(p.name for p in Path(tmp).iterdir())
                raise DeployError(f"{tarball} has no champion for {served[0]} (it holds {held})")
            bundle, found_version = loaded
            if agent and bundle.agent != agent:
                raise DeployError(f"{tarball} holds a {bundle.agent!r} bundle, not {agent!r}")
            if version is not None and found_version != version:
                raise DeployError(f"{tarball} holds version {found_version}, not {version}")
            policy = bundle.load_policy()
            with torch.no_grad():
                q = policy(torch.zeros((1, len(bundle.features)), dtype=torch.float32))
            n_prices = bundle.market.n_prices
            if tuple(q.shape) != (1, n_prices):
                raise DeployError(
                    f"{tarball}: the policy answers {tuple(q.shape)}, expected (1, {n_prices})"
                )
        except DeployError:
            raise
        except ForecourtError as exc:
            raise DeployError(f"{tarball} holds no servable bundle: {exc}") from exc
        except Exception as exc:  # torch.export load errors have no common base class
            raise DeployError(f"{tarball}: the policy does not load or run: {exc}") from exc
    return VerifiedModel(bundle.agent, found_version, n_prices)


# ---- names --------------------------------------------------------------------------------


def _check_version(version: str) -> str:
    if not isinstance(version, str) or not _VERSION.match(version):
        raise DeployError(
            f"version {version!r} must be 1-12 letters or digits (an MLflow model version)"
        )
    return version


def _check_agent(agent: str) -> str:
    if agent not in AGENTS:
        raise DeployError(f"unknown agent {agent!r} (known: {', '.join(AGENTS)})")
    return agent


def model_name(config: DeployConfig, agent: str, version: str, sha256: str) -> str:
    return f"{config.endpoint_prefix}-{agent}-v{version}-{sha256[:8]}"


def model_data_url(config: DeployConfig, agent: str, version: str, sha256: str) -> str:
    base = config.model_artifacts_uri.rstrip("/")
    return f"{base}/{agent}/v{version}-{sha256[:12]}/model.tar.gz"


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _tags(config: DeployConfig, extra: dict[str, str]) -> list[dict[str, str]]:
    merged = {**config.tags, **extra}
    return [{"Key": k, "Value": v} for k, v in sorted(merged.items())]


def _model_request(config: DeployConfig, agent: str, version: str, sha256: str) -> dict:
    name = model_name(config, agent, version, sha256)
    return {
        "ModelName": name,
        "ExecutionRoleArn": config.execution_role_arn,
        "EnableNetworkIsolation": True,
        "PrimaryContainer": {
            "Image": config.image_uri,
            "ModelDataUrl": model_data_url(config, agent, version, sha256),
            "Mode": "SingleModel",
            "Environment": {
                **config.container_environment,
                "FORECOURT_AGENT": agent,
                "FORECOURT_SERVING_SOURCE": "/opt/ml/model",
            },
        },
        "VpcConfig": {
            "Subnets": list(config.subnet_ids),
            "SecurityGroupIds": list(config.security_group_ids),
        },
        "Tags": _tags(
            config,
            {
                "Name": name,
                "Agent": agent,
                TAG_AGENT: agent,
                TAG_VERSION: version,
                TAG_SHA256: sha256,
            },
        ),
    }


def _endpoint_config_request(config: DeployConfig, agent: str, version: str, model: str) -> dict:
    variant = {
        "VariantName": config.variant_name,
        "ModelName": model,
        "InstanceType": config.instance_type,
        "InitialInstanceCount": config.instance_count,
        "InitialVariantWeight": 1.0,
        "ContainerStartupHealthCheckTimeoutInSeconds": (
            config.container_startup_health_check_timeout_seconds
        ),
    }
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": config.data_capture_sampling_percentage,
        "DestinationS3Uri": config.data_capture_uri,
        "KmsKeyId": config.kms_key_arn,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
    }
    body: dict[str, Any] = {"ProductionVariants": [variant], "DataCaptureConfig": capture}
    if config.endpoint_volume_kms_key:
        body["KmsKeyId"] = config.endpoint_volume_kms_key
    digest = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:8]
    name = f"{config.endpoint_prefix}-{agent}-v{version}-{digest}"
    tags = _tags(config, {"Name": name, "Agent": agent, TAG_AGENT: agent, TAG_VERSION: version})
    return {"EndpointConfigName": name, **body, "Tags": tags}


def planned_names(config: DeployConfig, agent: str, version: str, sha256: str) -> dict[str, str]:
    """The names `deploy` gives a tarball's resources: endpoint, model, endpoint_config,
    model_data_url (all deterministic: the same bundle and settings give the same names)."""
    model = model_name(config, agent, version, sha256)
    return {
        "endpoint": config.endpoint_name(agent),
        "model": model,
        "endpoint_config": _endpoint_config_request(config, agent, version, model)[
            "EndpointConfigName"
        ],
        "model_data_url": model_data_url(config, agent, version, sha256),
    }


def deployment_config(config: DeployConfig, agent: str) -> dict:
    """UpdateEndpoint's DeploymentConfig: blue/green, and rollback on the agent's alarms."""
    routing: dict[str, Any] = {
        "Type": config.traffic_routing,
        "WaitIntervalInSeconds": config.wait_interval_seconds,
    }
    if config.traffic_routing == "CANARY":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": config.canary_percent}
    out: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": config.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": config.maximum_execution_timeout_seconds,
        }
    }
    alarms = config.alarms_for(agent)
    if alarms:
        out["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return out


# ---- reading what is deployed -------------------------------------------------------------


def _code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _not_found(exc: Exception) -> bool:
    """SageMaker's answer for a missing endpoint/config/model: ValidationException 'Could not
    find ...'."""
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return _code(exc) in ("ValidationException", "ResourceNotFound") and (
        "could not find" in message.lower() or "not found" in message.lower()
    )


def _describe(call: Callable[..., dict], **kwargs) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as exc:
        if _not_found(exc):
            return None
        raise


@dataclass(frozen=True)
class Deployment:
    """What an endpoint serves now. version/sha256 are None when its model is not one of
    ours (no forecourt tags and a foreign name) or was deleted."""

    agent: str
    endpoint: str
    status: str
    endpoint_config: str
    model: str | None
    version: str | None
    sha256: str | None
    model_data_url: str | None
    failure_reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def current_deployment(agent: str, config: DeployConfig, client: Any = None) -> Deployment | None:
    """The version `<prefix>-<agent>` serves (None when there is no endpoint): from the
    model's tags, else from its name `<prefix>-<agent>-v<version>-<sha8>`."""
    _check_agent(agent)
    sm = client or _client("sagemaker", config)
    endpoint = config.endpoint_name(agent)
    described = _describe(sm.describe_endpoint, EndpointName=endpoint)
    if described is None:
        return None
    return _deployment_of(sm, agent, config, described)


def _deployment_of(sm: Any, agent: str, config: DeployConfig, described: dict) -> Deployment:
    endpoint_config = described.get("EndpointConfigName", "")
    model = version = sha = url = None
    ec = _describe(sm.describe_endpoint_config, EndpointConfigName=endpoint_config)
    if ec and ec.get("ProductionVariants"):
        model = ec["ProductionVariants"][0].get("ModelName")
    if model:
        m = _describe(sm.describe_model, ModelName=model)
        if m is not None:
            url = (m.get("PrimaryContainer") or {}).get("ModelDataUrl")
            tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=m["ModelArn"])["Tags"]}
            version, sha = tags.get(TAG_VERSION), tags.get(TAG_SHA256)
        if version is None:
            pattern = (
                rf"^{re.escape(config.endpoint_prefix)}-{agent}-v([A-Za-z0-9]+)-[0-9a-f]{{8}}$"
            )
            found = re.match(pattern, model)
            version = found.group(1) if found else None
    return Deployment(
        agent=agent,
        endpoint=described["EndpointName"],
        status=described["EndpointStatus"],
        endpoint_config=endpoint_config,
        model=model,
        version=version,
        sha256=sha,
        model_data_url=url,
        failure_reason=described.get("FailureReason"),
    )


# ---- deploying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployRecord:
    """What `deploy` did. status: created | updated | unchanged | submitted (wait=False)."""

    agent: str
    version: str
    endpoint: str
    model: str
    endpoint_config: str
    model_data_url: str
    sha256: str
    previous_endpoint_config: str | None
    previous_version: str | None
    status: str
    endpoint_status: str
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def _client(service: str, config: DeployConfig):
    import boto3

    return boto3.client(service, region_name=config.region)


def _upload(s3: Any, packed: PackedModel, url: str, config: DeployConfig) -> None:
    from botocore.exceptions import ClientError

    bucket, key = _split_s3(url)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        # S3 answers 403, not 404, for a missing key when the caller may not list the
        # bucket (the job role lists only its own prefixes): upload, it is idempotent
        if _code(exc) not in ("403", "AccessDenied", "404", "NoSuchKey", "NotFound"):
            raise
        head = None
    if head is not None and head.get("Metadata", {}).get("sha256") == packed.sha256:
        log.info("%s is there already (same sha256): not uploaded again", url)
        return
    s3.upload_file(
        str(packed.path),
        bucket,
        key,
        ExtraArgs={
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": config.kms_key_arn,
            "Metadata": {"sha256": packed.sha256},
            "ContentType": "application/gzip",
        },
    )
    log.info("uploaded %s (%d bytes, sha256 %s)", url, packed.size, packed.sha256[:12])


def _ensure(describe: Callable[..., dict], create: Callable[..., dict], key: str, req: dict):
    if _describe(describe, **{key: req[key]}) is not None:
        log.info("%s exists already: reused", req[key])
        return
    create(**req)
    log.info("created %s", req[key])


def _wait(
    sm: Any,
    endpoint: str,
    target_config: str,
    *,
    poll_s: float,
    timeout_s: float,
    sleep: Callable[[float], None],
) -> dict:
    """Poll until InService on `target_config`; DeployFailedError on Failed or rollback."""
    start = time.monotonic()
    last_status = None
    settled_polls = 0  # InService on the old config before any transition was seen
    while True:
        d = sm.describe_endpoint(EndpointName=endpoint)
        status, serving = d["EndpointStatus"], d.get("EndpointConfigName")
        elapsed = time.monotonic() - start
        if status != last_status:
            log.info("%s: %s on %s (%.0f s)", endpoint, status, serving, elapsed)
        else:
            log.debug("%s: still %s (%.0f s)", endpoint, status, elapsed)
        if status == "InService":
            if serving == target_config:
                return d
            reason = d.get("FailureReason")
            seen_transition = last_status not in (None, "InService")
            if reason or seen_transition or settled_polls >= 2:
                raise DeployFailedError(
                    endpoint,
                    reason or f"SageMaker rolled back to {serving} (no failure reason given)",
                    status=status,
                    rolled_back=True,
                )
            settled_polls += 1  # the update may not show yet: look again
        elif status in FAILED_STATUSES:
            raise DeployFailedError(
                endpoint, d.get("FailureReason") or "no failure reason given", status=status
            )
        last_status = status
        if elapsed >= timeout_s:
            raise DeployTimeoutError(
                f"{endpoint} is still {status} after {elapsed:.0f} s (limit {timeout_s:.0f} s): "
                "SageMaker goes on; check the endpoint, then call deploy again "
                "(it is a no-op once the endpoint serves this version)"
            )
        sleep(poll_s)


def deploy(
    agent: str,
    version: str | int,
    bundle_dir: str | os.PathLike,
    config: DeployConfig,
    *,
    client: Any = None,
    s3: Any = None,
    wait: bool = True,
    poll_s: float = 30.0,
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployRecord:
    """Put `bundle_dir` (version `version` of `agent`) into service on `<prefix>-<agent>`.

    Raises DeployRefusedError (bad bundle or tarball: before any AWS call),
    DeploymentInProgressError (the endpoint is changing: nothing touched),
    DeployFailedError (Failed, or SageMaker rolled the update back: `.reason`),
    DeployTimeoutError (not InService within `timeout_s`; default: the configuration's
    maximum_execution_timeout_seconds + 15 min). botocore's ClientError passes through.
    """
    if not isinstance(config, DeployConfig):
        raise DeployConfigError("deploy needs a DeployConfig (DeployConfig.from_env())")
    _check_agent(agent)
    version = _check_version(str(version))
    started = time.monotonic()
    endpoint = config.endpoint_name(agent)
    workdir = Path(tempfile.mkdtemp(prefix="forecourt-deploy-"))
    try:
        try:
            _check_bundle_agent(bundle_dir, agent)
            packed = pack(bundle_dir, workdir / "model.tar.gz", version=version)
            verify_tarball(packed.path, agent=agent, version=version)
        except DeployError as exc:  # a distinct type: callers treat it like a failed deploy
            raise DeployRefusedError(str(exc)) from exc
        log.info("%s v%s packed and verified: sha256 %s", agent, version, packed.sha256[:12])

        sm = client or _client("sagemaker", config)
        model_req = _model_request(config, agent, version, packed.sha256)
        ec_req = _endpoint_config_request(config, agent, version, model_req["ModelName"])
        url = model_req["PrimaryContainer"]["ModelDataUrl"]

        def record(status: str, endpoint_status: str, previous: Deployment | None) -> DeployRecord:
            return DeployRecord(
                agent=agent,
                version=version,
                endpoint=endpoint,
                model=model_req["ModelName"],
                endpoint_config=ec_req["EndpointConfigName"],
                model_data_url=url,
                sha256=packed.sha256,
                previous_endpoint_config=previous.endpoint_config if previous else None,
                previous_version=previous.version if previous else None,
                status=status,
                endpoint_status=endpoint_status,
                seconds=round(time.monotonic() - started, 3),
            )

        described = _describe(sm.describe_endpoint, EndpointName=endpoint)
        previous = None
        if described is not None:
            status = described["EndpointStatus"]
            if status in BUSY_STATUSES:
                raise DeploymentInProgressError(endpoint, status)
            previous = _deployment_of(sm, agent, config, described)
            if status == "InService" and previous.endpoint_config == ec_req["EndpointConfigName"]:
                log.info("%s serves %s v%s already: nothing to do", endpoint, agent, version)
                return record("unchanged", status, previous)
            if status != "InService":
                why = described.get("FailureReason") or "no reason given"
                raise DeployError(
                    f"endpoint {endpoint} is {status} ({why}): "
                    f"SageMaker cannot update it; delete it (aws sagemaker delete-endpoint "
                    f"--endpoint-name {endpoint}) and deploy again to create it afresh"
                )

        _upload(s3 or _client("s3", config), packed, url, config)
        _ensure(sm.describe_model, sm.create_model, "ModelName", model_req)
        _ensure(
            sm.describe_endpoint_config,
            sm.create_endpoint_config,
            "EndpointConfigName",
            ec_req,
        )
        target = ec_req["EndpointConfigName"]
        if previous is None:
            sm.create_endpoint(
                EndpointName=endpoint,
                EndpointConfigName=target,
                Tags=_tags(config, {"Name": endpoint, "Agent": agent, TAG_AGENT: agent}),
            )
            action = "created"
            log.info("creating %s on %s", endpoint, target)
        else:
            _update(sm, endpoint, target, deployment_config(config, agent))
            action = "updated"
            log.info(
                "updating %s: %s -> %s (blue/green %s, rollback alarms: %s)",
                endpoint,
                previous.endpoint_config,
                target,
                config.traffic_routing,
                ", ".join(config.alarms_for(agent)) or "none",
            )
        if not wait:
            d = sm.describe_endpoint(EndpointName=endpoint)
            return record("submitted", d["EndpointStatus"], previous)
        limit = (
            timeout_s if timeout_s is not None else config.maximum_execution_timeout_seconds + 900
        )
        final = _wait(
            sm,
            endpoint,
            target,
            poll_s=poll_s,
            timeout_s=limit,
            sleep=sleep,
        )
        done = record(action, final["EndpointStatus"], previous)
        log.info("%s serves %s v%s (%s in %.0f s)", endpoint, agent, version, action, done.seconds)
        return done
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _check_bundle_agent(bundle_dir: str | os.PathLike, agent: str) -> None:
    from rl_core.training.bundle import BundleError, read_bundle

    try:
        found = read_bundle(bundle_dir).agent
    except BundleError as exc:
        raise DeployError(f"cannot deploy {bundle_dir}: {exc}") from exc
    if found != agent:
        raise DeployError(
            f"{bundle_dir} holds a {found!r} bundle: it cannot be deployed as {agent!r}"
        )


def _update(sm: Any, endpoint: str, target: str, deployment: dict) -> None:
    from botocore.exceptions import ClientError

    try:
        sm.update_endpoint(
            EndpointName=endpoint, EndpointConfigName=target, DeploymentConfig=deployment
        )
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message", ""))
        # lost a race with another deployment: SageMaker refuses updates while one runs
        if _code(exc) == "ValidationException" and re.search(
            r"\b(Updating|Creating|RollingBack|SystemUpdating)\b", message
        ):
            try:
                status = sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
            except Exception:
                status = "busy"
            raise DeploymentInProgressError(endpoint, status) from exc
        raise


# ---- housekeeping -------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneRecord:
    """What `prune` kept and deleted; `skipped` says why it deleted nothing, when it did not."""

    agent: str
    kept_endpoint_configs: tuple[str, ...] = ()
    kept_models: tuple[str, ...] = ()
    deleted_endpoint_configs: tuple[str, ...] = ()
    deleted_models: tuple[str, ...] = ()
    skipped: str | None = None

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _listed(call: Callable[..., dict], key: str, **kwargs) -> list[dict]:
    out: list[dict] = []
    while True:
        page = call(**kwargs)
        out += page.get(key, [])
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def _ours(sm: Any, config: DeployConfig, agent: str, items: list[dict], kind: str) -> list[dict]:
    """The `kind` (Model / EndpointConfig) items that `deploy` created for `agent`: its name
    pattern *and* its forecourt:agent tag (a look-alike made by hand is left alone)."""
    pattern = re.compile(
        rf"^{re.escape(config.endpoint_prefix)}-{agent}-v[A-Za-z0-9]{{1,12}}-[0-9a-f]{{8}}$"
    )
    found = []
    for item in items:
        if not pattern.match(item[f"{kind}Name"]):
            continue
        tags = sm.list_tags(ResourceArn=item[f"{kind}Arn"]).get("Tags", [])
        if {t["Key"]: t["Value"] for t in tags}.get(TAG_AGENT) == agent:
            found.append(item)
    return sorted(found, key=lambda i: i["CreationTime"], reverse=True)  # newest first


def _delete(call: Callable[..., dict], **kwargs) -> bool:
    """Delete; False when it is gone already (a concurrent prune)."""
    from botocore.exceptions import ClientError

    try:
        call(**kwargs)
    except ClientError as exc:
        if _not_found(exc):
            return False
        raise
    return True


def prune(
    agent: str,
    config: DeployConfig,
    *,
    keep: int = KEEP_DEPLOYMENTS,
    protect: tuple[str, ...] = (),
    client: Any = None,
) -> PruneRecord:
    """Delete `agent`'s old endpoint configurations and models that `deploy` created.

    Kept: the configuration the endpoint uses now, those named in `protect` (the previous
    one of the deploy just done), then the newest others up to `keep` configurations in all,
    and every model a kept configuration uses. Deletes nothing unless the endpoint exists
    and is InService (a deployment in progress may still need what looks old).
    """
    _check_agent(agent)
    if keep < 1:
        raise DeployError(f"prune keeps at least the configuration in service (keep={keep})")
    sm = client or _client("sagemaker", config)
    endpoint = config.endpoint_name(agent)
    described = _describe(sm.describe_endpoint, EndpointName=endpoint)
    if described is None or described["EndpointStatus"] != "InService":
        why = (
            "no endpoint" if described is None else f"the endpoint is {described['EndpointStatus']}"
        )
        log.info("%s: nothing pruned (%s)", endpoint, why)
        return PruneRecord(agent, skipped=why)
    prefix = f"{config.endpoint_prefix}-{agent}-v"
    configs = _ours(
        sm,
        config,
        agent,
        _listed(sm.list_endpoint_configs, "EndpointConfigs", NameContains=prefix),
        "EndpointConfig",
    )
    kept = list(dict.fromkeys([described["EndpointConfigName"], *(p for p in protect if p)]))
    for item in configs:
        if len(kept) >= keep:
            break
        if item["EndpointConfigName"] not in kept:
            kept.append(item["EndpointConfigName"])
    kept_models = set()
    for name in kept:
        ec = _describe(sm.describe_endpoint_config, EndpointConfigName=name) or {}
        kept_models |= {v["ModelName"] for v in ec.get("ProductionVariants", [])}
    deleted_configs = [
        c["EndpointConfigName"]
        for c in configs
        if c["EndpointConfigName"] not in kept
        and _delete(sm.delete_endpoint_config, EndpointConfigName=c["EndpointConfigName"])
    ]
    models = _ours(
        sm, config, agent, _listed(sm.list_models, "Models", NameContains=prefix), "Model"
    )
    deleted_models = [
        m["ModelName"]
        for m in models
        if m["ModelName"] not in kept_models and _delete(sm.delete_model, ModelName=m["ModelName"])
    ]
    if deleted_configs or deleted_models:
        log.info(
            "%s: pruned %d endpoint configuration(s) and %d model(s); kept %s",
            endpoint,
            len(deleted_configs),
            len(deleted_models),
            ", ".join(kept),
        )
    return PruneRecord(
        agent,
        kept_endpoint_configs=tuple(kept),
        kept_models=tuple(sorted(kept_models)),
        deleted_endpoint_configs=tuple(deleted_configs),
        deleted_models=tuple(deleted_models),
    )
