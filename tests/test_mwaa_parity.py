"""MWAA parity: the DAGs and plugins work on the Airflow that Amazon MWAA runs, without torch.

Builds (once per machine, in tests/venv_cache.py's cache, keyed by a hash of the pins) the
MWAA-like environments of tests/mwaa_envs.py: Airflow 3.3.1 and 3.0.6 on Python 3.12, the
Amazon provider, and docker/mwaa/requirements.txt, no torch. In each, in a subprocess with
a temporary AIRFLOW_HOME:

- dags/ parses with Airflow's DagBag, with no import error; forecourt_daily_retrain has its
  tasks, params, max_active_runs=1 and catchup=False, serializes as the DAG processor does,
  and has the same tasks, wiring and params as on the project's own (newest) Airflow;
- plugins/ loads through Airflow's plugins manager with no error, and each plugin's FastAPI
  app is mounted by the API server (once plugins/ has a .py file);
- `import torch` fails;
- the tasks that run on MWAA workers (plan, sensor, validate, calibrate, plan trials, pick
  best, report, failure callback) and the plugin page's data run for real on a small
  synthetic delivery.

A build that fails (no Python 3.12, no network, conflicting pins) fails the test, with pip's
log. Each build takes 1 to 1.5 min on 2 cores; the probes take seconds.
"""

import re
import sys
import tomllib

import mwaa_envs
import pytest

AGENTS = ("demand", "profit")
EXPECTED_TASKS = {
    "plan_run",
    "wait_for_delivery",
    "validate",
    "calibrate",
    "write_recommendations",
    "run_report",
} | {
    f"{agent}.{task}"
    for agent in AGENTS
    for task in (
        "plan_trials",
        "train_trial",
        "pick_best",
        "register_challenger",
        "evaluate_vs_champion",
        "promote_or_keep",
        "deploy_champion",
    )
}
EXPECTED_PARAMS = {
    "agents",
    "trials",
    "max_concurrent_trials",
    "env_steps",
    "dry_run",
    "force_promotion",
    "force_reason",
    "calibration_days",
    "seed",
    "day",
}
DAG_ID = "forecourt_daily_retrain"


def _declared_markers() -> set[str]:
    with (mwaa_envs.ROOT / "pyproject.toml").open("rb") as fh:
        ini = tomllib.load(fh).get("tool", {}).get("pytest", {}).get("ini_options", {})
    return {m.split(":")[0].strip() for m in ini.get("markers", [])}


# `pytest -m "not mwaa"` leaves these out, once pyproject declares the marker
# (--strict-markers rejects an undeclared one, so it is only applied then)
pytestmark = [pytest.mark.mwaa] if "mwaa" in _declared_markers() else []


def say(text: str) -> None:
    print(text, flush=True)


@pytest.fixture(scope="module", params=mwaa_envs.ENVS, ids=lambda env: env.name)
def mwaa(request):
    """A built MWAA-like environment and what its parse probe saw."""
    env = request.param
    try:
        built = mwaa_envs.ensure_env(env, say=say)
    except mwaa_envs.EnvBuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    parsed = mwaa_envs.run_probe(built.python, "parse")
    plugins = parsed["plugins"]
    say(
        f"[mwaa] {env.name}: Airflow {parsed['versions']['apache-airflow']} on Python "
        f"{parsed['python']} (env built in {built.build_s:.0f} s"
        f"{', cached' if built.cached else ''}): DAG folder parsed in "
        f"{parsed['parse_s']:.2f} s (+{parsed['airflow_import_s']:.2f} s importing Airflow), "
        f"{len(parsed['dags'])} DAG(s), {len(parsed['import_errors'])} import error(s); "
        f"serialized (and plugins loaded) in {parsed['serialize_s']:.2f} s; "
        f"{len(plugins['loaded'])} plugin(s)"
    )
    for path, warnings in parsed["warnings"].items():
        for warning in warnings:
            say(f"[mwaa]   warning while parsing {path}: {warning}")
    return built, parsed


@pytest.fixture(scope="module")
def local_parse():
    """The same parse on the project's own Airflow (the newest), for comparison."""
    return mwaa_envs.run_probe(sys.executable, "parse")


def test_requirements_leave_out_torch_and_what_mwaa_ships():
    names = set()
    for line in mwaa_envs.requirement_lines():
        assert not line.startswith(("-c", "--constraint")), (
            "no constraint line: MWAA applies its own version's constraints"
        )
        names.add(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0].lower())
    assert "torch" not in names
    # MWAA ships these; naming them could change what MWAA runs
    assert not names & {"apache-airflow", "apache-airflow-core", "apache-airflow-providers-amazon"}
    assert {"great-expectations", "pandas", "scipy", "s3fs", "mlflow-skinny"} <= names


def test_dag_parses_without_import_errors(mwaa):
    built, parsed = mwaa
    assert parsed["import_errors"] == {}, parsed["import_errors"]
    assert DAG_ID in parsed["dags"], f"no {DAG_ID} in {sorted(parsed['dags'])}"
    dag = parsed["dags"][DAG_ID]
    missing = EXPECTED_TASKS - set(dag["task_ids"])
    assert not missing, f"tasks missing on Airflow {built.env.airflow}: {sorted(missing)}"
    assert set(dag["params"]) >= EXPECTED_PARAMS, sorted(dag["params"])
    assert dag["max_active_runs"] == 1
    assert dag["catchup"] is False
    assert dag["tasks"]["demand.train_trial"]["mapped"] is True
    assert dag["tasks"]["run_report"]["teardown"] is True


