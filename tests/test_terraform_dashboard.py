"""The CloudWatch dashboard and alarms read only metrics the code emits.

terraform/modules/monitoring is planned (real Terraform, the local provider mirror, a moto
server standing in for AWS) and the test reads what Terraform renders: the dashboard body
and every alarm's namespace, metric and dimensions. Each metric in namespace `Forecourt`
must be in rl_core/telemetry/catalogue.py with exactly its dimensions (+ Environment), and
every metric the code emits (found by reading the source for `emit(...)` calls) must be on
the dashboard, so a new metric cannot be forgotten and no widget stays empty.

Skipped when terraform or the provider mirror is missing, unless FORECOURT_REQUIRE_TERRAFORM=1.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rl_core.market.model import OBJECTIVES
from rl_core.telemetry import METRICS, NAMESPACE

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "terraform" / "modules" / "monitoring"
ENVIRONMENT = "prod"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
ENDPOINTS = {"demand": "forecourt-test-demand", "profit": "forecourt-test-profit"}

# Catalogued but deliberately not on the dashboard, with why. A metric leaves this list the
# day the code starts emitting it, and the test then asks for it on the dashboard. Empty:
# every catalogued metric is emitted (RunFailedTasks by the run report) and shown.
NOT_SHOWN: dict[str, str] = {}


def _require_or_skip(reason: str):
    if os.environ.get("FORECOURT_REQUIRE_TERRAFORM") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _cli_config(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "cli_config", ROOT / "terraform" / "cli_config.py"
    )
    cli_config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli_config)
    try:
        mirror = cli_config.find_mirror()
    except SystemExit as exc:  # no mirror on this machine
        _require_or_skip(str(exc))
    return cli_config.write_config(mirror, tmp_path / "terraformrc")


def _terraform(args: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(
        ["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"terraform {' '.join(args)} failed:\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, moto_endpoint):
    """The module's planned resources (planned_values of `terraform show -json`)."""
    if shutil.which("terraform") is None:
        _require_or_skip("terraform is not installed")
    tmp = tmp_path_factory.mktemp("tf-monitoring")
    root = tmp / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        f"""
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = "5.100.0" }}
  }}
}}
provider "aws" {{ region = "eu-west-1" }}
module "monitoring" {{
  source                = {json.dumps(str(MODULE))}
  name_prefix           = "forecourt-test"
  environment           = "{ENVIRONMENT}"
  kms_key_arn           = "{KMS_KEY}"
  agents                = {json.dumps(list(OBJECTIVES))}
  endpoint_names        = {json.dumps(ENDPOINTS)}
  batch_job_queue_arn   = "arn:aws:batch:eu-west-1:123456789012:job-queue/forecourt-test"
  mwaa_environment_name = "forecourt-test"
}}
"""
    )
    (tmp / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_", "CHECKPOINT"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(_cli_config(tmp)),
        TF_DATA_DIR=str(tmp / "tfdata"),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        HOME=str(tmp / "home"),  # nothing of Terraform's or the AWS SDK's under ~
        AWS_ENDPOINT_URL=moto_endpoint,  # data sources (caller identity) ask moto, not AWS
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="eu-west-1",
    )
    _terraform(["init", "-input=false", "-backend=false", "-no-color"], root, env)
    _terraform(["plan", "-input=false", "-lock=false", "-no-color", "-out=tfplan"], root, env)
    plan = json.loads(_terraform(["show", "-json", "tfplan"], root, env))
    (module,) = plan["planned_values"]["root_module"]["child_modules"]
    return module["resources"]


# ---- reading metric references out of what Terraform rendered ----------------------------

SEARCH_SCHEMA = re.compile(r"SEARCH\('\{(?P<schema>[^}]*)\}(?P<terms>[^']*)'")
SEARCH_NAMESPACE = re.compile(r"SEARCH\('Namespace=\"(?P<ns>[^\"]+)\"(?P<terms>[^']*)'")
INSIGHTS = re.compile(
    r"SELECT\s+\w+\((?P<metric>\w+)\)\s+FROM\s+SCHEMA\((?P<schema>[^)]*)\)"
    r"(?:\s+WHERE\s+(?P<where>.*))?$"
)


