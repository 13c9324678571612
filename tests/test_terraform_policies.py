"""The stack's IAM policies, evaluated (not grepped), and the network and alarm settings that
go with them (issue 11, item 4).

The Dev stack is applied on a local moto server (as tests/test_terraform.py does), then
planned with MWAA, the MLflow server and the uploads; every role's rendered policy (inline,
attached customer-managed, attached AWS-managed from moto's copy of them) and its permission
boundary come from that plan's planned values, and the questions "may the deploy role do X to
Y?" are answered by the evaluator below.

The evaluator (`Principal.decide`): moto 5.2.5 does not implement `iam:SimulatePrincipalPolicy`
or `SimulateCustomPolicy` (its IAM backend has neither; the names appear only inside AWS-managed
policy documents), so this file carries a small, documented one.
A small IAM policy evaluator, for tests: enough of AWS's evaluation logic to ask "may this
principal do ACTION on RESOURCE with this request context?" of the policies Terraform renders.

Why our own: moto 5.2.5 has no `iam:SimulatePrincipalPolicy`/`SimulateCustomPolicy` (its IAM
backend does not implement them; only AWS-managed policy documents mention the actions), and
the tests run offline.

What it implements (and nothing more; the tests use only this):
- identity policies + an optional permissions boundary: allowed iff no explicit Deny in either,
  an Allow in the identity policies and, with a boundary, an Allow in the boundary too
  (resource policies, SCPs and session policies are out of scope);
- `Action`/`NotAction` with `*` and `?` wildcards, case-insensitive;
- `Resource`/`NotResource` with `*` and `?` wildcards, case-sensitive;
- conditions: every operator in a block and every key under an operator must hold (AND), any
  value of a key may match (OR). Operators: StringEquals, StringNotEquals, StringLike,
  StringNotLike, ArnEquals, ArnNotEquals, ArnLike, ArnNotLike, Bool, NumericLessThan,
  NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals, Null; the `...IfExists`
  suffix; the `ForAnyValue:`/`ForAllValues:` set prefixes for multivalued keys.
  A key absent from the context: a positive operator is false, a negated one (`...Not...`)
  true, `...IfExists` true, `ForAnyValue:` false, `ForAllValues:` true, `Null` true iff its
  value is "true". Condition keys are matched case-insensitively (as AWS does).

Every assertion can fail: the evaluator is tested on crafted policies (each operator, Deny over
Allow, NotAction, the boundary), and the escalation check is run on the deploy policy this
module used to have, where it must find the paths.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data
from terraform_tools import (
    ROOT,
    TERRAFORM,
    MotoServer,
    build_plugins_zip,
    init,
    state_resources,
    tf,
    tf_env,
)

try:  # the security baseline's switches for what moto lacks, kept in one place
    from test_terraform import MOTO_LACKS
except ImportError:  # pragma: no cover
    MOTO_LACKS = []

pytestmark = pytest.mark.terraform

# ---- the evaluator -------------------------------------------------------------------------------
ALLOW, DENY, IMPLICIT = "Allow", "ExplicitDeny", "ImplicitDeny"


def _list(x) -> list:
    return x if isinstance(x, list) else [x]


def _wild(pattern: str, value: str, case: bool) -> bool:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.IGNORECASE) is not None


def _op_match(base: str, policy_value: str, value: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return value == policy_value if base == "StringEquals" else _wild(policy_value, value, True)
    if base in ("StringLike", "ArnLike"):
        return _wild(policy_value, value, True)
    if base == "StringEqualsIgnoreCase":
        return value.lower() == policy_value.lower()
    if base == "Bool":
        return str(value).lower() == str(policy_value).lower()
    if base.startswith("Numeric"):
        a, b = float(value), float(policy_value)
        return {
            "NumericEquals": a == b,
            "NumericLessThan": a < b,
            "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b,
            "NumericGreaterThanEquals": a >= b,
        }[base]
    raise NotImplementedError(f"condition operator {base}")


NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "NumericNotEquals": "NumericEquals",
}


def condition_holds(operator: str, key: str, policy_values, context: dict) -> bool:
    ctx = {k.lower(): v for k, v in context.items()}
    present = key.lower() in ctx
    values = [str(v) for v in _list(policy_values)]
    op = operator
    set_op = None
    if ":" in op:
        set_op, op = op.split(":", 1)
        assert set_op in ("ForAnyValue", "ForAllValues"), operator
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    if op == "Null":
        return (not present) == (values[0].lower() == "true")
    if not present:
        if if_exists:
            return True
        if set_op == "ForAnyValue":
            return False
        if set_op == "ForAllValues":
            return True
        return op in NEGATED
    ctx_values = [str(v) for v in _list(ctx[key.lower()])]
    negated = op in NEGATED
    base = NEGATED.get(op, op)

    def one(v: str) -> bool:
        hit = any(_op_match(base, pv, v) for pv in values)
        return not hit if negated else hit

    if set_op == "ForAllValues":
        return all(one(v) for v in ctx_values)
    # ForAnyValue, and single-valued keys (a list in the context is read as any-of)
    return any(one(v) for v in ctx_values)


def statement_applies(stmt: dict, action: str, resource: str, context: dict) -> bool:
    if "Action" in stmt:
        if not any(_wild(p, action, case=False) for p in _list(stmt["Action"])):
            return False
    elif "NotAction" in stmt:
        if any(_wild(p, action, case=False) for p in _list(stmt["NotAction"])):
            return False
    else:
        return False
    if "Resource" in stmt:
        if not any(_wild(p, resource, case=True) for p in _list(stmt["Resource"])):
            return False
    elif "NotResource" in stmt and any(
        _wild(p, resource, case=True) for p in _list(stmt["NotResource"])
    ):
        return False
    for operator, keys in (stmt.get("Condition") or {}).items():
        for key, values in keys.items():
            if not condition_holds(operator, key, values, context):
                return False
    return True


def _statements(policy) -> list[dict]:
    doc = json.loads(policy) if isinstance(policy, str) else policy
    return _list(doc.get("Statement", []))


def _decide(policies: list, action: str, resource: str, context: dict) -> str:
    allowed = False
    for policy in policies:
        for stmt in _statements(policy):
            if statement_applies(stmt, action, resource, context):
                if stmt.get("Effect") == "Deny":
                    return DENY
                allowed = True
    return ALLOW if allowed else IMPLICIT


@dataclass
class Principal:
    """A role as IAM sees it: its identity policies (inline and attached) and its boundary."""

    name: str
    policies: list = field(default_factory=list)
    boundary: dict | str | None = None

    def decide(self, action: str, resource: str, context: dict | None = None) -> str:
        context = context or {}
        identity = _decide(self.policies, action, resource, context)
        if identity == DENY:
            return DENY
        if self.boundary is not None:
            bounded = _decide([self.boundary], action, resource, context)
            if bounded == DENY:
                return DENY
            if bounded != ALLOW:
                return IMPLICIT
        return identity

    def allowed(self, action: str, resource: str, context: dict | None = None) -> bool:
        return self.decide(action, resource, context) == ALLOW


def allow_statements(policies: list) -> list[dict]:
    return [s for p in policies for s in _statements(p) if s.get("Effect") == "Allow"]


# ---- the evaluator, on crafted policies ----------------------------------------------------------


def _p(*statements, boundary=None) -> Principal:
    return Principal(
        "crafted", [{"Version": "2012-10-17", "Statement": list(statements)}], boundary
    )


def test_evaluator_allow_deny_and_wildcards():
    p = _p(
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"},
    )
    assert p.decide("s3:GetObject", "arn:aws:s3:::b/x") == ALLOW
    assert p.decide("S3:getobject", "arn:aws:s3:::b/x") == ALLOW  # actions: case-insensitive
    assert p.decide("s3:GetObject", "arn:aws:s3:::B/x") == IMPLICIT  # resources: case-sensitive
    assert p.decide("s3:GetObject", "arn:aws:s3:::b/secret/k") == DENY
    assert p.decide("s3:PutObject", "arn:aws:s3:::b/x") == IMPLICIT
    assert p.decide("s3:GetObject", "arn:aws:s3:::c/x") == IMPLICIT
    q = _p({"Effect": "Allow", "Action": "ec2:Describe?pcs", "Resource": "*"})
    assert q.allowed("ec2:DescribeVpcs", "*") and not q.allowed("ec2:DescribeVpcsX", "*")


def test_evaluator_not_action_and_not_resource():
    p = _p(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
        },
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::ok/*"},
    )
    assert p.decide("ec2:RunInstances", "*", {"aws:RequestedRegion": "us-east-1"}) == DENY
    assert p.decide("ec2:RunInstances", "*", {"aws:RequestedRegion": "eu-west-1"}) == ALLOW
    assert p.decide("iam:GetRole", "*", {"aws:RequestedRegion": "us-east-1"}) == ALLOW
    assert (
        p.decide("s3:GetObject", "arn:aws:s3:::ok/x", {"aws:RequestedRegion": "eu-west-1"}) == ALLOW
    )
    assert (
        p.decide("s3:GetObject", "arn:aws:s3:::no/x", {"aws:RequestedRegion": "eu-west-1"}) == DENY
    )
    # a negated operator matches when the key is absent
    assert p.decide("ec2:RunInstances", "*") == DENY


def test_evaluator_condition_operators():
    c = condition_holds
    assert c("StringEquals", "iam:PassedToService", ["a", "b"], {"iam:passedtoservice": "b"})
    assert not c("StringEquals", "iam:PassedToService", ["a"], {})
    assert c("StringNotEquals", "k", ["a"], {}) and not c("StringNotEquals", "k", ["a"], {"k": "a"})
    assert c("StringLike", "s3:prefix", ["runs/*"], {"s3:prefix": "runs/x/y"})
    assert not c("StringLike", "s3:prefix", ["runs/*"], {"s3:prefix": "models/x"})
    assert c("StringNotLike", "k", ["x*"], {"k": "y"})
    assert c(
        "ArnLike",
        "aws:SourceArn",
        ["arn:aws:ecs:*:1:*"],
        {"aws:SourceArn": "arn:aws:ecs:eu-west-1:1:task/x"},
    )
    assert c(
        "ArnEquals",
        "ec2:Vpc",
        ["arn:aws:ec2:r:1:vpc/vpc-1"],
        {"ec2:Vpc": "arn:aws:ec2:r:1:vpc/vpc-1"},
    )
    assert not c(
        "ArnEquals",
        "ec2:Vpc",
        ["arn:aws:ec2:r:1:vpc/vpc-1"],
        {"ec2:Vpc": "arn:aws:ec2:r:1:vpc/vpc-2"},
    )
    assert c("ArnNotLike", "k", ["arn:aws:iam::1:role/x"], {"k": "arn:aws:iam::1:role/y"})
    assert c("Bool", "aws:MultiFactorAuthPresent", ["true"], {"aws:MultiFactorAuthPresent": True})
    assert c("NumericLessThan", "aws:MultiFactorAuthAge", ["3600"], {"aws:MultiFactorAuthAge": 10})
    assert c("Null", "aws:TagKeys", ["true"], {}) and not c(
        "Null", "aws:TagKeys", ["true"], {"aws:TagKeys": ["a"]}
    )
    assert c("Null", "aws:TagKeys", ["false"], {"aws:TagKeys": ["a"]})
    assert c("StringEqualsIfExists", "k", ["a"], {}) and not c(
        "StringEqualsIfExists", "k", ["a"], {"k": "b"}
    )
    assert c(
        "ForAnyValue:StringEquals", "aws:TagKeys", ["Project"], {"aws:TagKeys": ["Name", "Project"]}
    )
    assert not c("ForAnyValue:StringEquals", "aws:TagKeys", ["Project"], {"aws:TagKeys": ["Name"]})
    assert not c("ForAnyValue:StringEquals", "aws:TagKeys", ["Project"], {})
    assert c("ForAllValues:StringEquals", "aws:TagKeys", ["A", "B"], {"aws:TagKeys": ["A"]})
    assert not c("ForAllValues:StringEquals", "aws:TagKeys", ["A"], {"aws:TagKeys": ["A", "C"]})
    assert c("ForAllValues:StringEquals", "aws:TagKeys", ["A"], {})
    # several keys under one operator: all must hold
    p = _p(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": "batch.amazonaws.com",
                    "aws:RequestedRegion": "eu-west-1",
                }
            },
        }
    )
    assert p.allowed(
        "iam:PassRole",
        "r",
        {"iam:PassedToService": "batch.amazonaws.com", "aws:RequestedRegion": "eu-west-1"},
    )
    assert not p.allowed("iam:PassRole", "r", {"iam:PassedToService": "batch.amazonaws.com"})


def test_evaluator_boundary_caps_identity():
    boundary = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        ]
    }
    p = _p({"Effect": "Allow", "Action": "*", "Resource": "*"}, boundary=boundary)
    assert p.decide("s3:GetObject", "x") == ALLOW
    assert p.decide("ec2:RunInstances", "x") == IMPLICIT  # outside the boundary
    assert p.decide("s3:DeleteBucket", "x") == DENY
    q = _p({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "a"}, boundary=boundary)
    assert q.decide("s3:PutObject", "a") == IMPLICIT  # the boundary grants nothing by itself


# ---- the Dev stack: applied on moto, then planned with MWAA and the uploads -------------------

# the provider assumes the deploy role in the account of the Dev tfvars (moto answers as it)
ACCOUNT = re.search(
    r'^account_id\s*=\s*"(\d{12})"',
    (TERRAFORM / "envs/dev/terraform.tfvars").read_text(),
    re.MULTILINE,
).group(1)
REGION = "eu-west-1"
PREFIX = "forecourt-dev"
IAM = f"arn:aws:iam::{ACCOUNT}"
BOUNDARY = f"{IAM}:policy/{PREFIX}-workload-boundary"
DEPLOY, ADMIN = f"{PREFIX}-deploy", f"{PREFIX}-admin"
BREAK_GLASS = "OrganizationAccountAccessRole"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
STACK_TAG = {"aws:RequestTag/Project": "forecourt"}
ON_STACK = {"aws:ResourceTag/Project": "forecourt"}
APPLY_TIMEOUT_S = 420


def role_arn(name: str) -> str:
    return f"{IAM}:role/{name}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """planned_values and configuration of the Dev stack's full plan (MWAA, MLflow, uploads)
    on top of the Dev stack applied on moto (so bucket, key and topic ARNs are known and every
    policy renders). Not destroyed: the moto server and the local state go with the test."""
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
    cwd = repo / "terraform" / "envs" / "dev"
    (cwd / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    plugins = build_plugins_zip(tmp_path_factory.mktemp("mwaa-build") / "plugins.zip")
    server = MotoServer.start(tmp_path_factory.mktemp("moto-policies") / "moto.log")
    try:
        env = tf_env(server.aws_env(REGION))
        zip_var = ["-var", f"plugins_zip_path={plugins}"]
        first = ["-var", "enable_mwaa=false", "-var", "enable_mlflow=false"]
        first += ["-var", "upload_airflow_files=false"]
        first += ["-var", "mlflow_tracking_uri=http://mlflow.forecourt.test:5000", *zip_var]
        first += MOTO_LACKS
        full = ["-var", "enable_mwaa=true", "-var", "enable_mlflow=true"]
        full += [
            "-var",
            "upload_airflow_files=true",
            "-var",
            'mwaa_ui_allowed_cidrs=["10.8.0.0/16"]',
        ]
        full += MOTO_LACKS
        # planned only (never applied here): the budget, to render the topic policy that lets
        # it notify the alarm topic
        full += ["-var", "enable_budget=true"]
        init(cwd, env, backend=True)
        tf(["apply", "-auto-approve", "-input=false", *first], cwd, env, APPLY_TIMEOUT_S)
        tf(
            ["plan", "-input=false", "-out", "full.plan", *full, *zip_var],
            cwd,
            env,
            APPLY_TIMEOUT_S,
        )
        plan = json.loads(tf(["show", "-json", "full.plan"], cwd, env, timeout=120))
    finally:
        server.stop()
    return {"resources": state_resources(plan), "plan": plan}


def _of_type(rendered, kind: str) -> dict[str, dict]:
    return {a: r["values"] for a, r in rendered["resources"].items() if r["type"] == kind}


@pytest.fixture(scope="module")
def principals(rendered) -> dict[str, Principal]:
    """Every role of the plan, by name, with its inline and attached policies and boundary."""
    managed = json.loads(aws_managed_policies_data)
    customer = {v["arn"]: v["policy"] for v in _of_type(rendered, "aws_iam_policy").values()}
    # the boundary's ARN is unknown in no plan: it exists after the first apply
    assert BOUNDARY in customer, sorted(customer)
    found: dict[str, Principal] = {}
    for v in _of_type(rendered, "aws_iam_role").values():
        boundary = v.get("permissions_boundary")
        found[v["name"]] = Principal(v["name"], [], customer[boundary] if boundary else None)
        found[v["name"]].boundary_arn = boundary
        found[v["name"]].trust = v["assume_role_policy"]
    for v in _of_type(rendered, "aws_iam_role_policy").values():
        # the role's name (its id); unknown for a role this plan creates (MWAA's execution
        # role), whose inline policy modules/mwaa names after it
        role = v.get("role") or v["name"]
        assert v.get("policy"), f"inline policy of {role} not rendered"
        found[role].policies.append(v["policy"])
    for v in _of_type(rendered, "aws_iam_role_policy_attachment").values():
        arn = v["policy_arn"]
        if arn.startswith("arn:aws:iam::aws:policy/"):
            doc = managed[arn.rsplit("/", 1)[1]]["Document"]
        else:
            doc = customer[arn]
        assert v.get("role"), f"attachment of {arn} to a role unknown at plan time"
        found[v["role"]].policies.append(doc)
    return found


@pytest.fixture(scope="module")
def deploy(principals) -> Principal:
    return principals[DEPLOY]


@pytest.fixture(scope="module")
def boundary_policy(rendered) -> dict:
    (doc,) = [
        v["policy"] for v in _of_type(rendered, "aws_iam_policy").values() if v["arn"] == BOUNDARY
    ]
    return json.loads(doc)


# ---- the escalation checks, as functions (so they can be run on a crafted vulnerable policy) ---

PRIVILEGED = [role_arn(DEPLOY), role_arn(ADMIN), role_arn(BREAK_GLASS)]
IAM_WRITES = [
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UpdateRole",
]
SERVICES = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "batch.amazonaws.com",
    "sagemaker.amazonaws.com",
    "airflow.amazonaws.com",
    "glue.amazonaws.com",
]


def escalation_paths(p: Principal) -> list[str]:
    """What `p` may do that would let it (or whoever holds it) become more than it is."""
    found = []
    for target in PRIVILEGED:
        for action in IAM_WRITES:
            # the deploy/admin roles carry no boundary: the key is absent; try it present too
            for ctx in ({}, {"iam:PermissionsBoundary": BOUNDARY}):
                if p.allowed(action, target, ctx):
                    found.append(f"{action} on {target} {ctx}")
        for service in SERVICES:
            if p.allowed("iam:PassRole", target, {"iam:PassedToService": service}):
                found.append(f"PassRole {target} to {service}")
        if p.allowed("iam:PassRole", target, {}):
            found.append(f"PassRole {target} without iam:PassedToService")
    new_role = role_arn(f"{PREFIX}-anything")
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
        for ctx in ({}, {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}):
            if p.allowed(action, new_role, {**ctx, "iam:PolicyARN": f"{IAM}:policy/{PREFIX}-x"}):
                found.append(f"{action} on {new_role} with boundary {ctx or 'none'}")
    for action in (
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
        "iam:DeletePolicyVersion",
    ):
        if p.allowed(action, BOUNDARY):
            found.append(f"{action} on the boundary")
    for action in (
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "iam:*",
        "organizations:LeaveOrganization",
    ):
        if p.allowed(action, f"{IAM}:user/someone"):
            found.append(action)
    return found


def test_the_deploy_role_has_no_escalation_path(deploy):
    assert escalation_paths(deploy) == []


def test_the_escalation_check_finds_the_paths_of_an_unconditioned_deploy_policy():
    """The policy this module had: IAM writes and PassRole on role/<prefix>-* unconditioned."""
    vulnerable = Principal(
        "old-deploy",
        [
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "iam:CreateRole",
                            "iam:PutRolePolicy",
                            "iam:UpdateAssumeRolePolicy",
                            "iam:PassRole",
                            "iam:AttachRolePolicy",
                            "iam:CreatePolicyVersion",
                        ],
                        "Resource": [f"{IAM}:role/{PREFIX}-*", f"{IAM}:policy/{PREFIX}-*"],
                    }
                ]
            }
        ],
    )
    paths = escalation_paths(vulnerable)
    assert f"iam:PutRolePolicy on {role_arn(DEPLOY)} {{}}" in paths
    assert f"iam:UpdateAssumeRolePolicy on {role_arn(ADMIN)} {{}}" in paths
    assert f"PassRole {role_arn(ADMIN)} to ec2.amazonaws.com" in paths
    assert f"iam:CreateRole on {role_arn(PREFIX + '-anything')} with boundary none" in paths
    assert "iam:CreatePolicyVersion on the boundary" in paths


def test_the_deploy_role_creates_and_writes_roles_only_with_the_boundary(deploy):
    new_role = role_arn(f"{PREFIX}-new")
    with_boundary = {"iam:PermissionsBoundary": BOUNDARY}
    assert deploy.allowed("iam:CreateRole", new_role, with_boundary)
    assert deploy.allowed("iam:PutRolePolicy", new_role, with_boundary)
    assert not deploy.allowed("iam:CreateRole", new_role)
    assert not deploy.allowed("iam:PutRolePolicy", new_role)
    # outside the stack's names, even with the boundary
    assert not deploy.allowed("iam:CreateRole", role_arn("other-app"), with_boundary)
    # attach: the stack's policies and the AWS-managed ones it uses, never AdministratorAccess
    ok = {**with_boundary, "iam:PolicyARN": f"{IAM}:policy/{PREFIX}-pipeline-operator"}
    assert deploy.allowed("iam:AttachRolePolicy", new_role, ok)
    admin = {**with_boundary, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert deploy.decide("iam:AttachRolePolicy", new_role, admin) != ALLOW


def test_no_allow_grants_iam_star_or_a_wildcard_write_verb_on_star(principals):
    """No `iam:*` anywhere; on Resource "*" only read verbs and the calls that have no
    resource-level permissions (each named)."""
    no_resource_level = {
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        "kms:CreateKey",
        "kms:ListAliases",
        "kms:ListKeys",
        "logs:DescribeLogGroups",
        "batch:DescribeJobs",
        "batch:ListJobs",
        "batch:DescribeJobQueues",
        "batch:DescribeJobDefinitions",
        "cloudtrail:DescribeTrails",
        "s3:GetAccountPublicAccessBlock",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "ecs:CreateCluster",
        "ecs:DeregisterContainerInstance",
        "ecs:DiscoverPollEndpoint",
        "ecs:Poll",
        "ecs:RegisterContainerInstance",
        "ecs:StartTelemetrySession",
        "ecs:UpdateContainerInstancesState",
        "ecs:Submit*",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:Describe*",
        "batch:Describe*",
        "batch:List*",
        "sagemaker:List*",
        "sagemaker:ListModels",  # the deploy step's pruning (no resource-level permissions)
        "sagemaker:ListEndpointConfigs",
        "cloudwatch:Describe*",
        "cloudwatch:List*",
        "cloudwatch:GetMetricData",
    }
    aws_managed_reviewed = {f"{PREFIX}-batch-instance", f"{PREFIX}-batch-service", ADMIN}
    bad = []
    for name, p in principals.items():
        for s in allow_statements(p.policies):
            actions = [a for a in _list(s.get("Action", []))]
            if "NotAction" in s and name != ADMIN:  # the admin's PowerUserAccess: humans, MFA
                bad.append(f"{name}: Allow with NotAction")
            if any(a in ("*", "iam:*") for a in actions):
                bad.append(f"{name}: {actions}")
            if "*" in _list(s.get("Resource", [])) and name not in aws_managed_reviewed:
                bad += [f"{name}: {a} on *" for a in actions if a not in no_resource_level]
    assert bad == []


def test_passrole_names_the_services_of_each_role(deploy):
    expected = {
        f"{PREFIX}-training-job": {"batch.amazonaws.com", "ecs-tasks.amazonaws.com"},
        f"{PREFIX}-batch-instance": {"batch.amazonaws.com", "ec2.amazonaws.com"},
        f"{PREFIX}-batch-service": {"batch.amazonaws.com"},
        f"{PREFIX}-sagemaker-execution": {"sagemaker.amazonaws.com"},
        f"{PREFIX}-mlflow": {"sagemaker.amazonaws.com"},
        f"{PREFIX}-mwaa-execution": {"airflow.amazonaws.com"},
        f"{PREFIX}-vpc-flow-logs": {"vpc-flow-logs.amazonaws.com"},
    }
    everything = set(SERVICES) | {s for v in expected.values() for s in v}
    for role, services in expected.items():
        got = {
            s
            for s in everything
            if deploy.allowed("iam:PassRole", role_arn(role), {"iam:PassedToService": s})
        }
        assert got == services, role
        assert not deploy.allowed("iam:PassRole", role_arn(role), {}), role


def test_every_stack_role_but_deploy_and_admin_carries_the_boundary(principals):
    """The deploy role may UpdateAssumeRolePolicy/DeleteRole on role/<prefix>-* (verbs without
    the iam:PermissionsBoundary key): safe only while every such role is bounded."""
    unbounded = [
        n
        for n, p in principals.items()
        if n.startswith(f"{PREFIX}-") and n not in (DEPLOY, ADMIN) and p.boundary_arn != BOUNDARY
    ]
    assert unbounded == []
    assert {f"{PREFIX}-mwaa-execution", f"{PREFIX}-vpc-flow-logs"} <= set(principals)


def test_the_boundary_caps_even_an_all_powerful_policy(boundary_policy):
    god = Principal(
        "bounded",
        [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
        boundary_policy,
    )
    assert escalation_paths(god) == []
    assert not god.allowed(
        "iam:CreateRole", role_arn(f"{PREFIX}-x"), {"iam:PermissionsBoundary": BOUNDARY}
    )
    assert not god.allowed(
        "iam:PassRole",
        role_arn(f"{PREFIX}-training-job"),
        {"iam:PassedToService": "lambda.amazonaws.com"},
    )
    assert god.allowed(
        "iam:PassRole",
        role_arn(f"{PREFIX}-training-job"),
        {"iam:PassedToService": "batch.amazonaws.com", "aws:RequestedRegion": REGION},
    )
    assert not god.allowed(
        "s3:PutObject",
        f"arn:aws:s3:::{PREFIX}-{ACCOUNT}-dags/dags/x.py",
        {"aws:RequestedRegion": REGION},
    )
    assert not god.allowed("ec2:DescribeVpcs", "*", {"aws:RequestedRegion": "us-east-1"})


def test_the_deploy_role_can_apply_the_stack(deploy, rendered):
    """What `terraform apply` of the platform asks of IAM, from the plan's own resources."""
    r = {"aws:RequestedRegion": REGION}
    missing = []

    def need(action, resource, ctx=None):
        if not deploy.allowed(action, resource, {**r, **(ctx or {})}):
            missing.append(f"{action} {resource} {ctx or ''}")

    for v in _of_type(rendered, "aws_iam_role").values():
        if v["name"] in (DEPLOY, ADMIN):
            need("iam:GetRole", role_arn(v["name"]))
            continue
        for action in (
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
        ):
            need(action, role_arn(v["name"]), {"iam:PermissionsBoundary": BOUNDARY})
        for action in (
            "iam:GetRole",
            "iam:TagRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRole",
        ):
            need(action, role_arn(v["name"]))
    for v in _of_type(rendered, "aws_iam_role_policy_attachment").values():
        if v["role"] not in (DEPLOY, ADMIN):
            need(
                "iam:AttachRolePolicy",
                role_arn(v["role"]),
                {"iam:PermissionsBoundary": BOUNDARY, "iam:PolicyARN": v["policy_arn"]},
            )
    for v in _of_type(rendered, "aws_iam_policy").values():
        if v["arn"] != BOUNDARY:
            need("iam:CreatePolicyVersion", v["arn"])
    need("iam:CreateInstanceProfile", f"{IAM}:instance-profile/{PREFIX}-batch-instance")
    need("iam:AddRoleToInstanceProfile", f"{IAM}:instance-profile/{PREFIX}-batch-instance")
    for v in _of_type(rendered, "aws_cloudwatch_log_group").values():
        for action in (
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:TagResource",
            "logs:DeleteLogGroup",
        ):
            need(action, f"{LOGS}:{v['name']}")
    need("logs:DescribeLogGroups", "*")
    for bucket in _of_type(rendered, "aws_s3_bucket").values():
        need("s3:CreateBucket", f"arn:aws:s3:::{bucket['bucket']}")
        need("s3:PutObject", f"arn:aws:s3:::{bucket['bucket']}/dags/x.py")
    need("ec2:DescribeVpcs", "*")
    for action, resource in [
        ("ec2:CreateVpc", "vpc/*"),
        ("ec2:CreateSubnet", "subnet/*"),
        ("ec2:CreateSecurityGroup", "security-group/*"),
        ("ec2:AuthorizeSecurityGroupIngress", "security-group-rule/*"),
        ("ec2:CreateVpcEndpoint", "vpc-endpoint/*"),
        ("ec2:CreateLaunchTemplate", "launch-template/*"),
        ("ec2:AllocateAddress", "elastic-ip/*"),
        ("ec2:CreateFlowLogs", "vpc-flow-log/*"),
        ("ec2:CreateNatGateway", "natgateway/*"),
    ]:
        need(action, f"{EC2}:{resource}", STACK_TAG)  # the created resource, tag on create
        need("ec2:CreateTags", f"{EC2}:{resource}", {"ec2:CreateAction": action.split(":")[1]})
    for action, resource in [
        ("ec2:CreateSubnet", "vpc/vpc-1"),
        ("ec2:AuthorizeSecurityGroupIngress", "security-group/sg-1"),
        ("ec2:RevokeSecurityGroupEgress", "security-group/sg-1"),
        ("ec2:ModifyVpcAttribute", "vpc/vpc-1"),
        ("ec2:CreateRoute", "route-table/rtb-1"),
        ("ec2:AssociateRouteTable", "subnet/subnet-1"),
        ("ec2:CreateNatGateway", "subnet/subnet-1"),
        ("ec2:CreateNatGateway", "elastic-ip/eipalloc-1"),
        ("ec2:DeleteVpc", "vpc/vpc-1"),
        ("ec2:CreateLaunchTemplateVersion", "launch-template/lt-1"),
        ("ec2:CreateVpcEndpoint", "route-table/rtb-1"),
    ]:
        need(action, f"{EC2}:{resource}", ON_STACK)  # the parents, already carrying the tag
    need(
        "ec2:CreateTags",
        f"{EC2}:security-group/sg-default",
        {"aws:RequestTag/Name": f"{PREFIX}-default-deny", **STACK_TAG},
    )
    need(
        "ec2:CreateVpcEndpoint",
        f"{EC2}:vpc-endpoint/*",
        {"aws:RequestTag/AmazonMWAAManaged": "true"},
    )
    need(
        "airflow:CreateEnvironment", f"arn:aws:airflow:{REGION}:{ACCOUNT}:environment/{PREFIX}-mwaa"
    )
    need(
        "batch:CreateComputeEnvironment",
        f"arn:aws:batch:{REGION}:{ACCOUNT}:compute-environment/{PREFIX}-training-x",
    )
    need(
        "sagemaker:CreateEndpoint", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{PREFIX}-demand"
    )
    need("kms:CreateKey", "*")
    need(
        "iam:CreateServiceLinkedRole",
        f"{IAM}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch",
        {"iam:AWSServiceName": "batch.amazonaws.com"},
    )
    assert missing == []


