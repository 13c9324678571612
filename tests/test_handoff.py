"""Cross-account promotion: dev -> preprod -> prod with real MLflow registries.

Three "accounts" in one test: three FORECOURT_HOMEs (so three SQLite registries and artifact
stores) switched through the environment, and one outbox folder per account. The policy is
a real, tiny training of the profit agent (40k steps, ~98% of the optimum: it beats the best
constant price, so preprod's comparison promotes it).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rl_core.agents.dqn import DQNConfig
from rl_core.market.model import Market
from rl_core.training.bundle import write_bundle
from rl_core.training.train import train

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from rl_core import registry as R  # noqa: E402
from rl_core.cli import main as forecourt  # noqa: E402
from rl_core.registry import approval as A  # noqa: E402
from rl_core.registry import handoff as H  # noqa: E402
from rl_core.registry.tracking import client, model_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MARKET = Market()
WINDOW = {"store": "file:///tmp/store", "first_day": "2026-10-25", "last_day": "2026-11-23"}
N = 32  # scenarios per decision
AGENT = "profit"
NAME = model_name(AGENT)


@pytest.fixture(scope="module")
def result():
    return train(MARKET, AGENT, DQNConfig(total_env_steps=40_000))


class Accounts:
    """Switch between the dev, preprod and prod "accounts" (homes, registries, outboxes)."""

    def __init__(self, root: Path, monkeypatch):
        self.root, self.mp = root, monkeypatch

    def use(self, env: str) -> None:
        self.mp.setenv("FORECOURT_HOME", str(self.root / env))
        self.mp.setenv("FORECOURT_ENV", env)
        self.mp.setenv("FORECOURT_RUNS", str(self.root / env / "runs"))

    def outbox(self, env: str) -> str:
        return str(self.root / "outboxes" / env)

    def versions(self) -> list:
        return client().search_model_versions(f"name = '{NAME}'")


@pytest.fixture
def acc(tmp_path, monkeypatch):
    monkeypatch.delenv("FORECOURT_MLFLOW_TRACKING_URI", raising=False)
    fake_home = tmp_path / "user-home"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(fake_home / ".config"))
    yield Accounts(tmp_path, monkeypatch)
    assert list(fake_home.iterdir()) == [], "something was written into $HOME"


@pytest.fixture
def dev_package(acc, result, tmp_path) -> H.Package:
    """dev: a registered, promoted champion, proposed to dev's outbox."""
    acc.use("dev")
    bundle = write_bundle(result, MARKET, tmp_path / "bundle")
    info = R.register_challenger(result, bundle, data_window=WINDOW, market=MARKET)
    R.promote(AGENT, info.version, expected_champion=None, reason="dev: beat the flat price")
    return H.propose(AGENT, info.version, acc.outbox("dev"), note="nightly")


def _copy(pkg: H.Package, dest: Path) -> Path:
    shutil.copytree(pkg.uri, dest)
    return dest


def _nothing_registered(acc) -> None:
    assert acc.versions() == []
    c = client()
    exp = c.get_experiment_by_name("forecourt-training")
    assert exp is None or c.search_runs([exp.experiment_id]) == []


# ---- dev -> preprod: the package, the import -------------------------------------------------


