"""Deploying a champion to SageMaker (rl_core.serving.deploy): pack, verify, create/update.

Real bundles (a tiny profit agent, trained once for the module), real tarballs, moto
(`mock_aws`, in process) for every AWS call moto implements, botocore's Stubber exactly
where it does not:

    call / behaviour                                   served by
    -------------------------------------------------  ---------------------------------------
    S3 HeadObject, PutObject (upload_file, SSE-KMS)   moto
    SageMaker CreateModel, DescribeModel, ListTags     moto (moto drops EnableNetworkIsolation:
                                                       the request is asserted instead)
    CreateEndpointConfig, DescribeEndpointConfig       moto
    CreateEndpoint, DescribeEndpoint (InService)       moto (its endpoints are InService at once)
    UpdateEndpoint (blue/green DeploymentConfig,       Stubber: moto has no UpdateEndpoint
      AutoRollbackConfiguration)                       (NotImplementedError)
    DescribeEndpoint after an update, Creating/        Stubber: moto never leaves InService,
      Updating/SystemUpdating/RollingBack, Failed,     has no FailureReason and no rollback
      InService-on-the-old-config (rolled back)
    "no call at all" (corrupt tarball)                 Stubber with nothing queued

`Split` routes the named operations of one SageMaker client to a Stubber and the rest to
moto, so an update test still creates its model and configuration in moto and reads them
back there. What only a real account proves (instances starting, the real /ping health
check, alarm-driven rollback and its timing): docs/serving.md.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import tarfile
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from rl_core.agents.dqn import DQNConfig
from rl_core.market.model import Market
from rl_core.serving import deploy as deploy_mod
from rl_core.serving.deploy import (
    DeployConfig,
    DeployConfigError,
    DeployError,
    DeployFailedError,
    DeploymentInProgressError,
    DeployTimeoutError,
    current_deployment,
    deploy,
    deployment_config,
    pack,
    planned_names,
    prune,
    verify_tarball,
)
from rl_core.training.bundle import write_bundle
from rl_core.training.train import train

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "forecourt-dev-artifacts"
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
ALARMS = {
    "profit": ["forecourt-dev-profit-rollback-5xx", "forecourt-dev-profit-rollback-latency"],
    "demand": ["forecourt-dev-demand-rollback-5xx"],
}
CONFIG = {
    "endpoint_prefix": "forecourt-dev",
    "execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/forecourt-dev-sagemaker-execution",
    "image_uri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/forecourt-dev/serving:1.2.3",
    "model_artifacts_uri": f"s3://{BUCKET}/models/serving",
    "instance_type": "ml.m5.xlarge",
    "instance_count": 1,
    "subnet_ids": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"],
    "security_group_ids": ["sg-0a1b2c3d"],
    "kms_key_arn": KMS,
    "data_capture_uri": f"s3://{BUCKET}/data-capture",
    "rollback_alarm_names": ALARMS,
    "region": REGION,
}
ENDPOINT = "forecourt-dev-profit"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"


# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Two real profit bundles (v1, v2: same policy, different bundle.json) and a demand one."""
    root = tmp_path_factory.mktemp("bundles")
    cfg = DQNConfig(total_env_steps=2000, seed=1)
    profit = train(Market(), "profit", cfg)
    demand = train(Market(), "demand", cfg)
    out = {
        "v1": write_bundle(profit, Market(), root / "v1").path,
        "v2": write_bundle(profit, Market(), root / "v2").path,
        "demand": write_bundle(demand, Market(), root / "demand").path,
    }
    meta = json.loads((out["v2"] / "bundle.json").read_text())
    meta["created_at"] = "2000-01-01T00:00:00+00:00"  # make sure v2's bytes differ from v1's
    (out["v2"] / "bundle.json").write_text(json.dumps(meta, indent=2))
    return out


@pytest.fixture
def config():
    return DeployConfig.from_dict(CONFIG)