def test_ec2_and_logs_writes_stay_on_the_stack(deploy):
    r = {"aws:RequestedRegion": REGION}
    foreign = {**r, "aws:ResourceTag/Project": "other"}
    assert not deploy.allowed(
        "ec2:AuthorizeSecurityGroupIngress", f"{EC2}:security-group/sg-other", foreign
    )
    assert not deploy.allowed("ec2:DeleteVpc", f"{EC2}:vpc/vpc-other", r)  # untagged
    assert not deploy.allowed(
        "ec2:CreateVpc", f"{EC2}:vpc/*", {**r, "aws:RequestTag/Project": "other"}
    )
    assert not deploy.allowed(
        "ec2:CreateTags", f"{EC2}:vpc/vpc-other", {**r, **STACK_TAG}
    )  # tag a foreign VPC in
    assert not deploy.allowed(
        "ec2:DeleteTags", f"{EC2}:vpc/vpc-1", {**r, **ON_STACK, "aws:TagKeys": ["Project"]}
    )
    assert deploy.allowed(
        "ec2:DeleteTags", f"{EC2}:vpc/vpc-1", {**r, **ON_STACK, "aws:TagKeys": ["Name"]}
    )
    for action in (
        "ec2:RunInstances",
        "ec2:TerminateInstances",
        "ec2:CreateNetworkInterface",
        "ec2:ModifyInstanceAttribute",
    ):
        assert not deploy.allowed(action, f"{EC2}:instance/i-1", {**r, **ON_STACK}), action
    assert not deploy.allowed("ec2:DescribeVpcs", "*", {"aws:RequestedRegion": "us-east-1"})
    assert not deploy.allowed("logs:DeleteLogGroup", f"{LOGS}:/aws/lambda/someone-else", r)
    assert not deploy.allowed("logs:PutRetentionPolicy", f"{LOGS}:aws-cloudtrail-logs", r)
    assert deploy.allowed("logs:DeleteLogGroup", f"{LOGS}:airflow-{PREFIX}-mwaa-Task", r)
    assert deploy.allowed(
        "logs:PutRetentionPolicy", f"{LOGS}:/aws/sagemaker/Endpoints/{PREFIX}-demand", r
    )