def test_propose_then_import_gives_the_exact_same_artifact(acc, dev_package, result, tmp_path):
    pkg = dev_package
    m = pkg.manifest
    assert pkg.created and Path(pkg.uri).name == f"{NAME}-v1-{m['bundle_sha256'][:12]}"
    assert Path(pkg.uri).parent.name == AGENT
    assert m["schema"] == 1 and m["agent"] == AGENT and m["source_env"] == "dev"
    assert m["source_version"] == "1" and m["source_run_id"]
    assert set(m["files"]) == {"policy.pt2", "bundle.json"}
    assert m["bundle_sha256"] == H.tree_hash(H.hash_files(Path(pkg.uri) / "bundle"))
    assert m["decision"]["status"] == "champion"
    assert m["decision"]["promote_reason"] == "dev: beat the flat price"
    assert m["source_tags"]["forecourt.data_window"] == json.dumps(WINDOW, sort_keys=True)
    assert [h["env"] for h in m["lineage"]] == ["dev"] and m["lineage"][0]["version"] == "1"

    again = H.propose(AGENT, "1", acc.outbox("dev"))  # idempotent: nothing rewritten
    assert not again.created and again.uri == pkg.uri and again.manifest == m
    bundle = write_bundle(result, MARKET, tmp_path / "challenger")
    challenger = R.register_challenger(result, bundle, data_window=WINDOW, market=MARKET)
    with pytest.raises(H.HandoffError, match="not this account's champion"):
        H.propose(AGENT, challenger.version, acc.outbox("dev"))  # never in service here
    assert len(list(Path(acc.outbox("dev"), AGENT).iterdir())) == 1

    acc.use("preprod")
    assert [p.uri for p in H.pending(acc.outbox("dev"), AGENT)] == [pkg.uri]
    version = H.import_package(pkg.uri)
    assert version == "1"
    mv = client().get_model_version(NAME, version)
    tags = mv.tags
    assert tags[H.LINEAGE_SHA] == m["bundle_sha256"]
    assert tags[H.LINEAGE_SOURCE_ENV] == "dev" and tags[H.LINEAGE_SOURCE_VERSION] == "1"
    assert tags[H.LINEAGE_SOURCE_RUN] == m["source_run_id"]
    assert tags[H.LINEAGE_PACKAGE] == pkg.uri
    assert json.loads(tags[H.LINEAGE_HOPS]) == m["lineage"]
    assert tags["forecourt.data_window"] == m["source_tags"]["forecourt.data_window"]
    assert A.APPROVAL not in tags  # preprod imports without the gate
    # preprod's registry holds byte-for-byte dev's artifact
    got = client().download_artifacts(mv.run_id, "bundle", str(tmp_path / "dl"))
    assert H.tree_hash(H.hash_files(got)) == m["bundle_sha256"]
    assert R.download_bundle(AGENT, version).load_policy() is not None

    assert H.import_package(pkg.uri) == "1" and len(acc.versions()) == 1  # idempotent
    assert H.pending(acc.outbox("dev"), AGENT) == []


@pytest.mark.parametrize(
    "damage, named",
    [
        ("edit", "bundle.json"),
        ("truncate", "policy.pt2"),
        ("delete", "policy.pt2"),
        ("extra", "notes.txt"),
        ("manifest", "manifest's file list"),
    ],
)
def test_a_damaged_package_is_refused_and_nothing_is_registered(
    acc, dev_package, tmp_path, damage, named
):
    bad = _copy(dev_package, tmp_path / "outbox-copy" / AGENT / "pkg")
    bundle = bad / "bundle"
    if damage == "edit":
        meta = json.loads((bundle / "bundle.json").read_text())
        meta["agent"] = "profit "  # one byte more
        (bundle / "bundle.json").write_text(json.dumps(meta))
    elif damage == "truncate":
        data = (bundle / "policy.pt2").read_bytes()
        (bundle / "policy.pt2").write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        (bundle / "policy.pt2").unlink()
    elif damage == "extra":
        (bundle / "notes.txt").write_text("hello")
    else:
        manifest = json.loads((bad / "manifest.json").read_text())
        manifest["files"]["bundle.json"] = "0" * 64  # the file list no longer hashes to the sha
        (bad / "manifest.json").write_text(json.dumps(manifest))

    acc.use("preprod")
    with pytest.raises(H.HandoffError, match=named.replace(".", r"\.")):
        H.import_package(str(bad))
    _nothing_registered(acc)


def test_an_incomplete_package_is_ignored(acc, dev_package, tmp_path):
    outbox = tmp_path / "half-written"
    half = _copy(dev_package, outbox / AGENT / "pkg")
    (half / "manifest.json").unlink()  # the writer died before the manifest
    acc.use("preprod")
    assert H.packages(str(outbox), AGENT) == [] and H.pending(str(outbox), AGENT) == []
    assert H.newest(str(outbox), AGENT) is None
    with pytest.raises(H.HandoffError, match="incomplete"):
        H.import_package(str(half))
    _nothing_registered(acc)
    # and the complete one next to it is listed
    _copy(dev_package, outbox / AGENT / "complete")
    assert [Path(p.uri).name for p in H.pending(str(outbox), AGENT)] == ["complete"]


# ---- preprod validates and forwards; prod waits for a person ---------------------------------