@pytest.fixture
def aws(monkeypatch):
    """moto in process: a fresh account with the artifacts bucket."""
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        sm = boto3.client("sagemaker", region_name=REGION)
        requests: list[tuple[str, dict]] = []

        def capture(params, model, **kwargs):
            requests.append((model.name, json.loads(json.dumps(params, default=str))))

        sm.meta.events.register("before-parameter-build.sagemaker", capture)
        yield {"s3": s3, "sm": sm, "requests": requests}


class Split:
    """One SageMaker client: `stubbed` operations answered by a Stubber, the rest by moto."""

    def __init__(self, moto_client, stubbed: set[str]):
        self._moto = moto_client
        self._stub_client = boto3.client("sagemaker", region_name=REGION)
        self.stubber = Stubber(self._stub_client)
        self.stubber.activate()
        self._stubbed = stubbed

    def __getattr__(self, name):
        return getattr(self._stub_client if name in self._stubbed else self._moto, name)


def described(status: str, config_name: str, reason: str | None = None) -> dict:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    out = {
        "EndpointName": ENDPOINT,
        "EndpointArn": ENDPOINT_ARN,
        "EndpointConfigName": config_name,
        "EndpointStatus": status,
        "CreationTime": now,
        "LastModifiedTime": now,
    }
    if reason:
        out["FailureReason"] = reason
    return out


def names(bundle, version: str, config: DeployConfig, tmp_path) -> dict[str, str]:
    """What deploy will name things: pack is deterministic, so the test can pack too."""
    packed = pack(bundle, tmp_path / f"names-{version}.tar.gz", version=version)
    return planned_names(config, "profit", version, packed.sha256)


def quiet(_seconds: float) -> None:
    pass


def first_deploy(aws, bundles, config):
    return deploy("profit", "1", bundles["v1"], config, client=aws["sm"], s3=aws["s3"], poll_s=0)


# ---- configuration ------------------------------------------------------------------------


def test_config_from_env_none_when_unset_and_parsed_when_set():
    assert DeployConfig.from_env({}) is None
    assert DeployConfig.from_env({"FORECOURT_SAGEMAKER": "  "}) is None
    cfg = DeployConfig.from_env({"FORECOURT_SAGEMAKER": json.dumps(CONFIG)})
    assert cfg.endpoint_name("profit") == ENDPOINT
    assert cfg.subnet_ids == ("subnet-0a1b2c3d", "subnet-0e1f2a3b")
    assert cfg.alarms_for("profit") == tuple(ALARMS["profit"])
    assert cfg.traffic_routing == "ALL_AT_ONCE" and cfg.variant_name == "champion"
    assert DeployConfig.from_dict(json.loads(cfg.to_json())) == cfg  # round trip
    # the endpoint volume key: on EBS types, never on NVMe types (SageMaker refuses it)
    assert cfg.endpoint_volume_kms_key == KMS
    nvme = DeployConfig.from_dict({**CONFIG, "instance_type": "ml.g4dn.xlarge"})
    assert nvme.endpoint_volume_kms_key is None
    forced = {**CONFIG, "instance_type": "ml.g4dn.xlarge", "instance_has_local_storage": False}
    assert DeployConfig.from_dict(forced).endpoint_volume_kms_key == KMS


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"image_uri": None}, "missing image_uri"),
        ({"region": ""}, "missing region"),
        ({"subnet_ids": []}, "missing subnet_ids"),
        ({"execution_role_arn": "forecourt-role"}, "execution_role_arn is invalid"),
        ({"image_uri": CONFIG["image_uri"].replace("1.2.3", "latest")}, "image_uri is invalid"),
        ({"model_artifacts_uri": "/tmp/models"}, "model_artifacts_uri is invalid"),
        ({"instance_count": 0}, "instance_count is invalid"),
        ({"instance_count": "2"}, "instance_count is invalid"),
        ({"security_group_ids": ["default"]}, "security_group_ids is invalid"),
        ({"rollback_alarm_names": {"price": ["a"]}}, "unknown agent 'price'"),
        ({"rollback_alarm_names": {"profit": [f"a{i}" for i in range(11)]}}, "at most 10"),
        ({"traffic_routing": "LINEAR"}, "traffic_routing is invalid"),
        ({"maximum_execution_timeout_seconds": 60}, "maximum_execution_timeout_seconds"),
        ({"endpont_prefix": "x"}, "unknown field(s) endpont_prefix"),
    ],
)
def test_config_errors_name_the_field(change, message):
    data = {**CONFIG, **change}
    with pytest.raises(DeployConfigError, match="FORECOURT_SAGEMAKER") as err:
        DeployConfig.from_env({"FORECOURT_SAGEMAKER": json.dumps(data)})
    assert message in str(err.value)


