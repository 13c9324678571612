"""The accounts around the stacks, for real against a local AWS (moto): the log-archive account
that holds the organization trail's bucket and key (terraform/organization, then
terraform/log-archive through OrganizationAccountAccessRole, then the organization's trail
pointed at it), and the cross-account promotion plumbing of the account stacks (dev proposes
-> preprod validates -> prod serves exactly preprod's artifact).

moto checks a trail's bucket in the trail's own account, so the last step (the organization
trail, in the management account, writing into the log-archive account's bucket) is planned,
not applied; the module tests (terraform test) hold the rest.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from terraform_tools import (
    TERRAFORM,
    MotoServer,
    init,
    resources_in_state,
    state_resources,
    tf,
    tf_env,
)

pytestmark = pytest.mark.terraform

APPLY_TIMEOUT_S = 420
REGION = "us-east-1"
ACCOUNTS = '{dev="dev@example.com", preprod="preprod@example.com", prod="prod@example.com"}'


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A copy of terraform/ with local state instead of S3."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(
        TERRAFORM, repo / "terraform", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*")
    )
    for root in ("organization", "log-archive", "envs/dev", "envs/preprod", "envs/prod"):
        (repo / "terraform" / root / "backend_override.tf").write_text(
            'terraform {\n  backend "local" {}\n}\n'
        )
    return repo / "terraform"


@pytest.fixture
def moto(tmp_path):
    server = MotoServer.start(tmp_path / "moto.log")
    yield server
    server.stop()


def _outputs(cwd: Path, env: dict) -> dict:
    raw = json.loads(tf(["output", "-json"], cwd, env, timeout=120))
    return {k: v["value"] for k, v in raw.items()}


def _statements(policy: str) -> dict[str, dict]:
    return {s.get("Sid", ""): s for s in json.loads(policy)["Statement"]}


def test_log_archive_account_holds_the_trail_bucket(moto, workspace):
    """organization (log-archive account in the security OU, SCPs on both OUs, no trail yet)
    -> log-archive (bucket + key in that account, through its access role) -> the
    organization's plan with the trail pointed at them."""
    env = tf_env(moto.aws_env(REGION))
    org, logs = workspace / "organization", workspace / "log-archive"
    org_args = [
        "-var",
        f"accounts={ACCOUNTS}",
        "-var",
        "log_archive_account_email=logs@example.com",
    ]
    org_args += ["-var", f"region={REGION}", "-var", f'allowed_regions=["{REGION}"]']
    init(org, env, backend=True)
    init(logs, env, backend=True)
    log_args: list[str] = []
    try:
        tf(["apply", "-auto-approve", "-input=false", *org_args], org, env, APPLY_TIMEOUT_S)
        out = _outputs(org, env)
        made = resources_in_state(org, env)
        assert "aws_organizations_account.log_archive" in made
        assert "aws_organizations_organizational_unit.security" in made
        assert not any(a.startswith("aws_cloudtrail.") for a in made), made
        assert len([a for a in made if a.startswith("aws_organizations_policy_attachment.")]) == 4
        archive = out["log_archive"]
        assert archive["log_archive_account_id"] == out["log_archive_account_id"]
        assert archive["log_archive_account_id"] not in out["account_ids"].values()
        assert archive["log_archive_account_id"] != out["management_account_id"]
        guardrails = {s["Sid"]: s for s in out["scp_documents"]["guardrails"]["Statement"]}
        bucket_stmt = guardrails["DenyTrailLogBucketTampering"]
        assert f"arn:aws:s3:::{out['log_bucket_name']}/*" in bucket_stmt["Resource"]
        assert bucket_stmt["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
            archive["access_role_arn"]
        ]

        log_args = ["-var", f"region={REGION}", "-var", "force_destroy_log_buckets=true"]
        for k in ("log_archive_account_id", "organization_id", "org_trail_arn"):
            log_args += ["-var", f"{k}={archive[k]}"]
        tf(["apply", "-auto-approve", "-input=false", *log_args], logs, env, APPLY_TIMEOUT_S)
        state = json.loads(tf(["show", "-json"], logs, env, timeout=120))
        found = state_resources(state)
        bucket = found["aws_s3_bucket.trail"]["values"]
        key = found["aws_kms_key.trail"]["values"]
        # made in the log-archive account (the provider assumed its access role)
        assert bucket["bucket"] == out["log_bucket_name"]
        assert key["arn"].split(":")[4] == archive["log_archive_account_id"]
        assert bucket["object_lock_enabled"] is True
        policy = _statements(found["aws_s3_bucket_policy.trail"]["values"]["policy"])
        assert (
            policy["CloudTrailWritesLogs"]["Condition"]["StringEquals"]["aws:SourceArn"]
            == (archive["org_trail_arn"])
        )
        assert policy["DenyInsecureTransport"]["Effect"] == "Deny"
        assert policy["DenyLogDeletion"]["Effect"] == "Deny"
        key_policy = _statements(key["policy"])
        assert (
            key_policy["CloudTrailEncryptsLogs"]["Condition"]["StringEquals"]["aws:SourceArn"]
            == archive["org_trail_arn"]
        )
        logs_out = _outputs(logs, env)

        # the second apply of the organization: the trail into that bucket with that key
        trail_args = ["-var", f"trail_bucket_name={logs_out['trail_bucket_name']}"]
        trail_args += ["-var", f"trail_kms_key_arn={logs_out['trail_kms_key_arn']}"]
        tf(["plan", "-input=false", "-out", "trail.plan", *org_args, *trail_args], org, env)
        plan = json.loads(tf(["show", "-json", "trail.plan"], org, env))
        (trail,) = [c for c in plan["resource_changes"] if c["type"] == "aws_cloudtrail"]
        after = trail["change"]["after"]
        assert trail["change"]["actions"] == ["create"]
        assert after["s3_bucket_name"] == logs_out["trail_bucket_name"]
        assert after["kms_key_id"] == logs_out["trail_kms_key_arn"]
        assert after["is_organization_trail"] and after["is_multi_region_trail"]
        assert after["enable_log_file_validation"]
        scp = [
            c for c in plan["resource_changes"]
            if c["address"] == 'aws_organizations_policy.scp["guardrails"]'
        ]  # fmt: skip
        content = json.loads(scp[0]["change"]["after"]["content"])
        key_stmt = {s["Sid"]: s for s in content["Statement"]}["DenyTrailKeyTampering"]
        assert key_stmt["Resource"] == [logs_out["trail_kms_key_arn"]]
    finally:
        try:
            if log_args:
                tf(
                    ["destroy", "-auto-approve", "-input=false", *log_args],
                    logs,
                    env,
                    APPLY_TIMEOUT_S,
                )
                assert resources_in_state(logs, env) == []
        finally:
            tf(["destroy", "-auto-approve", "-input=false", *org_args], org, env, APPLY_TIMEOUT_S)
            assert resources_in_state(org, env) == []