def test_dev_to_preprod_to_prod_with_the_approval_gate(acc, dev_package):
    sha = dev_package.bundle_sha256

    acc.use("preprod")
    out = H.forward_newest(AGENT, acc.outbox("dev"), acc.outbox("preprod"), MARKET, n_scenarios=N)
    assert out["outcome"] == "promoted", out["summary"]
    assert R.champion_version(AGENT) == out["version"] == "1"
    forwarded = H.read_manifest(out["forwarded"])
    assert forwarded["bundle_sha256"] == sha and forwarded["source_env"] == "preprod"
    assert [(h["env"], h["version"]) for h in forwarded["lineage"]] == [
        ("dev", "1"),
        ("preprod", "1"),
    ]
    assert forwarded["decision"]["decision"] == "promoted"
    again = H.forward_newest(AGENT, acc.outbox("dev"), acc.outbox("preprod"), MARKET)
    assert again["outcome"] == "already validated: promoted" and len(acc.versions()) == 1

    acc.use("prod")
    got = H.receive_newest(AGENT, acc.outbox("preprod"))
    v = got["version"]
    assert got["approval"] == "pending" and got["bundle_sha256"] == sha
    assert got["lineage"] == "dev v1 -> preprod v1"
    assert [s["version"] for s in A.awaiting(AGENT)] == [v]

    with pytest.raises(A.ApprovalError, match="awaiting approval: run `forecourt registry approve"):
        H.promote_approved(AGENT, v)
    assert R.champion_version(AGENT) is None

    with pytest.raises(A.ApprovalError, match="needs a reason"):
        A.approve(AGENT, v, "Ana", " ")
    A.reject(AGENT, v, "Ana Ruiz", "change freeze")
    with pytest.raises(A.ApprovalError, match="rejected by Ana Ruiz"):
        H.promote_approved(AGENT, v)
    assert R.champion_version(AGENT) is None and A.awaiting(AGENT) == []

    st = A.approve(AGENT, v, "Ana Ruiz", "CAB-1234 after the freeze")
    assert st["state"] == "approved" and st["bundle_sha256"] == sha and st["by"] == "Ana Ruiz"
    assert [h["decision"] for h in st["history"]] == ["rejected", "approved"]
    move = H.promote_approved(AGENT, v)
    assert R.champion_version(AGENT) == v and move["action"] == "promote"
    reason = client().get_model_version(NAME, v).tags["forecourt.promote_reason"]
    assert "approved by Ana Ruiz" in reason and "dev v1 -> preprod v1 -> prod v1" in reason
    assert sha[:12] in reason
    hops = json.loads(client().get_model_version(NAME, v).tags[H.LINEAGE_HOPS])
    assert [h["env"] for h in hops] == ["dev", "preprod", "prod"]
    assert hops[-1]["approved_by"] == "Ana Ruiz"
    assert H.promote_approved(AGENT, v)["action"] == "already champion"  # a retry is harmless


def test_prod_refuses_an_artifact_that_changed_after_approval(acc, dev_package):
    acc.use("prod")
    v = H.import_package(dev_package.uri, require_approval=True)
    A.approve(AGENT, v, "Ana Ruiz", "ok")
    # someone edits the tag that names the artifact: the approval no longer covers it
    c = client()
    c.set_model_version_tag(NAME, v, H.LINEAGE_SHA, "f" * 64)
    with pytest.raises(A.ApprovalError, match="approve it again"):
        H.promote_approved(AGENT, v)
    c.set_model_version_tag(NAME, v, H.LINEAGE_SHA, dev_package.bundle_sha256)
    # someone swaps the file in the registry's artifact store
    artifacts = Path(os.environ["FORECOURT_HOME"]) / "mlflow" / "artifacts"
    (target,) = glob.glob(str(artifacts / "**" / "bundle" / "bundle.json"), recursive=True)
    Path(target).write_text(Path(target).read_text().replace('"profit"', '"profit" '))
    with pytest.raises(A.ApprovalError, match="changed after approval"):
        H.promote_approved(AGENT, v)
    assert R.champion_version(AGENT) is None
    # a version that never went through the gate is not promoted by it either
    with pytest.raises(R.RegistryError, match="no version 999"):
        A.approve(AGENT, "999", "x", "y")