def test_config_refuses_bad_json():
    with pytest.raises(DeployConfigError, match="not valid JSON"):
        DeployConfig.from_env({"FORECOURT_SAGEMAKER": "{endpoint_prefix: x"})
    with pytest.raises(DeployConfigError, match="must be a JSON object"):
        DeployConfig.from_env({"FORECOURT_SAGEMAKER": "[1, 2]"})


# ---- pack and verify ----------------------------------------------------------------------


def test_pack_is_deterministic_and_uses_the_champion_layout(bundles, tmp_path):
    a = pack(bundles["v1"], tmp_path / "a.tar.gz", version="7")
    for f in bundles["v1"].iterdir():  # touching the files changes nothing
        os.utime(f, (1_900_000_000, 1_900_000_000))
    b = pack(bundles["v1"], tmp_path / "b.tar.gz", version="7")
    assert a.sha256 == b.sha256 and a.path.read_bytes() == b.path.read_bytes()
    assert pack(bundles["v1"], tmp_path / "c.tar.gz", version="8").sha256 != a.sha256
    assert pack(bundles["v2"], tmp_path / "d.tar.gz", version="7").sha256 != a.sha256

    with tarfile.open(a.path) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert [m.name for m in members] == [
            "profit", "profit/7", "profit/7/bundle.json", "profit/7/policy.pt2", "profit/CHAMPION",
        ]  # fmt: skip
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
        assert tar.extractfile("profit/CHAMPION").read() == b"7\n"
    with gzip.open(a.path) as gz:
        gz.read(1)
    assert a.path.read_bytes()[4:8] == b"\0\0\0\0"  # gzip header: no timestamp

    root = pack(bundles["v1"], tmp_path / "root.tar.gz")  # one-bundle layout
    with tarfile.open(root.path) as tar:
        assert tar.getnames() == ["bundle.json", "policy.pt2"]
    assert verify_tarball(a.path, agent="profit", version="7").version == "7"
    assert verify_tarball(root.path).version.startswith("sha256-")