def test_workload_roles_stay_in_their_lane(principals):
    r = {"aws:RequestedRegion": REGION}
    job = principals[f"{PREFIX}-training-job"]
    mwaa = principals[f"{PREFIX}-mwaa-execution"]
    sm = principals[f"{PREFIX}-sagemaker-execution"]
    for p in (job, mwaa, sm):
        assert escalation_paths(p) == [], p.name
        assert not p.allowed(
            "iam:PassRole",
            role_arn(f"{PREFIX}-training-job"),
            {**r, "iam:PassedToService": "batch.amazonaws.com"},
        ), p.name
    assert job.allowed("logs:PutLogEvents", f"{LOGS}:/aws/batch/{PREFIX}-training:log-stream:x", r)
    assert not job.allowed("logs:PutLogEvents", f"{LOGS}:/aws/lambda/other:log-stream:x", r)
    assert mwaa.allowed("logs:PutLogEvents", f"{LOGS}:airflow-{PREFIX}-mwaa-Task", r)
    assert not mwaa.allowed("logs:PutLogEvents", f"{LOGS}:/aws/batch/{PREFIX}-training", r)
    assert sm.allowed(
        "logs:PutLogEvents", f"{LOGS}:/aws/sagemaker/Endpoints/{PREFIX}-demand:log-stream:x", r
    )
    assert not sm.allowed(
        "logs:PutLogEvents", f"{LOGS}:/aws/sagemaker/TrainingJobs:log-stream:x", r
    )
    # SageMaker's network interfaces: in the stack's VPC only
    eni = f"{EC2}:network-interface/eni-1"
    assert not sm.allowed(
        "ec2:CreateNetworkInterface", eni, {**r, "ec2:Vpc": f"{EC2}:vpc/vpc-other"}
    )
    assert not sm.allowed("ec2:CreateNetworkInterface", eni, r)