def _tfvars(account: str) -> str:
    return (TERRAFORM / "envs" / account / "terraform.tfvars").read_text()


def _account_id(account: str) -> str:
    return re.search(r'^account_id\s*=\s*"(\d{12})"', _tfvars(account), re.M).group(1)


def test_promotion_chain_in_the_account_values():
    """dev's readers = [preprod], preprod's = [prod], prod's = []; preprod reads dev's outbox,
    prod reads preprod's."""
    ids = {a: _account_id(a) for a in ("dev", "preprod", "prod")}

    def readers(account: str) -> list[str]:
        m = re.search(r"^promotion_reader_account_ids\s*=\s*\[([^\]]*)\]", _tfvars(account), re.M)
        return re.findall(r'"(\d{12})"', m.group(1))

    def source(account: str) -> tuple[str, str, str] | None:
        m = re.search(r"^promotion_source\s*=\s*\{(.*?)^\}", _tfvars(account), re.M | re.S)
        if not m:
            return None
        body = m.group(1)
        return tuple(
            re.search(rf'{k}\s*=\s*"([^"]+)"', body).group(1)
            for k in ("account_id", "bucket", "prefix")
        )  # type: ignore[return-value]  # noqa: E501

    assert readers("dev") == [ids["preprod"]]
    assert readers("preprod") == [ids["prod"]]
    assert readers("prod") == []
    assert source("dev") is None
    assert source("preprod") == (ids["dev"], f"forecourt-dev-{ids['dev']}-artifacts", "promotions")
    assert source("prod") == (
        ids["preprod"],
        f"forecourt-preprod-{ids['preprod']}-artifacts",
        "promotions",
    )


