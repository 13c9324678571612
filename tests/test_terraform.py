"""Terraform, for real, offline: fmt, validate, `terraform test` (mocked providers), checkov
over the HCL and over a plan, and apply + destroy against a local moto server; on the Dev
stack applied there, the wiring the DAG relies on (the Batch job definition's step contract
and environment, MWAA's forecourt.* options and pinned uploads, the root's outputs, the plan
that refuses to go without plugins.zip).

What these prove and what only AWS can: docs/deploy.md ("What is proven here").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from terraform_tools import (
    ROOT,
    TERRAFORM,
    MotoServer,
    build_plugins_zip,
    checkov_bin,
    init,
    resources_in_state,
    state_resources,
    tf,
    tf_env,
)

from rl_core.serving.deploy_config import DeployConfig

pytestmark = pytest.mark.terraform

ROOTS = ["organization", "log-archive", "bootstrap", "envs/dev", "envs/preprod", "envs/prod"]
MODULES = sorted(p.parent.name for p in (TERRAFORM / "modules").glob("*/versions.tf"))
TESTED = sorted(
    str(p.parent.parent.relative_to(TERRAFORM))
    for p in TERRAFORM.glob("**/tests/*.tftest.hcl")
    if ".terraform" not in p.parts
)
APPLY_TIMEOUT_S = 420  # the whole dev stack applies in about 2-3 min on moto


@pytest.fixture(scope="module")
def env():
    return tf_env()


def test_layout_is_complete():
    """Every module: main/variables/outputs/versions + README; every root and module exists."""
    expected = {
        "network", "kms", "storage", "iam", "mwaa", "training", "serving", "mlflow",
        "monitoring", "platform",
    }  # fmt: skip
    assert expected <= set(MODULES), sorted(expected - set(MODULES))
    for name in MODULES:
        for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (TERRAFORM / "modules" / name / f).is_file(), f"modules/{name}/{f}"
    for root in ROOTS:
        assert list((TERRAFORM / root).glob("*.tf")), root
    for account in ("dev", "preprod", "prod"):
        for f in ("terraform.tfvars", "backend.hcl"):
            assert (TERRAFORM / "envs" / account / f).is_file()


def test_terraform_runs_leave_the_home_directory_alone(tmp_path):
    """tf_env: no update check (its signature went to ~/.terraform.d), a throwaway HOME (no
    user ~/.aws or ~/.terraform.d read, nothing written there). Watched: `terraform version`
    would otherwise call the checkpoint service and write ~/.terraform.d/checkpoint_signature."""
    env = tf_env()
    assert env["CHECKPOINT_DISABLE"] == "1"
    home = Path(env["HOME"])
    assert home.is_dir() and home != Path.home() and home.name.startswith("forecourt-tf-home-")
    assert "disable_checkpoint = true" in Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    before = set(home.rglob("*"))
    tf(["version"], tmp_path, env)
    assert set(home.rglob("*")) == before


def test_fmt(env):
    tf(["fmt", "-check", "-recursive", "-diff", str(TERRAFORM)], TERRAFORM, env)


def test_every_provider_is_pinned_to_the_offline_mirror():
    for versions in TERRAFORM.glob("**/versions.tf"):
        if ".terraform" in versions.parts:
            continue
        text = versions.read_text()
        assert 'version = "5.100.0"' in text, versions
        assert "archive" not in text, f"{versions}: hashicorp/archive is not in the mirror"


@pytest.mark.parametrize("path", ROOTS + [f"modules/{m}" for m in MODULES])
def test_validate(path, env):
    init(TERRAFORM / path, env)
    tf(["validate"], TERRAFORM / path, env)


@pytest.mark.parametrize("path", TESTED)
def test_terraform_test(path, env):
    init(TERRAFORM / path, env)
    out = tf(["test"], TERRAFORM / path, env, timeout=600)
    assert "0 failed" in out and " passed" in out, out[-2000:]


def _checkov(args: list[str]) -> dict:
    # checkov keeps an update-check cache in ~/.cache/checkov: a throwaway HOME instead
    with tempfile.TemporaryDirectory(prefix="forecourt-checkov-home-") as home:
        out = subprocess.run(
            [str(checkov_bin()), *args, "-o", "json", "--quiet", "--compact", "--skip-download"],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=ROOT,
            env={**os.environ, "HOME": home, "XDG_CACHE_HOME": f"{home}/.cache"},
        )
    if not out.stdout.strip():
        raise AssertionError(f"checkov printed nothing:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout)
    reports = data if isinstance(data, list) else [data]
    summary = {"passed": 0, "failed": 0, "skipped": 0, "failures": [], "skips": []}
    for report in reports:
        results = report.get("results", {})
        s = report.get("summary", {})
        for k in ("passed", "failed", "skipped"):
            summary[k] += s.get(k, 0)
        summary["failures"] += [
            f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range']})"
            for c in results.get("failed_checks", [])
        ]
        summary["skips"] += [
            (c["check_id"], c["resource"], (c.get("check_result") or {}).get("suppress_comment"))
            for c in results.get("skipped_checks", [])
        ]
    return summary


def test_checkov_hcl_has_no_failed_check():
    s = _checkov(["-d", str(TERRAFORM), "--framework", "terraform"])
    print(f"\ncheckov (HCL): {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped")
    assert s["failed"] == 0, "\n".join(s["failures"])
    assert s["passed"] > 100
    # every skip says why, next to the resource
    unexplained = [x for x in s["skips"] if not x[2] or len(x[2].strip()) < 10]
    assert not unexplained, unexplained


# ---- against a local AWS (moto) ---------------------------------------------------------------


@pytest.fixture
def moto(tmp_path):
    """A fresh moto server per apply (a reset one fumbles the default security group)."""
    server = MotoServer.start(tmp_path / "moto.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A copy of terraform/ (and what the stack uploads) with local state instead of S3."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(
        TERRAFORM, repo / "terraform", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*")
    )
    (repo / "dags").mkdir()
    for f in (ROOT / "dags").glob("*.py"):
        shutil.copy(f, repo / "dags" / f.name)
    (repo / "docker" / "mwaa").mkdir(parents=True)
    for name in ("requirements.txt", "startup.sh"):
        shutil.copy(ROOT / "docker/mwaa" / name, repo / "docker/mwaa" / name)
    for root in ROOTS:
        (repo / "terraform" / root / "backend_override.tf").write_text(
            'terraform {\n  backend "local" {}\n}\n'
        )
    return repo / "terraform"


@pytest.fixture(scope="module")
def plugins_zip(tmp_path_factory):
    """MWAA's plugins.zip, built the way docs/deploy.md says, outside the workspace (the
    stack is told where with plugins_zip_path)."""
    return build_plugins_zip(tmp_path_factory.mktemp("mwaa-build") / "plugins.zip")


def _apply_destroy(cwd: Path, env: dict, args: list[str], then=None) -> list[str]:
    """Apply, list what was made, run `then(cwd, env)` on the live stack, always destroy."""
    init(cwd, env, backend=True)
    try:
        tf(["apply", "-auto-approve", "-input=false", *args], cwd, env, APPLY_TIMEOUT_S)
        made = resources_in_state(cwd, env)
        if then is not None:
            then(cwd, env)
        return made
    finally:
        tf(["destroy", "-auto-approve", "-input=false", *args], cwd, env, APPLY_TIMEOUT_S)
        assert resources_in_state(cwd, env) == [], "destroy left resources behind"


def test_organization_applies_and_destroys(moto, workspace):
    env = tf_env(moto.aws_env("us-east-1"))
    accounts = '{dev="dev@example.com", preprod="preprod@example.com", prod="prod@example.com"}'
    args = ["-var", f"accounts={accounts}", "-var", "log_archive_account_email=logs@example.com"]
    args += ["-var", "region=us-east-1", "-var", 'allowed_regions=["us-east-1","eu-west-1"]']
    made = _apply_destroy(workspace / "organization", env, args)
    for kind in (
        "aws_organizations_organization",
        "aws_organizations_account",
        "aws_organizations_policy",
        # the trail itself: after terraform/log-archive (tests/test_terraform_accounts.py)
    ):
        assert any(f"{kind}." in a for a in made), (kind, made)


def test_bootstrap_applies_and_destroys(moto, workspace):
    env = tf_env(moto.aws_env())
    made = _apply_destroy(workspace / "bootstrap", env, [])
    assert not any("aws_dynamodb_table" in a for a in made)  # S3-native locking (use_lockfile)
    assert any("aws_kms_key." in a for a in made)
    assert any("aws_s3_bucket." in a for a in made)


# ---- the Dev account's stack on moto: applied once, read by the tests below, destroyed ----

# modules/security_baseline: moto 5.2.5 lacks Security Hub's UpdateSecurityHubConfiguration and
# BatchEnableStandards, IAM Access Analyzer, and Budgets' DescribeSubscribersForNotification
MOTO_LACKS = ["-var", "enable_security_hub=false", "-var", "enable_access_analyzer=false"]
MOTO_LACKS += ["-var", "enable_budget=false"]
MLFLOW_URL = (
    "http://mlflow.forecourt.test:5000"  # an existing server (moto has no SageMaker MLflow)
)
JOB_DEFINITION = "module.forecourt.module.training.aws_batch_job_definition.training"
MWAA = "module.forecourt.module.mwaa[0].aws_mwaa_environment.this"
STEP_CONTRACT = [
    "forecourt", "pipeline", "step", "Ref::step",
    "--plan", "Ref::plan", "--agent", "Ref::agent", "--trial", "Ref::trial",
]  # fmt: skip


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory, workspace, plugins_zip):
    """The Dev stack applied on moto with everything moto supports (no MWAA, no SageMaker
    MLflow: the jobs get MLFLOW_URL, an existing server, instead), then the plan that adds
    MWAA, the managed MLflow server and the MWAA uploads to the live stack (every other value
    known, as on AWS after the first apply). Yields {cwd, env, state, outputs, made, plan,
    full_args, plugins_zip}; destroys everything afterwards."""
    server = MotoServer.start(tmp_path_factory.mktemp("moto-dev") / "moto.log")
    cwd = workspace / "envs/dev"
    env = tf_env(server.aws_env())
    zip_var = ["-var", f"plugins_zip_path={plugins_zip}"]
    first = ["-var", "enable_mwaa=false", "-var", "enable_mlflow=false"]
    first += ["-var", "upload_airflow_files=false"]  # moto: Deny without its TLS condition
    first += ["-var", f"mlflow_tracking_uri={MLFLOW_URL}", *zip_var]
    first += MOTO_LACKS  # the security baseline's parts moto does not implement
    full = ["-var", "enable_mwaa=true", "-var", "enable_mlflow=true"]
    full += ["-var", "upload_airflow_files=true"]
    try:
        init(cwd, env, backend=True)
        tf(["apply", "-auto-approve", "-input=false", *first], cwd, env, APPLY_TIMEOUT_S)
        state = json.loads(tf(["show", "-json"], cwd, env, timeout=120))
        made = resources_in_state(cwd, env)
        tf(
            ["plan", "-input=false", "-out", "full.plan", *full, *zip_var],
            cwd,
            env,
            APPLY_TIMEOUT_S,
        )
        plan = tf(["show", "-json", "full.plan"], cwd, env)
        (cwd / "plan.json").write_text(plan)
        yield {
            "cwd": cwd,
            "env": env,
            "state": state,
            "outputs": {k: v["value"] for k, v in state["values"].get("outputs", {}).items()},
            "made": made,
            "plan": json.loads(plan),
            "full_args": full,  # without plugins_zip_path
            "plugins_zip": plugins_zip,
        }
    finally:
        try:
            tf(["destroy", "-auto-approve", "-input=false", *first], cwd, env, APPLY_TIMEOUT_S)
            assert resources_in_state(cwd, env) == [], "destroy left resources behind"
        finally:
            server.stop()


def test_dev_account_applies_on_moto(dev_stack):
    made = dev_stack["made"]
    print(f"\ndev stack on moto: {len(made)} resources applied (destroyed at the end)")
    for kind in (
        "aws_vpc",
        "aws_nat_gateway",
        "aws_flow_log",
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_iam_role",
        "aws_batch_compute_environment",
        "aws_batch_job_queue",
        "aws_batch_job_definition",
        "aws_ecr_repository",
        "aws_cloudwatch_dashboard",
        "aws_cloudwatch_metric_alarm",
        "aws_sns_topic",
        "aws_cloudwatch_event_rule",
        "aws_guardduty_detector",
        "aws_config_configuration_recorder",
        "aws_config_delivery_channel",
        "aws_config_config_rule",
    ):
        assert any(f"{kind}." in a for a in made), kind


def test_dev_plan_with_mwaa_passes_checkov(dev_stack):
    """The plan that adds MWAA, the MLflow server and the uploads, scanned as JSON."""
    changes = {c["type"] for c in dev_stack["plan"]["resource_changes"]}
    assert {
        "aws_mwaa_environment",
        "aws_sagemaker_mlflow_tracking_server",
        "aws_s3_object",
    } <= changes
    cwd = dev_stack["cwd"]
    s = _checkov(
        ["-f", str(cwd / "plan.json"), "--framework", "terraform_plan",
         "--repo-root-for-plan-enrichment", str(cwd)]
    )  # fmt: skip
    print(f"\ncheckov (dev plan with MWAA): {s['passed']} passed, {s['failed']} failed, "
          f"{s['skipped']} skipped")  # fmt: skip
    assert s["failed"] == 0, "\n".join(s["failures"])
    assert s["passed"] > 150, s


def _env(container_properties: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in json.loads(container_properties)["environment"]}


def test_batch_job_runs_the_step_contract_with_the_stacks_settings(dev_stack):
    """The applied job definition: the step contract, "-" for a missing agent or trial, and
    the settings every step reads, each the value of the resource it names."""
    out = dev_stack["outputs"]
    resources = state_resources(dev_stack["state"])
    job = resources[JOB_DEFINITION]["values"]
    props = json.loads(job["container_properties"])
    assert props["command"] == STEP_CONTRACT
    assert job["parameters"] == {"agent": "-", "trial": "-"}

    buckets = out["stack"]["bucket_names"]
    topic = resources["module.forecourt.module.monitoring.aws_sns_topic.alarms"]["values"]["arn"]
    queue = resources["module.forecourt.module.training.aws_batch_job_queue.training"]["values"]
    env = _env(job["container_properties"])
    # the deploy step's settings: the serving module's deploy_config, as rl_core parses it
    deploy = DeployConfig.from_env({"FORECOURT_SAGEMAKER": env.pop("FORECOURT_SAGEMAKER")})
    assert deploy is not None
    # the root's output is the same object (what an operator deploys with by hand)
    assert deploy == DeployConfig.from_dict(out["sagemaker_deploy_config"])
    assert deploy.endpoint_prefix == "forecourt-dev"
    assert deploy.endpoint_name("demand") == "forecourt-dev-demand"
    assert deploy.model_artifacts_uri == f"s3://{buckets['artifacts']}/models/serving"
    assert deploy.data_capture_uri == f"s3://{buckets['artifacts']}/data-capture"
    assert deploy.execution_role_arn.endswith(":role/forecourt-dev-sagemaker-execution")
    assert deploy.kms_key_arn == out["stack"]["kms_key_arn"]
    assert deploy.region == "eu-west-1"
    assert deploy.image_uri == f"{out['stack']['ecr_repository_urls']['serving']}:0.1.0"
    subnets = {r["values"]["id"] for r in resources.values() if r["type"] == "aws_subnet"}
    assert set(deploy.subnet_ids) <= subnets and deploy.subnet_ids
    assert set(deploy.rollback_alarm_names) == {"demand", "profit"}
    assert env == {
        "FORECOURT_STORE": f"s3://{buckets['data']}/store",
        "FORECOURT_RUNS": f"s3://{buckets['artifacts']}/runs",
        "FORECOURT_MLFLOW_TRACKING_URI": MLFLOW_URL,
        "FORECOURT_METRICS": "cloudwatch",
        "FORECOURT_METRICS_NAMESPACE": "Forecourt",
        "FORECOURT_ENV": "dev",
        "FORECOURT_SNS_TOPIC_ARN": topic,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    # the root's outputs are what the DAG and the rehearsal are given
    assert out["store_uri"] == f"s3://{buckets['data']}/store"
    assert out["runs_uri"] == f"s3://{buckets['artifacts']}/runs"
    assert out["mlflow_tracking_uri"] == MLFLOW_URL
    assert out["batch_job_queue_name"] == queue["name"] == "forecourt-dev-training"
    assert out["batch_job_queue_arn"] == queue["arn"]
    assert out["batch_job_definition_name"] == job["name"]
    assert out["batch_job_definition_arn"] == job["arn"]
    assert out["sns_topic_arn"] == topic
    assert out["metrics_namespace"] == "Forecourt"
    assert (out["environment"], out["region"]) == ("dev", "eu-west-1")
    assert out["dags_bucket"] == buckets["dags"]
    assert out["batch_job_environment"] == _env(job["container_properties"])
    deploy_env = json.loads(out["batch_job_environment"]["FORECOURT_SAGEMAKER"])
    assert deploy_env == out["sagemaker_deploy_config"]
    assert (
        out.get("mwaa_airflow_configuration_options") is None
    )  # MWAA off on moto (null: no output)


def _planned(plan: dict, address: str) -> tuple[dict, dict]:
    (change,) = [c for c in plan["resource_changes"] if c["address"] == address]
    return change["change"]["after"], change["change"]["after_unknown"]


def test_mwaa_gets_the_same_settings_and_pinned_uploads(dev_stack):
    """The plan adding MWAA: its forecourt.* options carry the jobs' settings (the managed
    MLflow server now, since mlflow_tracking_uri is unset), and the environment is pinned to
    the versions of the plugins.zip, requirements.txt and startup.sh objects it uploads."""
    plan, buckets = dev_stack["plan"], dev_stack["outputs"]["stack"]["bucket_names"]
    mwaa, unknown = _planned(plan, MWAA)
    topic = dev_stack["outputs"]["sns_topic_arn"]
    _, partition, _, region, account, _ = dev_stack["outputs"]["batch_job_queue_arn"].split(":")
    mlflow_arn = (
        f"arn:{partition}:sagemaker:{region}:{account}:mlflow-tracking-server/forecourt-dev-mlflow"
    )
    options = mwaa["airflow_configuration_options"]
    assert {k: v for k, v in options.items() if k.startswith("forecourt.")} == {
        "forecourt.runner": "batch",
        "forecourt.batch_job_queue": "forecourt-dev-training",
        "forecourt.batch_job_definition": "forecourt-dev-training",
        "forecourt.batch_deferrable": "true",
        "forecourt.store": f"s3://{buckets['data']}/store",
        "forecourt.runs": f"s3://{buckets['artifacts']}/runs",
        "forecourt.mlflow_tracking_uri": mlflow_arn,
        "forecourt.metrics": "cloudwatch",
        "forecourt.metrics_namespace": "Forecourt",
        "forecourt.env": "dev",
        "forecourt.sns_topic_arn": topic,
        # the promotion DAG: dev has a reader (preprod) so an outbox, and no source (the
        # option is left out: MWAA refuses empty values, the DAG reads it as empty)
        "forecourt.promotion_outbox": dev_stack["outputs"]["promotion_outbox_uri"],
    }
    assert dev_stack["outputs"]["promotion_outbox_uri"] == f"s3://{buckets['artifacts']}/promotions"
    assert dev_stack["outputs"].get("promotion_source_uri") is None
    # the jobs get the same tracking server in the same plan
    job, _ = _planned(plan, JOB_DEFINITION)
    assert _env(job["container_properties"])["FORECOURT_MLFLOW_TRACKING_URI"] == mlflow_arn
    (server,) = [
        c for c in plan["resource_changes"] if c["type"] == "aws_sagemaker_mlflow_tracking_server"
    ]
    assert server["change"]["after"]["tracking_server_name"] == "forecourt-dev-mlflow"

    # uploads: what, from where, and MWAA pinned to the versions they will get
    uploads = {
        c["change"]["after"]["key"]: c["change"]["after"]
        for c in plan["resource_changes"]
        if c["type"] == "aws_s3_object"
    }
    assert uploads["plugins.zip"]["source"] == str(dev_stack["plugins_zip"])
    assert uploads["requirements.txt"]["source"].endswith("docker/mwaa/requirements.txt")
    assert uploads["startup.sh"]["source"].endswith("docker/mwaa/startup.sh")
    assert {k for k in uploads if k.startswith("dags/")} == {
        f"dags/{f.name}" for f in (ROOT / "dags").glob("*.py")
    }
    assert all(u["bucket"] == buckets["dags"] for u in uploads.values())
    assert (mwaa["plugins_s3_path"], mwaa["requirements_s3_path"]) == (
        "plugins.zip",
        "requirements.txt",
    )
    assert mwaa["startup_script_s3_path"] == "startup.sh"
    for attr in (
        "plugins_s3_object_version",
        "requirements_s3_object_version",
        "startup_script_s3_object_version",
    ):  # known once the objects exist: the version id of the upload in this same plan
        assert unknown.get(attr) is True, (attr, mwaa.get(attr))
    expressions = plan["configuration"]["root_module"]["module_calls"]["forecourt"]["module"][
        "module_calls"
    ]["mwaa"]["expressions"]
    for attr, key in (
        ("plugins_s3_object_version", "plugins.zip"),
        ("requirements_s3_object_version", "requirements.txt"),
        ("startup_script_s3_object_version", "startup.sh"),
    ):
        assert f'aws_s3_object.airflow["{key}"].version_id' in expressions[attr]["references"]


def test_a_missing_plugins_zip_fails_the_plan_saying_how_to_build_it(dev_stack, tmp_path):
    missing = tmp_path / "nowhere" / "plugins.zip"
    args = [*dev_stack["full_args"], "-var", f"plugins_zip_path={missing}"]
    with pytest.raises(AssertionError) as failed:
        tf(["plan", "-input=false", "-refresh=false", *args], dev_stack["cwd"], dev_stack["env"])
    message = " ".join(str(failed.value).split())
    assert f"{missing} does not exist" in message, message[-3000:]
    assert "python3 docker/mwaa/build_plugins.py" in message, message[-3000:]