def test_sagemaker_network_interfaces_in_the_stack_vpc(principals, rendered):
    (vpc,) = _of_type(rendered, "aws_vpc").values()
    sm = principals[f"{PREFIX}-sagemaker-execution"]
    ctx = {"aws:RequestedRegion": REGION, "ec2:Vpc": vpc["arn"]}
    assert sm.allowed("ec2:CreateNetworkInterface", f"{EC2}:network-interface/eni-1", ctx)


def test_every_ec2_resource_carries_the_stack_tag(rendered):
    """The deploy role changes EC2 resources by their Project tag: all of them must carry it."""
    kinds = {
        "aws_vpc",
        "aws_subnet",
        "aws_route_table",
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_eip",
        "aws_security_group",
        "aws_default_security_group",
        "aws_vpc_endpoint",
        "aws_flow_log",
        "aws_launch_template",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    }
    untagged = [
        a
        for a, r in rendered["resources"].items()
        if r["type"] in kinds and (r["values"].get("tags_all") or {}).get("Project") != "forecourt"
    ]
    assert untagged == []


# ---- security groups ---------------------------------------------------------------------------


def test_one_security_group_per_workload_and_nothing_open_to_the_internet(rendered):
    groups = {v["name"]: v for v in _of_type(rendered, "aws_security_group").values()}
    assert {f"{PREFIX}-mwaa", f"{PREFIX}-batch", f"{PREFIX}-sagemaker"} <= set(groups)
    ingress = _of_type(rendered, "aws_vpc_security_group_ingress_rule").values()
    assert not [
        i for i in ingress if i.get("cidr_ipv4") == "0.0.0.0/0" or i.get("cidr_ipv6") == "::/0"
    ]
    egress = _of_type(rendered, "aws_vpc_security_group_egress_rule").values()
    assert all(
        e["ip_protocol"] == "-1"
        and e["referenced_security_group_id"]
        or e["from_port"] == e["to_port"] == 443
        for e in egress
    )
    ui = [i for i in ingress if i.get("cidr_ipv4") == "10.8.0.0/16"]
    assert len(ui) == 1 and ui[0]["from_port"] == ui[0]["to_port"] == 443
    # each workload gets its own group
    addr = "module.forecourt.module.{}"
    res = rendered["resources"]
    ce = res[addr.format("training.aws_batch_compute_environment.gpu")]["values"]
    mwaa = res[addr.format("mwaa[0].aws_mwaa_environment.this")]["values"]
    ids = {v["name"]: v["id"] for v in groups.values()}
    assert ce["compute_resources"][0]["security_group_ids"] == [ids[f"{PREFIX}-batch"]]
    assert mwaa["network_configuration"][0]["security_group_ids"] == [ids[f"{PREFIX}-mwaa"]]
    assert ui[0]["security_group_id"] == ids[f"{PREFIX}-mwaa"]