def test_preprod_plan_reads_devs_outbox_and_shares_its_own_with_prod(moto, workspace):
    """The PreProd stack's plan (its own terraform.tfvars): its artifacts bucket and key let
    Prod read promotions/ only, its training job role reads Dev's outbox only, and its outputs
    give the application both URIs."""
    env = tf_env(moto.aws_env("eu-west-1"))
    cwd = workspace / "envs/preprod"
    args = ["-var", "enable_mwaa=false", "-var", "enable_mlflow=false"]
    args += [
        "-var",
        "upload_airflow_files=false",
        "-var",
        "mlflow_tracking_uri=http://mlflow.test:5000",
    ]
    init(cwd, env, backend=True)
    tf(["plan", "-input=false", "-out", "preprod.plan", *args], cwd, env, APPLY_TIMEOUT_S)
    plan = json.loads(tf(["show", "-json", "preprod.plan"], cwd, env, timeout=120))
    changes = {c["address"]: c["change"] for c in plan["resource_changes"]}
    outputs = {k: v.get("value") for k, v in plan["planned_values"].get("outputs", {}).items()}
    preprod, prod, dev = (_account_id(a) for a in ("preprod", "prod", "dev"))
    artifacts = f"forecourt-preprod-{preprod}-artifacts"

    assert outputs["promotion_outbox_uri"] == f"s3://{artifacts}/promotions"
    assert outputs["promotion_source_uri"] == f"s3://forecourt-dev-{dev}-artifacts/promotions"

    # the bucket policy is known only once the key exists: apply the storage module (and the
    # key it needs) on moto, read them back, destroy them
    target = ["-target=module.forecourt.module.storage", "-target=module.forecourt.module.kms"]
    try:
        tf(["apply", "-auto-approve", "-input=false", *target, *args], cwd, env, APPLY_TIMEOUT_S)
        found = state_resources(json.loads(tf(["show", "-json"], cwd, env, timeout=120)))
    finally:
        tf(["destroy", "-auto-approve", "-input=false", *target, *args], cwd, env, APPLY_TIMEOUT_S)
    policies = {
        p: found[f'module.forecourt.module.storage.aws_s3_bucket_policy.this["{p}"]']["values"][
            "policy"
        ]
        for p in ("data", "artifacts", "dags")
    }
    stmts = _statements(policies["artifacts"])
    get = stmts["PromotionReadersGetObject"]
    assert get["Effect"] == "Allow"
    assert get["Principal"] == {"AWS": f"arn:aws:iam::{prod}:root"}
    assert get["Resource"] == f"arn:aws:s3:::{artifacts}/promotions/*"
    assert get["Condition"]["StringEquals"]["aws:PrincipalAccount"] == prod
    listing = stmts["PromotionReadersListOutbox"]
    assert listing["Action"] == "s3:ListBucket"
    assert sorted(listing["Condition"]["StringLike"]["s3:prefix"]) == ["promotions", "promotions/*"]
    for purpose in ("data", "dags"):
        assert {s["Effect"] for s in json.loads(policies[purpose])["Statement"]} == {"Deny"}

    key = found["module.forecourt.module.kms.aws_kms_key.this"]["values"]
    decrypt = _statements(key["policy"])["PromotionReadersDecryptViaS3"]
    assert decrypt["Principal"] == {"AWS": f"arn:aws:iam::{prod}:root"}
    assert sorted(decrypt["Action"]) == ["kms:Decrypt", "kms:DescribeKey"]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"

    role_policy = changes["module.forecourt.aws_iam_role_policy.promotion_source_read[0]"]["after"]
    assert role_policy["role"] == "forecourt-preprod-training-job" or role_policy["role"] is None
    read = _statements(role_policy["policy"])
    assert read["ReadUpstreamOutboxObjects"]["Resource"] == (
        f"arn:aws:s3:::forecourt-dev-{dev}-artifacts/promotions/*"
    )
    assert read["DecryptUpstreamOutbox"]["Resource"] == f"arn:aws:kms:eu-west-1:{dev}:key/*"
    assert read["DecryptUpstreamOutbox"]["Condition"]["StringEquals"]["kms:ViaService"] == (
        "s3.eu-west-1.amazonaws.com"
    )

    # the security baseline, every part on outside the moto apply
    types = {c["type"] for c in plan["resource_changes"]}
    assert {
        "aws_guardduty_detector", "aws_guardduty_detector_feature",
        "aws_config_configuration_recorder", "aws_config_delivery_channel",
        "aws_config_config_rule", "aws_securityhub_account",
        "aws_securityhub_standards_subscription", "aws_accessanalyzer_analyzer",
        "aws_budgets_budget",
    } <= types  # fmt: skip
    (budget,) = [c for c in plan["resource_changes"] if c["type"] == "aws_budgets_budget"]
    assert float(budget["change"]["after"]["limit_amount"]) == float(
        re.search(r"^monthly_budget_usd\s*=\s*(\d+)", _tfvars("preprod"), re.M).group(1)
    )