def _tarball(path, files: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_verify_refuses_corrupt_truncated_empty_and_wrong_tarballs(bundles, tmp_path):
    good = pack(bundles["v1"], tmp_path / "good.tar.gz", version="3")
    assert verify_tarball(good.path, agent="profit", version="3").n_prices == Market().n_prices

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.path.read_bytes()[: good.size // 2])
    with pytest.raises(DeployError, match="corrupt or truncated"):
        verify_tarball(truncated)
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not a tarball at all")
    with pytest.raises(DeployError, match="corrupt or truncated"):
        verify_tarball(garbage)
    with pytest.raises(DeployError, match="holds no model"):
        verify_tarball(_tarball(tmp_path / "empty.tar.gz", {"README": b"hello"}))
    broken = _tarball(
        tmp_path / "broken.tar.gz",
        {
            "bundle.json": (bundles["v1"] / "bundle.json").read_bytes(),
            "policy.pt2": b"not a torch.export program",
        },
    )
    with pytest.raises(DeployError, match="does not load or run"):
        verify_tarball(broken)
    with pytest.raises(DeployError, match="unsafe member"):
        verify_tarball(_tarball(tmp_path / "escape.tar.gz", {"../evil": b"x"}))
    with pytest.raises(DeployError, match="not 9|version 3"):
        verify_tarball(good.path, agent="profit", version="9")
    demand = pack(bundles["demand"], tmp_path / "demand.tar.gz", version="3")
    with pytest.raises(DeployError, match="demand"):
        verify_tarball(demand.path, agent="profit")


def test_a_corrupt_tarball_is_refused_before_any_aws_call(bundles, config, tmp_path, monkeypatch):
    """Nothing queued on the Stubbers: any SageMaker or S3 call would raise UnStubbedResponse."""
    sm, s3 = boto3.client("sagemaker", region_name=REGION), boto3.client("s3", region_name=REGION)
    with Stubber(sm) as sm_stub, Stubber(s3) as s3_stub:
        real_pack = deploy_mod.pack

        def truncated_pack(*args, **kwargs):
            packed = real_pack(*args, **kwargs)
            packed.path.write_bytes(packed.path.read_bytes()[:1000])
            return packed

        monkeypatch.setattr(deploy_mod, "pack", truncated_pack)
        with pytest.raises(DeployError, match="corrupt or truncated"):
            deploy("profit", "1", bundles["v1"], config, client=sm, s3=s3)
        monkeypatch.setattr(deploy_mod, "pack", real_pack)

        broken = tmp_path / "broken"
        broken.mkdir()
        (broken / "bundle.json").write_bytes((bundles["v1"] / "bundle.json").read_bytes())
        (broken / "policy.pt2").write_bytes(b"garbage")
        with pytest.raises(DeployError, match="does not load or run"):
            deploy("profit", "1", broken, config, client=sm, s3=s3)
        with pytest.raises(DeployError, match="'demand' bundle: it cannot be deployed as 'profit'"):
            deploy("profit", "1", bundles["demand"], config, client=sm, s3=s3)
        sm_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()


# ---- deploying (moto, plus Stubber where moto stops) ------------------------------------


def test_first_deploy_creates_model_config_and_endpoint(aws, bundles, config, tmp_path):
    expected = names(bundles["v1"], "1", config, tmp_path)
    record = first_deploy(aws, bundles, config)

    assert record.status == "created" and record.endpoint_status == "InService"
    assert record.endpoint == ENDPOINT
    assert record.model == expected["model"] == f"forecourt-dev-profit-v1-{record.sha256[:8]}"
    assert record.endpoint_config == expected["endpoint_config"]
    assert record.model_data_url == (
        f"s3://{BUCKET}/models/serving/profit/v1-{record.sha256[:12]}/model.tar.gz"
    )
    assert record.previous_endpoint_config is None and record.seconds >= 0

    key = record.model_data_url.removeprefix(f"s3://{BUCKET}/")
    head = aws["s3"].head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == KMS
    body = aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert len(body) > 0
    (tmp_path / "got.tar.gz").write_bytes(body)
    assert verify_tarball(tmp_path / "got.tar.gz", agent="profit", version="1").version == "1"

    sm = aws["sm"]
    model = sm.describe_model(ModelName=record.model)
    container = model["PrimaryContainer"]
    assert container["Image"] == CONFIG["image_uri"]
    assert container["ModelDataUrl"] == record.model_data_url
    assert container["Environment"] == {
        "FORECOURT_AGENT": "profit",
        "FORECOURT_SERVING_SOURCE": "/opt/ml/model",
    }
    assert model["ExecutionRoleArn"] == CONFIG["execution_role_arn"]
    assert sorted(model["VpcConfig"]["Subnets"]) == sorted(CONFIG["subnet_ids"])
    assert model["VpcConfig"]["SecurityGroupIds"] == CONFIG["security_group_ids"]
    sent = [p for op, p in aws["requests"] if op == "CreateModel"]
    assert len(sent) == 1 and sent[0]["EnableNetworkIsolation"] is True  # moto drops it
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=model["ModelArn"])["Tags"]}
    assert tags["forecourt:version"] == "1" and tags["forecourt:sha256"] == record.sha256

    ec = sm.describe_endpoint_config(EndpointConfigName=record.endpoint_config)
    variant = ec["ProductionVariants"][0]
    assert (variant["VariantName"], variant["ModelName"]) == ("champion", record.model)
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.xlarge", 1)
    assert ec["KmsKeyId"] == KMS  # EBS instance type: the volume is encrypted with the key
    capture = ec["DataCaptureConfig"]
    assert capture["EnableCapture"] and capture["InitialSamplingPercentage"] == 100
    assert capture["DestinationS3Uri"] == CONFIG["data_capture_uri"]
    assert capture["KmsKeyId"] == KMS
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}

    endpoint = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == record.endpoint_config
    assert not [op for op, _ in aws["requests"] if op == "UpdateEndpoint"]

    now = current_deployment("profit", config, sm)
    assert (now.version, now.sha256, now.model) == ("1", record.sha256, record.model)
    assert now.status == "InService" and now.model_data_url == record.model_data_url
    assert current_deployment("demand", config, sm) is None


