"""The daily run's `deploy_champion` step and `forecourt registry rollback`'s redeploy.

A real registry (MLflow on a per-test SQLite DB), two real versions of a tiny profit agent,
real tarballs, moto in process (`mock_aws`) for S3 and SageMaker, and botocore's Stubber
where moto stops (UpdateEndpoint, an endpoint that is updating or rolled back; see
tests/test_deploy.py, whose helpers this file reuses). What is asserted is the state left
behind: where the champion alias points, which configuration the endpoint uses, the
version's tags, deploy.json / promotion.json in the run folder.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path

import boto3
import pytest
from test_deploy import BUCKET, CONFIG, ENDPOINT, ENDPOINT_ARN, REGION, Split, described

from rl_core.agents.dqn import DQNConfig
from rl_core.cli import main as forecourt
from rl_core.market.model import Market
from rl_core.pipeline import steps
from rl_core.pipeline.contract import run_step
from rl_core.pipeline.report import write_run_report
from rl_core.pipeline.run_reports import summarise
from rl_core.serving import deploy as deploy_mod
from rl_core.serving import release as release_mod
from rl_core.telemetry import read_local
from rl_core.training.bundle import write_bundle
from rl_core.training.train import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny profit agent (2,000 steps) and its bundle: registered as v1, v2, ..."""
    result = train(Market(), "profit", DQNConfig(total_env_steps=2000, seed=1))
    return result, write_bundle(result, Market(), tmp_path_factory.mktemp("b") / "bundle")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh FORECOURT_HOME (a fresh registry) per test; deployment off unless asked."""
    monkeypatch.setenv("FORECOURT_HOME", str(tmp_path / "forecourt"))
    for key in ("FORECOURT_MLFLOW_TRACKING_URI", "FORECOURT_METRICS", "FORECOURT_SAGEMAKER"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path / "forecourt"


@pytest.fixture
def aws(monkeypatch):
    """moto in process, the artifacts bucket, FORECOURT_SAGEMAKER set, no 30 s polls."""
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("FORECOURT_SAGEMAKER", json.dumps(CONFIG))
    monkeypatch.setattr(release_mod, "deploy", functools.partial(deploy_mod.deploy, poll_s=0))
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield boto3.client("sagemaker", region_name=REGION)


def use(monkeypatch, sm) -> None:
    """Every SageMaker client deploy and prune create is `sm` (a Split over moto)."""
    real = deploy_mod._client
    monkeypatch.setattr(
        deploy_mod,
        "_client",
        lambda service, config: sm if service == "sagemaker" else real(service, config),
    )


def no_aws(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("no AWS client may be made here")

    monkeypatch.setattr(boto3, "client", refuse)


def register(trained) -> str:
    from rl_core.registry import register_challenger

    result, bundle = trained
    return register_challenger(result, bundle, data_window={"test": 1}, market=Market()).version


def promoted(home, trained, *, expected: str | None, action: str = "promoted", **params):
    """A run folder in which promote_or_keep made a newly registered version the champion
    (action "promoted"), or left the champion alone ("kept")."""
    from rl_core.registry import champion_version, promote

    plan = steps.plan_run(params, date(2026, 3, 10), "manual__t", store=str(home / "store"))
    version = register(trained)
    if action in steps.MOVED:
        promote("profit", version, expected_champion=expected, reason="test")
    record = {
        "agent": "profit",
        "challenger_version": version,
        "action": action,
        "reason": "test",
        "champion_version": champion_version("profit"),
    }
    steps.save(plan.agent_folder("profit"), "promotion.json", record)
    return plan, version


def tags(version: str) -> dict:
    from rl_core.registry.tracking import client, model_name

    return dict(client().get_model_version(model_name("profit"), version).tags)


def serving(sm) -> str:
    return sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]


def first(home, trained, aws):
    """v1 promoted and deployed by the step (a new endpoint: all moto)."""
    plan, v1 = promoted(home, trained, expected=None)
    return plan, v1, steps.deploy_champion(plan, "profit")


# ---- deployment off, dry runs ----------------------------------------------------------------


def test_without_forecourt_sagemaker_nothing_is_deployed_and_no_aws_is_called(
    home, trained, monkeypatch
):
    plan, version = promoted(home, trained, expected=None)
    no_aws(monkeypatch)
    out = steps.deploy_champion(plan, "profit")
    assert out["deployed"] is False and out["outcome"] == "skipped"
    assert "FORECOURT_SAGEMAKER unset" in out["reason"]
    assert steps.load(plan.agent_folder("profit"), "deploy.json") == out
    assert "forecourt.deploy" not in tags(version)
    assert read_local("Deployments") == [] and read_local("DeployFailures") == []


def test_a_dry_run_deploys_nothing(home, trained, monkeypatch):
    monkeypatch.setenv("FORECOURT_SAGEMAKER", json.dumps(CONFIG))
    plan, _ = promoted(home, trained, expected=None, action="dry-run", dry_run=True)
    no_aws(monkeypatch)
    out = steps.deploy_champion(plan, "profit")
    assert (out["deployed"], out["outcome"]) == (False, "dry-run")


# ---- deploying ----------------------------------------------------------------------------------


def test_the_step_deploys_the_champion_and_a_second_run_is_a_no_op(home, trained, aws):
    plan, v1, out = first(home, trained, aws)
    assert (out["deployed"], out["outcome"], out["version"]) == (True, "created", v1)
    assert serving(aws) == out["endpoint_config"]
    assert out["endpoint_config"].startswith(f"forecourt-dev-profit-v{v1}-")
    assert tags(v1)["forecourt.deploy"] == "deployed"
    assert steps.load(plan.agent_folder("profit"), "deploy.json")["outcome"] == "created"
    again = run_step("deploy_champion", plan.uri, agent="profit")  # through the contract
    assert (again["outcome"], again["endpoint_config"]) == ("unchanged", out["endpoint_config"])
    assert [p["value"] for p in read_local("Deployments")] == [1, 0]
    assert [p["value"] for p in read_local("DeployFailures")] == [0, 0]


def test_a_failed_deploy_rolls_the_alias_back_records_why_and_fails(
    home, trained, aws, monkeypatch
):
    from rl_core.registry import champion_version, history

    _, v1, out = first(home, trained, aws)
    plan, v2 = promoted(home, trained, expected=v1)
    reason = (
        "The primary container for production variant champion did not pass the ping health check."
    )
    sm = Split(aws, {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", out["endpoint_config"]))
    sm.stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sm.stubber.add_response("describe_endpoint", described("Updating", out["endpoint_config"]))
    sm.stubber.add_response(
        "describe_endpoint", described("InService", out["endpoint_config"], reason)
    )
    use(monkeypatch, sm)
    with pytest.raises(steps.DeployStepError, match=f"v{v2} was not deployed.*rolled back"):
        run_step("deploy_champion", plan.uri, agent="profit")
    sm.stubber.assert_no_pending_responses()

    assert champion_version("profit") == v1  # the alias names what the endpoint serves
    assert serving(aws) == out["endpoint_config"]
    assert history("profit")[-1]["action"] == "rollback"
    assert "ping health check" in history("profit")[-1]["reason"]
    record = steps.load(plan.agent_folder("profit"), "deploy.json")
    assert (record["outcome"], record["alias_rolled_back"]) == ("failed", True)
    assert record["champion_version"] == v1 and "ping health check" in record["reason"]
    promotion = steps.load(plan.agent_folder("profit"), "promotion.json")
    assert promotion["champion_version"] == v1 and promotion["deploy"]["outcome"] == "failed"
    assert tags(v2)["forecourt.deploy"] == "failed"
    assert "ping health check" in tags(v2)["forecourt.deploy_reason"]
    failed = steps.load(f"{plan.folder}/steps", "deploy_champion.profit.failed.json")
    assert "DeployStepError" in failed["error"]
    assert [p["value"] for p in read_local("DeployFailures")] == [0, 1]
    # the run report says it, per agent
    steps.save(plan.agent_folder("profit"), "trials.json", [])
    text = Path(write_run_report(plan.folder)["report"]).read_text()
    assert "**Deploy:** failed" in text and f"rolled back from v{v2} to v{v1}" in text
    assert summarise(Path(plan.folder) / "report.json")["agents"]["profit"]["deploy"] == "failed"


def test_a_refused_tarball_rolls_back_only_what_this_run_promoted(home, trained, aws, monkeypatch):
    from rl_core.registry import champion_version

    _, v1, out = first(home, trained, aws)
    real_pack = deploy_mod.pack

    def truncated(*args, **kwargs):
        packed = real_pack(*args, **kwargs)
        packed.path.write_bytes(packed.path.read_bytes()[:1000])
        return packed

    monkeypatch.setattr(deploy_mod, "pack", truncated)
    # a kept champion (this run moved nothing): refused, recorded, the alias left alone
    plan, _ = promoted(home, trained, expected=v1, action="kept")
    with pytest.raises(steps.DeployStepError, match="refused"):
        steps.deploy_champion(plan, "profit")
    record = steps.load(plan.agent_folder("profit"), "deploy.json")
    assert (record["outcome"], record["alias_rolled_back"]) == ("refused", False)
    assert champion_version("profit") == v1
    # promoted by this run: refused before any AWS call, the alias back on v1
    plan, v2 = promoted(home, trained, expected=v1)
    with pytest.raises(steps.DeployStepError, match="corrupt or truncated"):
        steps.deploy_champion(plan, "profit")
    assert champion_version("profit") == v1
    assert steps.load(plan.agent_folder("profit"), "deploy.json")["alias_rolled_back"] is True
    assert tags(v2)["forecourt.deploy"] == "refused"
    assert len(aws.list_models()["Models"]) == 1 and serving(aws) == out["endpoint_config"]


def test_an_endpoint_in_progress_leaves_the_alias_alone(home, trained, aws, monkeypatch):
    from rl_core.registry import champion_version

    _, v1, out = first(home, trained, aws)
    plan, v2 = promoted(home, trained, expected=v1)
    sm = Split(aws, {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("Updating", out["endpoint_config"]))
    use(monkeypatch, sm)
    with pytest.raises(steps.DeployStepError, match="is Updating"):
        steps.deploy_champion(plan, "profit")
    sm.stubber.assert_no_pending_responses()  # no UpdateEndpoint
    assert champion_version("profit") == v2  # not rolled back
    record = steps.load(plan.agent_folder("profit"), "deploy.json")
    assert (record["outcome"], record["alias_rolled_back"]) == ("in-progress", False)
    assert "earlier promotion" in record["alias"]
    assert len(aws.list_models()["Models"]) == 1  # nothing created


# ---- forecourt registry rollback ------------------------------------------------------------


def planned_config(version: str, tmp_path) -> str:
    """The endpoint configuration deploy will name for `version` (packing is deterministic)."""
    from rl_core.registry import download_bundle

    bundle = download_bundle("profit", version)
    packed = deploy_mod.pack(bundle.path, tmp_path / f"v{version}.tar.gz", version=version)
    config = deploy_mod.DeployConfig.from_dict(CONFIG)
    return deploy_mod.planned_names(config, "profit", version, packed.sha256)["endpoint_config"]


def update(aws, serving_now: str, target: str) -> Split:
    """A SageMaker client whose endpoint goes from `serving_now` to `target` (the update
    answered by the Stubber, which also checks it names `target`), the rest in moto."""
    sm = Split(aws, {"describe_endpoint", "update_endpoint"})
    sm.stubber.add_response("describe_endpoint", described("InService", serving_now))
    sm.stubber.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": target,
            "DeploymentConfig": deploy_mod.deployment_config(
                deploy_mod.DeployConfig.from_dict(CONFIG), "profit"
            ),
        },
    )
    sm.stubber.add_response("describe_endpoint", described("Updating", serving_now))
    sm.stubber.add_response("describe_endpoint", described("InService", target))
    sm.stubber.add_response("describe_endpoint", described("InService", target))  # prune's
    return sm


def test_cli_rollback_redeploys_the_restored_champion(
    home, trained, aws, monkeypatch, capsys, tmp_path
):
    from rl_core.registry import champion_version

    _, v1, out = first(home, trained, aws)
    v1_config = out["endpoint_config"]
    plan, v2 = promoted(home, trained, expected=v1)
    v2_config = planned_config(v2, tmp_path)
    sm = update(aws, v1_config, v2_config)
    use(monkeypatch, sm)
    done = steps.deploy_champion(plan, "profit")  # the daily step: v1 -> v2
    sm.stubber.assert_no_pending_responses()
    assert (done["outcome"], done["previous_version"]) == ("updated", v1)
    assert done["pruned"]["kept_endpoint_configs"] == [v2_config, v1_config]

    sm = update(aws, v2_config, v1_config)
    use(monkeypatch, sm)
    capsys.readouterr()
    assert forecourt(["registry", "rollback", "profit", "--reason", "bad prices", "--json"]) == 0
    sm.stubber.assert_no_pending_responses()  # the update named v1's configuration
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert champion_version("profit") == v1 and result["version"] == v1
    deployed = result["deploy"]
    assert (deployed["version"], deployed["status"]) == (v1, "updated")
    assert (deployed["endpoint_config"], deployed["previous_version"]) == (v1_config, v2)
    assert deployed["pruned"]["kept_endpoint_configs"] == [v1_config, v2_config]
    assert deployed["pruned"]["deleted_models"] == []
    assert tags(v1)["forecourt.deploy"] == "deployed"


def test_cli_rollback_no_deploy_moves_only_the_alias(home, trained, monkeypatch, capsys):
    from rl_core.registry import champion_version, promote

    monkeypatch.setenv("FORECOURT_SAGEMAKER", json.dumps(CONFIG))
    v1, v2 = register(trained), register(trained)
    promote("profit", v1, expected_champion=None, reason="t")
    promote("profit", v2, expected_champion=v1, reason="t")
    no_aws(monkeypatch)
    capsys.readouterr()
    argv = ["registry", "rollback", "profit", "--reason", "r", "--no-deploy", "--json"]
    assert forecourt(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert champion_version("profit") == v1 and "deploy" not in result