def test_mwaa_is_pinned_to_the_versions_of_all_three_uploads(rendered):
    res = rendered["resources"]
    mwaa = res["module.forecourt.module.mwaa[0].aws_mwaa_environment.this"]
    pinned = {
        "requirements_s3_object_version",
        "plugins_s3_object_version",
        "startup_script_s3_object_version",
    }
    change = next(
        c
        for c in rendered["plan"]["resource_changes"]
        if c["address"] == "module.forecourt.module.mwaa[0].aws_mwaa_environment.this"
    )
    # unknown until the uploads exist (same apply): after_unknown says they are wired, not null
    assert all(
        change["change"]["after_unknown"].get(k) is True or mwaa["values"].get(k) for k in pinned
    )


# ---- alarms: treat_missing_data on purpose ------------------------------------------------


def _alarm_configs(module: dict, path: str = "") -> list[tuple[str, dict]]:
    found = [
        (f"{path}{r['address']}", r.get("expressions", {}))
        for r in module.get("resources", [])
        if r["type"] == "aws_cloudwatch_metric_alarm"
    ]
    for name, call in (module.get("module_calls") or {}).items():
        found += _alarm_configs(call.get("module", {}), f"{path}module.{name}.")
    return found


def unset_treat_missing_data(configuration: dict) -> list[str]:
    return [
        a for a, e in _alarm_configs(configuration["root_module"]) if "treat_missing_data" not in e
    ]