def test_dag_parse_stays_light(mwaa):
    """Wiring only: parsing imports neither rl_core nor torch (the DAG processor on MWAA
    parses every file every few minutes, within a timeout)."""
    _, parsed = mwaa
    assert parsed["rl_core_at_parse"] == [], parsed["rl_core_at_parse"]
    assert parsed["torch_at_parse"] is False


def test_dag_serializes_like_the_dag_processor(mwaa):
    _, parsed = mwaa
    assert parsed["serialization"] == {dag_id: "ok" for dag_id in parsed["dags"]}


def test_dag_is_the_same_as_on_the_local_airflow(mwaa, local_parse):
    built, parsed = mwaa
    assert local_parse["import_errors"] == {}, local_parse["import_errors"]
    here, there = local_parse["dags"][DAG_ID], parsed["dags"][DAG_ID]
    for key in ("task_ids", "tasks", "params", "max_active_runs", "catchup", "timetable"):
        assert there[key] == here[key], (
            f"{key} differs between Airflow {local_parse['versions']['apache-airflow']} "
            f"(local) and {built.env.airflow} (MWAA)"
        )


def test_torch_is_not_installed(mwaa):
    built, parsed = mwaa
    assert parsed["torch"] is None, f"torch {parsed['torch']} is installed in {built.path}"
    assert parsed["torch_error"].startswith("ModuleNotFoundError")
    assert "torch" not in built.versions


def test_plugins_load(mwaa):
    built, parsed = mwaa
    files = mwaa_envs.plugin_files()
    if not files:
        pytest.skip("plugins/ holds no .py file yet: nothing to load")
    plugins = parsed["plugins"]
    assert plugins["import_errors"] == {}, plugins["import_errors"]
    ours = [p for p in plugins["loaded"] if p["from_folder"]]
    assert ours, f"no plugin loaded from {mwaa_envs.PLUGINS} (files: {[f.name for f in files]})"
    assert parsed["torch_at_plugin_load"] is False
    server = plugins["api_server"]
    if server["checked"]:
        assert server["error"] is None, server["error"]
        assert server["missing"] == [], f"FastAPI apps not mounted: {server['missing']}"
    runtime = plugins["task_runtime"]
    if runtime["checked"]:  # Airflow >= 3.1 loads plugins on the workers too
        assert runtime["import_errors"] == {}, runtime["import_errors"]
    mounted = (
        f" (API server app built in {server['create_app_s']:.2f} s)" if server["checked"] else ""
    )
    for plugin in ours:
        say(
            f"[mwaa] {built.env.name}: plugin {plugin['name']!r} from {plugin['source']}: "
            f"{', '.join(plugin['declares']) or 'nothing'}; FastAPI apps mounted at "
            f"{[a['url_prefix'] for a in plugin['fastapi_apps']]}{mounted}"
        )
        if plugin["unsupported"]:
            say(
                f"[mwaa]   note: Airflow {built.env.airflow} ignores {plugin['unsupported']} "
                f"of plugin {plugin['name']!r}"
            )


def test_mwaa_side_tasks_run_without_torch(mwaa):
    """What runs on MWAA itself needs only docker/mwaa/requirements.txt."""
    built, _ = mwaa
    result = mwaa_envs.run_probe(built.python, "runtime")
    assert result["torch_loaded"] is False
    assert "validate" in result["ran"] and "calibrate" in result["ran"]
    say(
        f"[mwaa] {built.env.name}: ran {', '.join(result['ran'])} in {result['wall_s']:.1f} s "
        f"with {result['versions']}"
    )
    needs_torch = [m for m, how in result["training_image_modules"].items() if how != "imports"]
    say(f"[mwaa]   left to the training image (not importable here): {needs_torch}")


BATCH_ENV = {  # what MWAA's configuration options carry (terraform/modules/mwaa)
    "AIRFLOW__FORECOURT__RUNNER": "batch",
    "AIRFLOW__FORECOURT__BATCH_JOB_QUEUE": "forecourt-dev-training",
    "AIRFLOW__FORECOURT__BATCH_JOB_DEFINITION": "forecourt-dev-training",
}


def test_the_batch_runner_parses_and_serializes_on_mwaa(mwaa):
    """Runner `batch` as MWAA sets it: the same tasks, the torch steps BatchOperators of the
    Amazon provider MWAA ships, serialized as the DAG processor does, torch-free. (The
    whole DAG runs this way on 3.3.1 and 3.0.6 in tests/test_rehearsal.py.)"""
    from rl_core.pipeline.contract import TORCH_STEPS

    built, parsed = mwaa
    batch = mwaa_envs.run_probe(built.python, "parse", extra_env=BATCH_ENV)
    assert batch["import_errors"] == {}, batch["import_errors"]
    assert batch["serialization"][DAG_ID] == "ok"
    assert set(batch["serialization"].values()) == {"ok"}
    assert batch["torch_at_parse"] is False and batch["rl_core_at_parse"] == []
    here, there = parsed["dags"][DAG_ID], batch["dags"][DAG_ID]
    assert there["task_ids"] == here["task_ids"]
    on_batch = {t for t, spec in there["tasks"].items() if spec["operator"] == "BatchOperator"}
    assert on_batch == {t for t in here["task_ids"] if t.rsplit(".", 1)[-1] in TORCH_STEPS}
    for task, spec in there["tasks"].items():
        assert spec["upstream"] == here["tasks"][task]["upstream"], task
    say(f"[mwaa] {built.env.name}: runner batch: {len(on_batch)} tasks are AWS Batch jobs")