def test_nvme_instance_types_get_no_volume_key(aws, bundles):
    nvme = DeployConfig.from_dict({**CONFIG, "instance_type": "ml.g4dn.xlarge"})
    record = deploy("profit", "1", bundles["v1"], nvme, client=aws["sm"], s3=aws["s3"], poll_s=0)
    ec = aws["sm"].describe_endpoint_config(EndpointConfigName=record.endpoint_config)
    assert "KmsKeyId" not in ec
    assert ec["DataCaptureConfig"]["KmsKeyId"] == KMS


def test_redeploying_the_serving_version_is_a_no_op(aws, bundles, config):
    first = first_deploy(aws, bundles, config)
    again = first_deploy(aws, bundles, config)  # moto has no UpdateEndpoint: it would raise
    assert again.status == "unchanged"
    assert again.endpoint_config == first.endpoint_config == again.previous_endpoint_config
    assert again.previous_version == "1"
    created = [op for op, _ in aws["requests"] if op.startswith("Create")]
    assert created == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]  # once each


@pytest.mark.parametrize("routing", ["ALL_AT_ONCE", "CANARY"])
def test_second_deploy_updates_blue_green_with_rollback_alarms(aws, bundles, tmp_path, routing):
    config = DeployConfig.from_dict({**CONFIG, "traffic_routing": routing, "canary_percent": 25})
    first = first_deploy(aws, bundles, config)
    v2 = names(bundles["v2"], "2", config, tmp_path)
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    stub = sm.stubber
    routing_config = {"Type": routing, "WaitIntervalInSeconds": 300}
    if routing == "CANARY":
        routing_config["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": 25}
    blue_green = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing_config,
            "TerminationWaitInSeconds": 600,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in ALARMS["profit"]]},
    }
    assert deployment_config(config, "profit") == blue_green
    stub.add_response(
        "describe_endpoint",
        described("InService", first.endpoint_config),
        {"EndpointName": ENDPOINT},
    )
    stub.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": v2["endpoint_config"],
            "DeploymentConfig": blue_green,
        },
    )
    stub.add_response("describe_endpoint", described("Updating", first.endpoint_config))
    stub.add_response("describe_endpoint", described("Updating", first.endpoint_config))
    stub.add_response("describe_endpoint", described("InService", v2["endpoint_config"]))

    record = deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0)
    stub.assert_no_pending_responses()
    assert record.status == "updated" and record.endpoint_status == "InService"
    assert (record.model, record.endpoint_config) == (v2["model"], v2["endpoint_config"])
    assert record.previous_endpoint_config == first.endpoint_config
    assert record.previous_version == "1"
    # the new model and configuration exist (in moto), next to the old ones
    assert (
        aws["sm"].describe_model(ModelName=v2["model"])["PrimaryContainer"]["ModelDataUrl"]
        == (v2["model_data_url"])
    )
    aws["sm"].describe_endpoint_config(EndpointConfigName=v2["endpoint_config"])
    assert len(aws["sm"].list_models()["Models"]) == 2