def test_a_newer_package_supersedes_an_older_pending_one(acc, dev_package, result, tmp_path):
    acc.use("prod")
    first = H.import_package(dev_package.uri, require_approval=True)
    acc.use("dev")  # dev trains again: another bundle, another package
    bundle = write_bundle(result, MARKET, tmp_path / "bundle-2")
    info = R.register_challenger(result, bundle, data_window=WINDOW, market=MARKET)
    R.promote(AGENT, info.version, expected_champion="1", reason="dev: retrained")
    newer = H.propose(AGENT, info.version, acc.outbox("dev"))
    assert newer.bundle_sha256 != dev_package.bundle_sha256
    assert H.newest(acc.outbox("dev"), AGENT).uri == newer.uri
    acc.use("prod")
    second = H.import_package(newer.uri, require_approval=True)
    assert A.state(AGENT, first)["state"] == "superseded"
    assert [s["version"] for s in A.awaiting(AGENT)] == [second]


@contextlib.contextmanager
def _moto_sagemaker(monkeypatch):
    """moto in process with the deploy config's bucket; FORECOURT_SAGEMAKER set."""
    import boto3
    from moto import mock_aws
    from test_deploy import BUCKET, CONFIG, REGION

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("FORECOURT_SAGEMAKER", json.dumps(CONFIG))
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield boto3.client("sagemaker", region_name=REGION)