def test_the_missing_data_check_catches_an_alarm_that_leaves_it_to_the_default():
    crafted = {
        "root_module": {
            "module_calls": {
                "m": {
                    "module": {
                        "resources": [
                            {
                                "address": "aws_cloudwatch_metric_alarm.a",
                                "type": "aws_cloudwatch_metric_alarm",
                                "expressions": {"metric_name": {}},
                            },
                            {
                                "address": "aws_cloudwatch_metric_alarm.b",
                                "type": "aws_cloudwatch_metric_alarm",
                                "expressions": {"treat_missing_data": {}},
                            },
                        ]
                    }
                }
            }
        }
    }
    assert unset_treat_missing_data(crafted) == ["module.m.aws_cloudwatch_metric_alarm.a"]


def test_every_alarm_sets_treat_missing_data_deliberately(rendered):
    plan = rendered["plan"]
    configured = _alarm_configs(plan["configuration"]["root_module"])
    assert len(configured) >= 6, configured
    assert unset_treat_missing_data(plan["configuration"]) == []
    alarms = _of_type(rendered, "aws_cloudwatch_metric_alarm")
    assert alarms
    for address, v in alarms.items():
        # the heartbeat (no recommendations written) breaches on silence; failures, errors and
        # latency exist only when something runs, so silence is fine
        want = "breaching" if "recommendations_missing" in address else "notBreaching"
        assert v["treat_missing_data"] == want, address