def test_rolling_back_the_alias_redeploys_the_previous_version_reusing_its_model(
    aws, bundles, config, tmp_path
):
    first = first_deploy(aws, bundles, config)
    v2 = names(bundles["v2"], "2", config, tmp_path)
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", first.endpoint_config))
    sm.stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sm.stubber.add_response("describe_endpoint", described("InService", v2["endpoint_config"]))
    deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0)

    # v2 is serving (the stubbed endpoint says so); back to v1: its model and config exist
    now = Split(aws["sm"], {"describe_endpoint"})
    now.stubber.add_response("describe_endpoint", described("InService", v2["endpoint_config"]))
    assert current_deployment("profit", config, now).version == "2"
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", v2["endpoint_config"]))
    sm.stubber.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": first.endpoint_config,
            "DeploymentConfig": deployment_config(config, "profit"),
        },
    )
    sm.stubber.add_response("describe_endpoint", described("InService", first.endpoint_config))
    back = deploy("profit", "1", bundles["v1"], config, client=sm, s3=aws["s3"], poll_s=0)
    assert back.status == "updated" and back.previous_version == "2"
    assert back.model == first.model and back.endpoint_config == first.endpoint_config
    creates = [op for op, _ in aws["requests"] if op in ("CreateModel", "CreateEndpointConfig")]
    assert creates == ["CreateModel", "CreateEndpointConfig"] * 2  # v1 and v2, none for the return


@pytest.mark.parametrize("status", ["Creating", "Updating", "SystemUpdating", "RollingBack"])
def test_an_endpoint_in_progress_is_left_alone(aws, bundles, config, status):
    first = first_deploy(aws, bundles, config)
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described(status, first.endpoint_config))
    objects = aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"]
    with pytest.raises(DeploymentInProgressError, match=status) as err:
        deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0)
    assert err.value.status == status
    sm.stubber.assert_no_pending_responses()  # and update_endpoint was never called
    assert len(aws["sm"].list_models()["Models"]) == 1  # nothing created
    assert aws["s3"].list_objects_v2(Bucket=BUCKET)["KeyCount"] == objects  # nothing uploaded


def test_a_failed_health_check_rolls_back_and_raises_with_the_reason(
    aws, bundles, config, tmp_path
):
    first = first_deploy(aws, bundles, config)
    reason = (
        "The primary container for production variant champion did not pass the ping "
        "health check. Please check CloudWatch logs for this endpoint."
    )
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", first.endpoint_config))
    sm.stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sm.stubber.add_response("describe_endpoint", described("Updating", first.endpoint_config))
    sm.stubber.add_response("describe_endpoint", described("RollingBack", first.endpoint_config))
    sm.stubber.add_response(
        "describe_endpoint", described("InService", first.endpoint_config, reason)
    )
    with pytest.raises(DeployFailedError, match="rolled back") as err:
        deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0)
    assert err.value.reason == reason and err.value.rolled_back
    assert "ping health check" in str(err.value)
    sm.stubber.assert_no_pending_responses()


def test_a_failed_first_endpoint_raises_with_the_reason(aws, bundles, config):
    sm = Split(aws["sm"], {"describe_endpoint"})
    sm.stubber.add_client_error(
        "describe_endpoint",
        service_error_code="ValidationException",
        service_message=f'Could not find endpoint "{ENDPOINT_ARN}".',
    )
    sm.stubber.add_response("describe_endpoint", described("Creating", "any"))
    reason = "Image 123.dkr.ecr/x:1.2.3 does not exist"
    sm.stubber.add_response("describe_endpoint", described("Failed", "any", reason))
    with pytest.raises(DeployFailedError, match="ended Failed") as err:
        deploy("profit", "1", bundles["v1"], config, client=sm, s3=aws["s3"], poll_s=0)
    assert err.value.reason == reason and not err.value.rolled_back
    assert aws["sm"].list_endpoints()["Endpoints"][0]["EndpointName"] == ENDPOINT  # moto's


def test_a_failed_endpoint_is_not_updated(aws, bundles, config):
    first = first_deploy(aws, bundles, config)
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("Failed", first.endpoint_config, "x"))
    with pytest.raises(DeployError, match="delete-endpoint"):
        deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0)
    sm.stubber.assert_no_pending_responses()


