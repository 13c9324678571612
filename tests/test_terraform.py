"""Terraform, for real, offline: fmt, validate, `terraform test` (mocked providers), checkov
over the HCL and over a plan, and apply + destroy against a local moto server.

What these prove and what only AWS can: docs/deploy.md ("What is proven here").
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from terraform_tools import (
    ROOT,
    TERRAFORM,
    MotoServer,
    checkov_bin,
    init,
    resources_in_state,
    tf,
    tf_env,
)

pytestmark = pytest.mark.terraform

ROOTS = ["organization", "bootstrap", "envs/dev", "envs/preprod", "envs/prod"]
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
    out = subprocess.run(
        [str(checkov_bin()), *args, "-o", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
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
    for folder in ("dags", "plugins"):
        (repo / folder).mkdir()
        for f in (ROOT / folder).glob("*.py"):
            shutil.copy(f, repo / folder / f.name)
    (repo / "docker" / "mwaa").mkdir(parents=True)
    shutil.copy(ROOT / "docker/mwaa/requirements.txt", repo / "docker/mwaa/requirements.txt")
    for root in ROOTS:
        (repo / "terraform" / root / "backend_override.tf").write_text(
            'terraform {\n  backend "local" {}\n}\n'
        )
    return repo / "terraform"


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
    args = ["-var", f"accounts={accounts}", "-var", "force_destroy_log_buckets=true"]
    args += ["-var", "region=us-east-1", "-var", 'allowed_regions=["us-east-1","eu-west-1"]']
    made = _apply_destroy(workspace / "organization", env, args)
    for kind in (
        "aws_organizations_organization",
        "aws_organizations_account",
        "aws_organizations_policy",
        "aws_cloudtrail",
    ):
        assert any(f"{kind}." in a for a in made), (kind, made)


def test_bootstrap_applies_and_destroys(moto, workspace):
    env = tf_env(moto.aws_env())
    made = _apply_destroy(workspace / "bootstrap", env, ["-var", "deletion_protection=false"])
    assert any("aws_dynamodb_table" in a for a in made)
    assert any("aws_s3_bucket." in a for a in made)


def test_dev_account_applies_and_destroys_and_its_plan_passes_checkov(moto, workspace):
    """Everything moto supports is applied; then the plan that adds MWAA and the MLflow
    server to the live stack (every other value known, as on AWS after the first apply) is
    scanned by checkov as JSON; then everything is destroyed."""
    env = tf_env(moto.aws_env())
    off = ["-var", "enable_mwaa=false", "-var", "enable_mlflow=false"]
    off += ["-var", "upload_airflow_files=false"]  # moto: Deny without its TLS condition
    scanned = {}

    def scan_full_plan(cwd: Path, env: dict) -> None:
        full = ["-var", "enable_mwaa=true", "-var", "enable_mlflow=true"]
        full += ["-var", "upload_airflow_files=false"]
        tf(["plan", "-input=false", "-out", "full.plan", *full], cwd, env, APPLY_TIMEOUT_S)
        plan = tf(["show", "-json", "full.plan"], cwd, env)
        (cwd / "plan.json").write_text(plan)
        scanned["changes"] = {c["type"] for c in json.loads(plan)["resource_changes"]}
        scanned["checkov"] = _checkov(
            ["-f", str(cwd / "plan.json"), "--framework", "terraform_plan",
             "--repo-root-for-plan-enrichment", str(cwd)]
        )  # fmt: skip

    made = _apply_destroy(workspace / "envs/dev", env, off, then=scan_full_plan)
    print(f"\ndev stack on moto: {len(made)} resources applied and destroyed")
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
        "aws_sagemaker_endpoint",
        "aws_cloudwatch_dashboard",
        "aws_cloudwatch_metric_alarm",
        "aws_sns_topic",
        "aws_cloudwatch_event_rule",
    ):
        assert any(f"{kind}." in a for a in made), kind
    assert {"aws_mwaa_environment", "aws_sagemaker_mlflow_tracking_server"} <= scanned["changes"]
    s = scanned["checkov"]
    print(f"checkov (dev plan with MWAA): {s['passed']} passed, {s['failed']} failed, "
          f"{s['skipped']} skipped")  # fmt: skip
    assert s["failed"] == 0, "\n".join(s["failures"])
    assert s["passed"] > 150, s