# ---- the deploy step: the training job role may deploy champions, and nothing more ---------

SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
SM_EXECUTION = f"{PREFIX}-sagemaker-execution"
DEPLOY_ACTIONS = [
    "sagemaker:CreateModel",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DeleteModel",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:AddTags",
    "sagemaker:ListTags",
]


def _deploy_resources(prefix: str) -> list[str]:
    """What rl_core.serving.deploy names for `prefix` (deploy.py model_name and friends)."""
    return [
        f"{SM}:model/{prefix}-demand-v7-0123abcd",
        f"{SM}:endpoint-config/{prefix}-demand-v7-89abcdef",
        f"{SM}:endpoint/{prefix}-demand",
    ]


@pytest.fixture(scope="module")
def deploy_config(rendered):
    """FORECOURT_SAGEMAKER as the Batch jobs get it, parsed by rl_core's own parser."""
    from rl_core.serving.deploy_config import DeployConfig

    job = rendered["resources"][
        "module.forecourt.module.training.aws_batch_job_definition.training"
    ]
    env = {
        e["name"]: e["value"]
        for e in json.loads(job["values"]["container_properties"])["environment"]
    }
    config = DeployConfig.from_env(env)
    assert config is not None, sorted(env)
    return config


def test_the_jobs_deploy_config_names_the_stacks_endpoints_role_and_bucket(deploy_config, rendered):
    assert deploy_config.endpoint_prefix == PREFIX
    assert deploy_config.execution_role_arn == role_arn(SM_EXECUTION)
    (artifacts,) = [
        v["bucket"] for v in _of_type(rendered, "aws_s3_bucket").values()
        if v["bucket"].endswith("-artifacts")
    ]  # fmt: skip
    assert deploy_config.model_artifacts_uri == f"s3://{artifacts}/models/serving"
    assert deploy_config.region == REGION