def test_lost_race_on_update_and_timeouts(aws, bundles, config):
    first = first_deploy(aws, bundles, config)
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", first.endpoint_config))
    sm.stubber.add_client_error(
        "update_endpoint",
        service_error_code="ValidationException",
        service_message=f'Cannot update in-progress endpoint "{ENDPOINT}": it is Updating.',
    )
    sm.stubber.add_response("describe_endpoint", described("Updating", first.endpoint_config))
    with pytest.raises(DeploymentInProgressError, match="Updating"):
        deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0)

    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", first.endpoint_config))
    sm.stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sm.stubber.add_response("describe_endpoint", described("Updating", first.endpoint_config))
    with pytest.raises(DeployTimeoutError, match="still Updating"):
        deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], poll_s=0, timeout_s=0)

    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", first.endpoint_config))
    sm.stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sm.stubber.add_response("describe_endpoint", described("Updating", first.endpoint_config))
    record = deploy("profit", "2", bundles["v2"], config, client=sm, s3=aws["s3"], wait=False)
    assert (record.status, record.endpoint_status) == ("submitted", "Updating")


# ---- pruning old models and endpoint configurations (moto: List*/Delete* are real) -------


def _update_to(aws, bundle, version: str, config, serving: str):
    """deploy `bundle` as `version` over an endpoint serving `serving`: its model and
    configuration are created in moto, the update itself answered by the Stubber."""
    sm = Split(aws["sm"], {"describe_endpoint", "update_endpoint"})
    target = names(bundle, version, config, Path(aws["tmp"]))["endpoint_config"]
    sm.stubber.add_response("describe_endpoint", described("InService", serving))
    sm.stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sm.stubber.add_response("describe_endpoint", described("InService", target))
    return deploy("profit", version, bundle, config, client=sm, s3=aws["s3"], poll_s=0)


def _serving(aws, endpoint_config: str, status: str = "InService") -> Split:
    """moto's client, with DescribeEndpoint saying the endpoint serves `endpoint_config`."""
    sm = Split(aws["sm"], {"describe_endpoint"})
    sm.stubber.add_response("describe_endpoint", described(status, endpoint_config))
    return sm


def _left(aws) -> tuple[set[str], set[str]]:
    sm = aws["sm"]
    models = {m["ModelName"] for m in sm.list_models()["Models"]}
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    return models, configs


@pytest.fixture
def three(aws, bundles, config, tmp_path):
    """profit v1 (created), v2 and v3 (updates) deployed in turn, v3 serving; plus a
    demand deployment and a hand-made look-alike model (no forecourt tags)."""
    aws["tmp"] = tmp_path
    v1 = first_deploy(aws, bundles, config)
    v2 = _update_to(aws, bundles["v2"], "2", config, v1.endpoint_config)
    v3 = _update_to(aws, bundles["v1"], "3", config, v2.endpoint_config)  # v1's bytes as v3
    demand = deploy("demand", "1", bundles["demand"], config, client=aws["sm"], s3=aws["s3"])
    aws["sm"].create_model(
        ModelName="forecourt-dev-profit-v9-0badf00d",
        ExecutionRoleArn=CONFIG["execution_role_arn"],
        PrimaryContainer={"Image": CONFIG["image_uri"]},
    )
    assert len({v1.model, v2.model, v3.model}) == 3
    return {"v1": v1, "v2": v2, "v3": v3, "demand": demand}


def test_prune_keeps_the_serving_and_the_previous_deployment(aws, config, three):
    v1, v2, v3, demand = three["v1"], three["v2"], three["v3"], three["demand"]
    pruned = prune(
        "profit",
        config,
        protect=(v3.previous_endpoint_config,),
        client=_serving(aws, v3.endpoint_config),
    )
    assert pruned.skipped is None
    assert pruned.kept_endpoint_configs == (v3.endpoint_config, v2.endpoint_config)
    assert set(pruned.kept_models) == {v3.model, v2.model}
    assert pruned.deleted_endpoint_configs == (v1.endpoint_config,)
    assert pruned.deleted_models == (v1.model,)
    models, configs = _left(aws)
    assert models == {v2.model, v3.model, demand.model, "forecourt-dev-profit-v9-0badf00d"}
    assert configs == {v2.endpoint_config, v3.endpoint_config, demand.endpoint_config}
    # again: nothing more to delete
    again = prune("profit", config, client=_serving(aws, v3.endpoint_config))
    assert again.deleted_models == again.deleted_endpoint_configs == ()