def _ref(namespace: str, metric: str | None, dimensions, values: dict) -> dict:
    """A metric reference: dimensions is the set of dimension names (None: not fixed)."""
    return {"namespace": namespace, "metric": metric, "dimensions": dimensions, "values": values}


def _terms(text: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', text))


def _from_expression(expr: str) -> dict:
    """One metric reference from a SEARCH or Metrics Insights expression."""
    if m := SEARCH_SCHEMA.search(expr):
        namespace, *dims = [p.strip().strip('"') for p in m["schema"].split(",")]
        terms = _terms(m["terms"])
        values = {k: v for k, v in terms.items() if k != "MetricName"}
        return _ref(namespace, terms.get("MetricName"), set(dims), values)
    if m := SEARCH_NAMESPACE.search(expr):
        terms = _terms(m["terms"])
        values = {k: v for k, v in terms.items() if k != "MetricName"}
        return _ref(m["ns"], terms.get("MetricName"), None, values)
    if m := INSIGHTS.search(expr.strip()):
        namespace, *dims = [p.strip().strip('"') for p in m["schema"].split(",")]
        values = dict(re.findall(r"(\w+)\s*=\s*'([^']*)'", m["where"] or ""))
        return _ref(namespace, m["metric"], set(dims), values)
    raise AssertionError(f"an expression the test cannot read (teach it, or use a metric): {expr}")


def _from_line(line: list) -> dict:
    """One metric reference from a dashboard metrics line."""
    assert line, "an empty metrics line"
    if isinstance(line[0], dict):
        assert "expression" in line[0], f"a metrics line with neither metric nor expression: {line}"
        return _from_expression(line[0]["expression"])
    fields = [f for f in line if not isinstance(f, dict)]
    assert all(isinstance(f, str) for f in fields), f"odd metrics line: {line}"
    assert "." not in fields[:2] and "..." not in fields, f"no shorthand, please: {line}"
    namespace, metric, *pairs = fields
    assert len(pairs) % 2 == 0, f"dimension without a value: {line}"
    values = dict(zip(pairs[::2], pairs[1::2], strict=True))
    return _ref(namespace, metric, set(values), values)


def _dashboard(rendered) -> dict:
    (dash,) = [r for r in rendered if r["type"] == "aws_cloudwatch_dashboard"]
    return json.loads(dash["values"]["dashboard_body"])


def _widget_refs(rendered) -> list[tuple[str, dict]]:
    refs = []
    for widget in _dashboard(rendered)["widgets"]:
        if widget["type"] == "metric":
            title = widget["properties"].get("title", "?")
            refs += [(f"widget {title!r}", _from_line(x)) for x in widget["properties"]["metrics"]]
    return refs


def _alarm_refs(rendered) -> list[tuple[str, dict]]:
    refs = []
    for r in rendered:
        if r["type"] != "aws_cloudwatch_metric_alarm":
            continue
        v, where = r["values"], f"alarm {r['values']['alarm_name']}"
        if v.get("metric_name"):
            dims = v.get("dimensions") or {}
            refs.append((where, _ref(v["namespace"], v["metric_name"], set(dims), dims)))
        for q in v.get("metric_query") or []:
            if q.get("expression"):
                refs.append((where, _from_expression(q["expression"])))
            for m in q.get("metric") or []:
                dims = m.get("dimensions") or {}
                refs.append((where, _ref(m["namespace"], m["metric_name"], set(dims), dims)))
    return refs


def _emitted() -> dict[str, set[str]]:
    """Every `emit("Name", value, **dims)` call in the code: name -> dimension names."""
    found: dict[str, set[str]] = {}
    for folder in ("rl_core", "dags", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "emit"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.setdefault(node.args[0].value, set()).update(
                        k.arg for k in node.keywords if k.arg
                    )
    return found


# ---- the checks ----------------------------------------------------------------------------


def test_every_forecourt_metric_is_catalogued_with_its_dimensions(rendered):
    refs = _widget_refs(rendered) + _alarm_refs(rendered)
    forecourt = [(w, r) for w, r in refs if r["namespace"] == NAMESPACE]
    assert forecourt, "nothing on the dashboard or in the alarms reads the Forecourt namespace"
    problems = []
    for where, ref in forecourt:
        spec = METRICS.get(ref["metric"])
        if spec is None:
            problems.append(f"{where}: {ref['metric']} is not in the catalogue")
            continue
        if ref["dimensions"] != {"Environment", *spec.dimensions}:
            problems.append(
                f"{where}: {ref['metric']} read with dimensions {sorted(ref['dimensions'])}, "
                f"emitted with {sorted({'Environment', *spec.dimensions})}"
            )
        if ref["values"].get("Environment") != ENVIRONMENT:
            problems.append(f"{where}: {ref['metric']} not filtered on Environment={ENVIRONMENT}")
        if "Agent" in ref["values"] and ref["values"]["Agent"] not in OBJECTIVES:
            problems.append(f"{where}: {ref['metric']} for unknown agent {ref['values']['Agent']}")
    assert not problems, "\n".join(problems)


def test_other_namespaces_are_aws_ones(rendered):
    others = {r["namespace"] for _, r in _widget_refs(rendered) + _alarm_refs(rendered)} - {
        NAMESPACE
    }
    assert others, "expected AWS/SageMaker and AWS/MWAA metrics with endpoints and MWAA given"
    assert all(ns.startswith("AWS/") for ns in others), others


def test_the_dashboard_shows_every_metric_the_code_emits(rendered):
    emitted = _emitted()
    assert set(emitted) <= set(METRICS), "emit() of an uncatalogued metric"
    for name, dims in emitted.items():
        assert dims == set(METRICS[name].dimensions), f"{name} emitted with {sorted(dims)}"
    shown = {r["metric"] for _, r in _widget_refs(rendered) if r["namespace"] == NAMESPACE}
    assert shown == set(emitted), (
        f"emitted but not on the dashboard: {sorted(set(emitted) - shown)}; "
        f"on the dashboard but never emitted (an empty graph): {sorted(shown - set(emitted))}"
    )
    assert set(METRICS) - set(emitted) == set(NOT_SHOWN), (
        "NOT_SHOWN must list exactly the catalogued metrics that nothing emits: "
        f"{sorted(set(METRICS) - set(emitted))}"
    )


def test_no_widget_is_empty(rendered):
    widgets = _dashboard(rendered)["widgets"]
    assert widgets
    for widget in widgets:
        props = widget["properties"]
        if widget["type"] == "metric":
            assert props.get("metrics"), f"metric widget without metrics: {props.get('title')}"
        elif widget["type"] == "text":
            assert props.get("markdown", "").strip(), "empty text widget"
        elif widget["type"] == "alarm":
            assert props.get("alarms"), "alarm widget without alarms"
        else:
            raise AssertionError(f"unexpected widget type {widget['type']}")


def test_the_alarms_that_matter_exist(rendered):
    alarms = {w: r for w, r in _alarm_refs(rendered)}
    metrics = {(r["metric"], r["values"].get("Agent")) for r in alarms.values()}
    assert ("DeliveryQuarantined", None) in metrics
    assert ("TaskFailures", None) in metrics
    assert ("RunFailedTasks", None) in metrics
    for agent in OBJECTIVES:
        assert ("RecommendationsWritten", agent) in metrics
    endpoint_metrics = {
        (r["metric"], r["values"].get("EndpointName"))
        for r in alarms.values()
        if r["namespace"] == "AWS/SageMaker"
    }
    for endpoint in ENDPOINTS.values():
        assert {("Invocation5XXErrors", endpoint), ("ModelLatency", endpoint)} <= endpoint_metrics