def test_the_job_role_may_deploy_the_stacks_champions(principals, deploy_config):
    job = principals[f"{PREFIX}-training-job"]
    r = {"aws:RequestedRegion": REGION}
    for resource in _deploy_resources(PREFIX):
        for action in DEPLOY_ACTIONS:
            assert job.allowed(action, resource, r), (action, resource)
    for action in ("sagemaker:ListModels", "sagemaker:ListEndpointConfigs"):
        assert job.allowed(action, "*", r), action
    # CreateModel passes the execution role, to SageMaker
    assert job.allowed(
        "iam:PassRole",
        deploy_config.execution_role_arn,
        {**r, "iam:PassedToService": "sagemaker.amazonaws.com"},
    )
    # the tarball: HeadObject (s3:GetObject) then PutObject, SSE-KMS with the stack key
    bucket, _, key = deploy_config.model_artifacts_uri.removeprefix("s3://").partition("/")
    tarball = f"arn:aws:s3:::{bucket}/{key}/demand/v7-0123456789ab/model.tar.gz"
    for action in ("s3:GetObject", "s3:PutObject"):
        assert job.allowed(action, tarball, r), action
    via_s3 = {**r, "kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert job.allowed(action, deploy_config.kms_key_arn, via_s3), action


def test_the_job_role_may_not_deploy_anything_else(principals, deploy_config):
    job = principals[f"{PREFIX}-training-job"]
    r = {"aws:RequestedRegion": REGION}
    for other in ("forecourt-prod", "someone"):
        for resource in _deploy_resources(other):
            for action in DEPLOY_ACTIONS:
                assert not job.allowed(action, resource, r), (action, resource)
    for action in (
        "sagemaker:DeleteEndpoint",
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreatePresignedDomainUrl",
        "sagemaker:InvokeEndpoint",
        "sagemaker:*",
    ):
        assert not job.allowed(action, f"{SM}:endpoint/{PREFIX}-demand", r), action
    # the execution role, to SageMaker only; no other role, to no other service
    for service in SERVICES + ["sagemaker.amazonaws.com"]:
        ctx = {**r, "iam:PassedToService": service}
        for name in (
            f"{PREFIX}-training-job",
            f"{PREFIX}-mlflow",
            f"{PREFIX}-batch-instance",
            f"{PREFIX}-mwaa-execution",
            "forecourt-prod-sagemaker-execution",
            DEPLOY,
            ADMIN,
            BREAK_GLASS,
        ):
            assert not job.allowed("iam:PassRole", role_arn(name), ctx), (name, service)
        if service != "sagemaker.amazonaws.com":
            assert not job.allowed("iam:PassRole", deploy_config.execution_role_arn, ctx), service
    assert not job.allowed("iam:PassRole", deploy_config.execution_role_arn, r)  # no service
    # tarballs only under the deploy prefix of the models/ folder; never the dags bucket
    bucket = deploy_config.model_artifacts_uri.removeprefix("s3://").partition("/")[0]
    assert not job.allowed("s3:PutObject", f"arn:aws:s3:::{bucket}/data-capture/x", r)
    assert not job.allowed("s3:PutObject", f"arn:aws:s3:::{PREFIX}-{ACCOUNT}-dags/dags/x.py", r)
    # and the escalation checks still find nothing
    assert escalation_paths(job) == []


def test_the_boundary_lets_the_job_pass_only_the_execution_role_to_sagemaker(boundary_policy):
    """The job's PassRole survives the boundary (which allows passing the stack's roles to
    their services), and an all-powerful bounded role still cannot pass a privileged one."""
    god = Principal(
        "bounded",
        [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
        boundary_policy,
    )
    ctx = {"aws:RequestedRegion": REGION, "iam:PassedToService": "sagemaker.amazonaws.com"}
    assert god.allowed("iam:PassRole", role_arn(SM_EXECUTION), ctx)
    for name in (DEPLOY, ADMIN, BREAK_GLASS):
        assert not god.allowed("iam:PassRole", role_arn(name), ctx), name


def test_the_job_role_writes_its_promotion_outbox(principals, rendered):
    """The promotion DAG's Batch jobs publish (dev) and forward (preprod) into this account's
    outbox, s3://<artifacts>/promotions (forecourt registry propose/receive --outbox)."""
    job = principals[f"{PREFIX}-training-job"]
    r = {"aws:RequestedRegion": REGION}
    (artifacts,) = [
        v["bucket"] for v in _of_type(rendered, "aws_s3_bucket").values()
        if v["bucket"].endswith("-artifacts")
    ]  # fmt: skip
    for action in ("s3:PutObject", "s3:GetObject"):
        assert job.allowed(action, f"arn:aws:s3:::{artifacts}/promotions/demand/x.json", r)
    assert job.allowed(
        "s3:ListBucket", f"arn:aws:s3:::{artifacts}", {**r, "s3:prefix": "promotions/demand/"}
    )


# ---- budget notifications reach the (KMS-encrypted) alarm topic -------------------------------


def _service_statements(policy, service: str) -> list[dict]:
    return [
        s
        for s in _statements(policy)
        if service in _list((s.get("Principal") or {}).get("Service", []))
    ]


def test_budgets_may_publish_to_the_alarm_topic_and_use_its_key(rendered):
    res = rendered["resources"]
    (budget,) = _of_type(rendered, "aws_budgets_budget").values()
    topic = res["module.forecourt.module.monitoring.aws_sns_topic.alarms"]["values"]
    assert {n["subscriber_sns_topic_arns"][0] for n in budget["notification"]} == {topic["arn"]}
    policy = res["module.forecourt.module.monitoring.aws_sns_topic_policy.alarms"]["values"]
    assert policy["arn"] == topic["arn"]
    doc = policy["policy"]
    # the existing publishers are still there
    for service in ("events.amazonaws.com", "cloudwatch.amazonaws.com"):
        assert _service_statements(doc, service), service
    stmts = _service_statements(doc, "budgets.amazonaws.com")
    assert len(stmts) == 1, stmts
    ctx = {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": f"arn:aws:budgets::{ACCOUNT}:budget/{PREFIX}-monthly",
    }
    assert _decide([{"Statement": stmts}], "sns:Publish", topic["arn"], ctx) == ALLOW
    for other in ({**ctx, "aws:SourceAccount": "999999999999"}, {}):
        assert _decide([{"Statement": stmts}], "sns:Publish", topic["arn"], other) == IMPLICIT
    assert _decide([{"Statement": stmts}], "sns:Subscribe", topic["arn"], ctx) == IMPLICIT

    # the topic is encrypted: the key must let Budgets make and open data keys
    (key,) = _of_type(rendered, "aws_kms_key").values()
    assert topic["kms_master_key_id"] == key["arn"]
    key_stmts = _service_statements(key["policy"], "budgets.amazonaws.com")
    assert key_stmts
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert _decide([{"Statement": key_stmts}], action, "*", {"aws:SourceAccount": ACCOUNT}) == (
            ALLOW
        ), action
        assert (
            _decide([{"Statement": key_stmts}], action, "*", {"aws:SourceAccount": "999999999999"})
            == IMPLICIT
        ), action