def test_prune_never_deletes_what_the_endpoint_uses(aws, config, three):
    """After an alias rollback the oldest deployment serves: it stays, with the newest other."""
    v1, v2, v3 = three["v1"], three["v2"], three["v3"]
    pruned = prune("profit", config, client=_serving(aws, v1.endpoint_config))
    assert pruned.kept_endpoint_configs == (v1.endpoint_config, v3.endpoint_config)
    assert pruned.deleted_endpoint_configs == (v2.endpoint_config,)
    one = prune("profit", config, keep=1, client=_serving(aws, v1.endpoint_config))
    assert one.deleted_endpoint_configs == (v3.endpoint_config,)
    models, configs = _left(aws)
    assert v1.model in models and v1.endpoint_config in configs
    assert (
        not {v2.model, v3.model} & models and not {v2.endpoint_config, v3.endpoint_config} & configs
    )
    with pytest.raises(DeployError, match="keep"):
        prune("profit", config, keep=0, client=aws["sm"])


@pytest.mark.parametrize("status", ["Updating", "RollingBack", "Failed"])
def test_prune_deletes_nothing_unless_the_endpoint_is_in_service(aws, config, three, status):
    before = _left(aws)
    pruned = prune(
        "profit", config, keep=1, client=_serving(aws, three["v3"].endpoint_config, status)
    )
    assert pruned.skipped == f"the endpoint is {status}" and pruned.deleted_models == ()
    assert _left(aws) == before


def test_bad_arguments_are_refused_before_anything(bundles, config):
    with pytest.raises(DeployError, match="unknown agent"):
        deploy("price", "1", bundles["v1"], config, client=object(), s3=object())
    with pytest.raises(DeployError, match="version"):
        deploy("profit", "1.0/..", bundles["v1"], config, client=object(), s3=object())
    with pytest.raises(DeployConfigError, match="DeployConfig"):
        deploy("profit", "1", bundles["v1"], CONFIG, client=object(), s3=object())


def test_terraform_writes_exactly_the_fields_deploy_config_reads():
    """modules/serving's `deploy_config` output is FORECOURT_SAGEMAKER: the same field names
    (its values are checked by the module's terraform test)."""
    text = (Path(__file__).parents[1] / "terraform/modules/serving/outputs.tf").read_text()
    block = text[text.index('output "deploy_config"') :]
    block = block[block.index("value = {") : block.index("\n  }\n")]
    written = set(re.findall(r"^\s{4}([a-z0-9_]+)\s+=", block, flags=re.M))
    assert written == {f.name for f in fields(DeployConfig)}


@pytest.mark.parametrize(
    ("code", "uploads"), [("403", True), ("404", True), ("NoSuchKey", True), ("500", False)]
)
def test_upload_treats_a_forbidden_head_as_missing(tmp_path, config, code, uploads):
    """Without s3:ListBucket on the key, S3 answers HeadObject on a missing key with 403,
    not 404 (the job role lists only its prefixes): upload then; any other error raises."""
    from botocore.exceptions import ClientError

    calls = []

    class S3:
        def head_object(self, **kw):
            raise ClientError({"Error": {"Code": code, "Message": "x"}}, "HeadObject")

        def upload_file(self, *args, **kw):
            calls.append((args, kw))

    packed = deploy_mod.PackedModel(tmp_path / "model.tar.gz", "ab" * 32, 10)
    url = "s3://bucket/models/serving/profit/v1/model.tar.gz"
    if uploads:
        deploy_mod._upload(S3(), packed, url, config)
        assert calls and calls[0][0][1:] == ("bucket", "models/serving/profit/v1/model.tar.gz")
    else:
        with pytest.raises(ClientError):
            deploy_mod._upload(S3(), packed, url, config)
        assert not calls