def test_the_cli_shows_pending_and_records_decisions(acc, dev_package, capsys, monkeypatch):
    acc.use("prod")
    assert forecourt(["registry", "import", dev_package.uri, "--require-approval"]) == 0
    capsys.readouterr()
    source = str(Path(dev_package.uri).parents[1])
    assert forecourt(["registry", "pending", AGENT, "--source", source, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (row,) = out["awaiting_approval"]
    assert row["state"] == "pending" and row["lineage_text"] == "dev v1"
    assert out["not_imported"] == []
    assert forecourt(["registry", "promote-approved", AGENT, "1"]) == 2
    assert "awaiting approval" in capsys.readouterr().err
    args = ["--by", "Ana Ruiz", "--reason", "CAB-1"]
    assert forecourt(["registry", "approve", AGENT, "1", *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["state"] == "approved"
    with _moto_sagemaker(monkeypatch) as sm:  # prod's endpoint serves what was approved
        assert forecourt(["registry", "promote-approved", AGENT, "1", "--json"]) == 0
        deployed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["deploy"]
        assert (deployed["version"], deployed["status"]) == ("1", "created")
        ep = sm.describe_endpoint(EndpointName=deployed["endpoint"])
        assert ep["EndpointConfigName"] == deployed["endpoint_config"]
    assert R.champion_version(AGENT) == "1"
    with pytest.raises(SystemExit):  # --reason is required
        forecourt(["registry", "reject", AGENT, "1", "--by", "x"])


def test_the_cli_validates_in_preprod_and_deploys_the_win(acc, dev_package, capsys, monkeypatch):
    """`receive --validate` (preprod's Batch job): a win becomes preprod's champion and goes
    onto preprod's endpoint at once."""
    market = acc.root / "market.json"
    market.write_text(json.dumps(MARKET.to_dict()))
    acc.use("preprod")
    argv = ["registry", "receive", AGENT, "--source", acc.outbox("dev"), "--validate"]
    argv += ["--outbox", acc.outbox("preprod"), "--market", str(market), "--json"]
    capsys.readouterr()
    with _moto_sagemaker(monkeypatch) as sm:
        assert forecourt(argv) == 0
        out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert out["outcome"] == "promoted" and R.champion_version(AGENT) == out["version"]
        deployed = out["deploy"]
        assert (deployed["version"], deployed["status"]) == (out["version"], "created")
        assert sm.describe_endpoint(EndpointName=deployed["endpoint"])["EndpointStatus"] == (
            "InService"
        )


# ---- the DAG -----------------------------------------------------------------------------------

PARSE = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.0
    from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("forecourt_promotion")
info = {"errors": {k: str(v) for k, v in bag.import_errors.items()},
        "heavy": sorted(m for m in ("torch", "mlflow", "pandas") if m in sys.modules),
        "rl_core": sorted(m for m in sys.modules if m.startswith("rl_core"))}
if dag is not None:
    try:
        from airflow.serialization.serialized_objects import DagSerialization as ser
    except ImportError:
        from airflow.serialization.serialized_objects import SerializedDAG as ser
    back = ser.from_dict(json.loads(json.dumps(ser.to_dict(dag))))
    info.update(
        tasks={t.task_id: type(t).__name__ for t in dag.tasks},
        upstream={t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
        commands={t.task_id: t.container_overrides["command"] for t in dag.tasks
                  if type(t).__name__ == "BatchOperator"},
        roundtrip=sorted(back.task_ids) == sorted(dag.task_ids),
        schedule=getattr(dag, "schedule", None), max_active_runs=dag.max_active_runs,
    )
print(json.dumps(info, default=str))
"""


def _parse(tmp_path, python: str = sys.executable, **env: str) -> dict:
    home = tmp_path / f"airflow-{len(list(tmp_path.glob('airflow-*')))}"
    home.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FORECOURT_", "AIRFLOW__"))}
    environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        HOME=str(tmp_path),
        **env,
    )
    folder = tmp_path / "dags-only"  # this DAG alone
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "dags" / "forecourt_promotion.py", folder)
    out = subprocess.run(
        [python, "-c", PARSE, str(folder)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["errors"] == {}, info["errors"]
    assert info["heavy"] == [] and info["rl_core"] == []  # wiring only
    assert info["roundtrip"] is True and info["max_active_runs"] == 1
    return info


def test_the_dag_wires_each_stage(tmp_path):
    dev = _parse(tmp_path, FORECOURT_ENV="dev")
    assert set(dev["tasks"]) == {"demand.publish", "profit.publish"}
    assert dev["schedule"] == "20 * * * *"
    local = _parse(tmp_path)  # no FORECOURT_ENV: dev's shape, triggered by hand only
    assert local["tasks"] == dev["tasks"] and local["schedule"] is None

    pre = _parse(tmp_path, FORECOURT_ENV="preprod")
    assert set(pre["tasks"]) == {"demand.validate_and_forward", "profit.validate_and_forward"}

    prod = _parse(tmp_path, FORECOURT_ENV="prod")  # this Airflow has HITL (>= 3.1)
    assert prod["tasks"]["profit.approval"] == "ApprovalOperator"
    assert prod["upstream"]["profit.find_awaiting"] == ["profit.receive"]
    assert prod["upstream"]["profit.approval"] == ["profit.find_awaiting"]
    assert prod["upstream"]["profit.promote_approved"] == ["profit.record_approval"]
    assert prod["upstream"]["profit.record_rejection"] == ["profit.record_approval"]

    fallback = _parse(tmp_path, FORECOURT_ENV="prod", FORECOURT_APPROVAL_MODE="registry")
    assert "profit.approval" not in fallback["tasks"]
    assert fallback["upstream"]["profit.promote_approved"] == ["profit.await_approval"]

    batch = _parse(
        tmp_path,
        AIRFLOW__FORECOURT__ENV="prod",  # as MWAA passes forecourt.env
        AIRFLOW__FORECOURT__RUNNER="batch",
        AIRFLOW__FORECOURT__PROMOTION_SOURCE="s3://preprod-artifacts/promotions",
    )
    assert batch["tasks"]["profit.receive"] == "BatchOperator"
    assert batch["tasks"]["profit.find_awaiting"] != "BatchOperator"  # MWAA-side: tags only
    assert batch["commands"]["profit.receive"] == [
        "forecourt", "registry", "receive", "profit",
        "--source", "s3://preprod-artifacts/promotions", "--require-approval",
    ]  # fmt: skip
    assert batch["commands"]["profit.promote_approved"][:4] == [
        "forecourt", "registry", "promote-approved", "profit",
    ]  # fmt: skip
    assert batch["schedule"] == "20 * * * *"  # hourly on AWS


def test_the_dag_parses_on_the_mwaa_floor_without_hitl(tmp_path):
    """Airflow 3.0.6 (MWAA's floor) has no HITL operator: the registry sensor gates."""
    import mwaa_envs  # tests/: builds the floor's venv once (cached, shared with the parity test)

    (floor,) = [env for env in mwaa_envs.ENVS if env.airflow == "3.0.6"]
    built = mwaa_envs.ensure_env(floor)
    info = _parse(tmp_path, python=str(built.python), FORECOURT_ENV="prod")
    assert "profit.approval" not in info["tasks"]
    assert info["upstream"]["profit.promote_approved"] == ["profit.await_approval"]
