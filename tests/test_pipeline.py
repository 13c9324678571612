"""The daily job's pieces, without Airflow: parameters, the search, the trial slots, the
checkpoint round trip, promote-or-keep (dry run, forced), the report of a stopped run,
telemetry and failure notifications (local, and through a real moto AWS endpoint)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rl_core.errors import ForecourtError
from rl_core.pipeline import steps
from rl_core.pipeline.params import ParamsError, RunParams, resolve_day
from rl_core.pipeline.report import collect, write_run_report
from rl_core.pipeline.search import (
    DEFAULTS,
    NETWORK_DEFAULTS,
    NETWORK_SEARCH_SPACE,
    SEARCH_SPACE,
    trial_configs,
)
from rl_core.pipeline.slots import trial_slot
from rl_core.telemetry import METRICS, emit, read_local


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECOURT_HOME", str(tmp_path / "forecourt"))
    monkeypatch.delenv("FORECOURT_METRICS", raising=False)
    monkeypatch.delenv("FORECOURT_SNS_TOPIC_ARN", raising=False)
    return tmp_path / "forecourt"


# ---- parameters ------------------------------------------------------------------------------


def test_params_defaults_are_seed_003s_search():
    p = RunParams.from_mapping({})
    assert p.agents == ("demand", "profit") and p.trials == 8 and p.max_concurrent_trials == 4


def test_params_accept_the_forms_shapes():
    p = RunParams.from_mapping({"agents": "profit", "force_reason": None, "day": "2026-03-01"})
    assert p.agents == ("profit",) and p.force_reason == "" and p.day == "2026-03-01"


@pytest.mark.parametrize(
    "values, words",
    [
        ({"agents": ["price"]}, "choose one or more of"),
        ({"agents": []}, "choose one or more of"),
        ({"agents": ["profit", "profit"]}, "twice"),
        ({"trials": 0}, "trials=0"),
        ({"trials": True}, "trials=True"),
        ({"max_concurrent_trials": 5}, "max_concurrent_trials=5"),
        ({"env_steps": 100}, "env_steps=100"),
        ({"force_promotion": True}, "needs a force_reason"),
        ({"force_promotion": True, "force_reason": "  "}, "needs a force_reason"),
        ({"force_promotion": True, "force_reason": "x", "dry_run": True}, "contradict"),
        ({"day": "yesterday"}, "not a date"),
        ({"trails": 3}, "unknown parameter"),
    ],
)
def test_bad_params_are_named(values, words):
    with pytest.raises(ParamsError, match=words):
        RunParams.from_mapping(values)


def test_which_day_a_run_processes():
    t = datetime(2026, 3, 10, 2, tzinfo=UTC)
    assert resolve_day("2026-01-01", t, t, t) == date(2026, 1, 1)  # the form wins
    assert resolve_day(None, t, None, None) == date(2026, 3, 10)  # the data interval
    assert resolve_day(None, None, t, None) == date(2026, 3, 10)
    assert resolve_day(None, None, None, t) == date(2026, 3, 9)  # manual, no logical date
    with pytest.raises(ParamsError):
        resolve_day(None, None, None, None)


# ---- the search ------------------------------------------------------------------------------


def test_trials_start_from_the_defaults_and_are_distinct_and_repeatable():
    trials = trial_configs("profit", "2026-03-10", 8, seed=0)
    assert [t["trial"] for t in trials] == list(range(8))
    assert trials[0]["hyperparameters"] == {
        k: list(v) if isinstance(v, tuple) else v for k, v in DEFAULTS.items()
    }
    keys = {json.dumps(t["hyperparameters"], sort_keys=True) for t in trials}
    assert len(keys) == 8
    for t in trials:
        for name, value in t["hyperparameters"].items():
            allowed = [list(v) if isinstance(v, tuple) else v for v in SEARCH_SPACE[name]]
            assert value in allowed
    assert trials == trial_configs("profit", "2026-03-10", 8, seed=0)
    assert trials != trial_configs("profit", "2026-03-11", 8, seed=0)
    assert trials != trial_configs("demand", "2026-03-10", 8, seed=0)


def test_search_defaults_are_the_training_defaults():
    """Trial 0 is what a plain training run uses: derived from DQNConfig, never copied."""
    from rl_core.agents.dqn import DQNConfig
    from rl_core.training.network import network_config

    assert {name: getattr(DQNConfig(), name) for name in SEARCH_SPACE} == DEFAULTS
    network = network_config()
    assert {name: getattr(network, name) for name in NETWORK_SEARCH_SPACE} == NETWORK_DEFAULTS
    assert NETWORK_DEFAULTS["hidden"] == (128, 128) and DEFAULTS["hidden"] == (64, 64)
    for defaults, space in ((DEFAULTS, SEARCH_SPACE), (NETWORK_DEFAULTS, NETWORK_SEARCH_SPACE)):
        assert all(defaults[name] in values for name, values in space.items())


NO_TORCH = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "gymnasium"):
            raise ModuleNotFoundError(f"No module named {name!r} (MWAA has none)")
sys.meta_path.insert(0, Block())
import rl_core.pipeline.steps, rl_core.pipeline.search
trials = rl_core.pipeline.search.trial_configs("profit", "2026-03-10", 3, network=True)
assert trials[0]["hyperparameters"]["hidden"] == [128, 128], trials
print("OK")
"""


def test_the_search_plans_without_torch_or_gymnasium():
    """plan_trials runs on the MWAA worker: no torch, no gymnasium there."""
    out = subprocess.run(
        [sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stderr[-2000:]


def test_trial_slots_limit_concurrency(tmp_path, monkeypatch):
    """With 2 slots, two trials hold one each at the same time, a third waits until one is
    free, then gets it. Events, not sleeps: nothing depends on how fast the machine is."""
    import rl_core.pipeline.slots as slots

    folder = tmp_path / "slots"
    both_in = threading.Barrier(3, timeout=30)  # the two holders and this test
    release, third_waits, third_in = threading.Event(), threading.Event(), threading.Event()
    real_sleep = slots.time.sleep

    def sleep(seconds):  # the slot loop sleeps only when every slot is busy
        if threading.current_thread().name == "third":
            third_waits.set()
        real_sleep(seconds)

    monkeypatch.setattr(slots.time, "sleep", sleep)

    def holder():
        with trial_slot(folder, 2, poll_s=0.01):
            both_in.wait()  # raises BrokenBarrierError unless both hold a slot at once
            release.wait(30)

    def third():
        with trial_slot(folder, 2, poll_s=0.01):
            third_in.set()

    holders = [threading.Thread(target=holder) for _ in range(2)]
    for t in holders:
        t.start()
    both_in.wait()  # two trials train at once
    waiter = threading.Thread(target=third, name="third")
    waiter.start()
    assert third_waits.wait(30), "the third trial never found every slot busy"
    assert not third_in.is_set()  # ... and did not get in while both were held
    release.set()
    assert third_in.wait(30), "the third trial never got the freed slot"
    for t in [*holders, waiter]:
        t.join(30)
        assert not t.is_alive()


# ---- a trained trial through register / decide / promote-or-keep ------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One profit agent (40k steps: beats the best flat price), checkpointed and bundled."""
    from rl_core.agents.dqn import DQNConfig
    from rl_core.market.model import Market
    from rl_core.training.bundle import write_bundle
    from rl_core.training.checkpoint import save_checkpoint
    from rl_core.training.train import train

    folder = tmp_path_factory.mktemp("trial")
    result = train(Market(), "profit", DQNConfig(total_env_steps=40_000))
    return (
        result,
        save_checkpoint(result, [Market()], folder),
        write_bundle(result, Market(), folder / "bundle"),
    )


def test_load_result_gives_back_the_train_result(trained):
    from rl_core.training.checkpoint import load_result

    result, checkpoint, _ = trained
    back = load_result(checkpoint)
    assert back.objective == result.objective and back.config == result.config
    assert json.dumps(back.curve) == json.dumps(result.curve)  # NaN losses compare as text
    assert back.env_steps == result.env_steps
    assert back.evaluation.total_reward == result.evaluation.total_reward
    assert (back.evaluation.prices == result.evaluation.prices).all()
    for net in ("q", "target"):
        mine, theirs = (
            getattr(back.agent, net).state_dict(),
            getattr(result.agent, net).state_dict(),
        )
        assert mine.keys() == theirs.keys()
        assert all(bool((mine[k] == theirs[k]).all()) for k in mine)


def _plan(home, **params):
    plan = steps.plan_run(params, date(2026, 3, 10), "manual__test", store=str(home / "store"))
    return plan


def _registered(trained, plan) -> None:
    """The challenger registered, as register_challenger leaves it in the run folder."""
    from rl_core.market.model import Market
    from rl_core.registry import register_challenger

    result, _, bundle = trained
    info = register_challenger(result, bundle, data_window={"test": 1}, market=Market())
    steps.save(plan.agent_folder("profit"), "registered.json", {"version": info.version})


def _calibrated(plan) -> None:
    """Today's market (the built-in one), as calibrate leaves it in the run folder."""
    from rl_core.market.model import Market

    market_file = steps.save(plan.folder, "market.json", {"market": Market().to_dict()})
    steps.save(plan.folder, "calibration.json", {"market_file": market_file})


def test_dry_run_promotes_nothing(home, trained):
    from rl_core.registry import champion_version

    plan = _plan(home, dry_run=True)
    _calibrated(plan)
    _registered(trained, plan)
    decision = steps.evaluate_vs_champion(plan, "profit")
    assert decision["outcome"] == "promoted"  # it would win...
    applied = steps.promote_or_keep(plan, "profit")
    assert applied["action"] == "dry-run" and "would have been promoted" in applied["reason"]
    assert champion_version("profit") is None  # ...but nothing moved
    assert steps.write_recommendations(plan)["written"] is False


def test_forced_promotion_is_recorded_and_refused_past_a_guardrail(home, trained):
    from rl_core.registry import champion_version
    from rl_core.registry.tracking import client, model_name

    plan = _plan(home, force_promotion=True, force_reason="ops ticket 42")
    _calibrated(plan)
    _registered(trained, plan)
    decision = steps.evaluate_vs_champion(plan, "profit")
    decision["outcome"], decision["reason"] = "rejected", "pretend it lost"
    broken = {**decision, "guardrails": [{"name": "max_daily_move", "passed": False}]}
    steps.save(plan.agent_folder("profit"), "decision.json", broken)
    refused = steps.promote_or_keep(plan, "profit")
    assert refused["action"] == "rejected" and "guardrails failed" in refused["reason"]
    assert champion_version("profit") is None
    steps.save(plan.agent_folder("profit"), "decision.json", decision)
    forced = steps.promote_or_keep(plan, "profit")
    assert (
        forced["action"] == "forced"
        and champion_version("profit") == decision["challenger_version"]
    )
    tags = client().get_model_version(model_name("profit"), decision["challenger_version"]).tags
    assert (
        "FORCED" in tags["forecourt.promote_reason"]
        and "ops ticket 42" in tags["forecourt.promote_reason"]
    )


# ---- the report of a run that stopped ---------------------------------------------------------


def test_report_of_a_run_stopped_by_validation(home):
    plan = _plan(home)
    steps.save(plan.folder, "validation.json", {"valid": False, "headline": "x failed: y"})
    run = collect(plan.folder)
    assert run["status"].startswith("stopped: the delivery failed validation")
    out = write_run_report(plan.folder)
    text = Path(out["report"]).read_text()
    assert "x failed: y" in text and "not written" in text and out["plot"] is None


def test_report_of_a_run_without_delivery(home):
    plan = _plan(home)
    assert collect(plan.folder)["status"].startswith("stopped before validation")


# ---- telemetry and notifications --------------------------------------------------------------


def test_emit_checks_the_catalogue(home):
    with pytest.raises(ForecourtError, match="unknown metric"):
        emit("NoSuchMetric", 1)
    with pytest.raises(ForecourtError, match="takes dimensions"):
        emit("TrialTotalReward", 1.0)
    point = emit("TrialTotalReward", 5.0, Agent="profit")
    assert point["dimensions"] == {"Environment": "local", "Agent": "profit"}
    assert emit("TrialTotalReward", float("nan"), Agent="profit") is None
    assert [p["value"] for p in read_local("TrialTotalReward")] == [5.0]


def test_metrics_off_and_bad_sink(home, monkeypatch):
    monkeypatch.setenv("FORECOURT_METRICS", "off")
    assert emit("DeliveryRows", 3) is None and read_local() == []
    monkeypatch.setenv("FORECOURT_METRICS", "statsd")
    with pytest.raises(ForecourtError, match="FORECOURT_METRICS"):
        emit("DeliveryRows", 3)


def test_cloudwatch_sink_puts_catalogued_metrics(aws, monkeypatch):
    import boto3

    monkeypatch.setenv("FORECOURT_METRICS", "cloudwatch")
    monkeypatch.setenv("FORECOURT_ENV", "dev")
    assert emit("Promotions", 1, Agent="profit") is not None
    listed = boto3.client("cloudwatch").list_metrics(Namespace="Forecourt")["Metrics"]
    assert [m["MetricName"] for m in listed] == ["Promotions"]
    dims = {d["Name"]: d["Value"] for d in listed[0]["Dimensions"]}
    assert dims == {"Environment": "dev", "Agent": "profit"}
    assert set(METRICS["Promotions"].dimensions) | {"Environment"} == set(dims)


def test_failure_notification_reaches_sns(aws, home, monkeypatch):
    """Through a real SNS topic with an SQS subscriber, on the moto endpoint."""
    import boto3

    from rl_core.pipeline.notify import task_failed

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="forecourt-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    monkeypatch.setenv("FORECOURT_SNS_TOPIC_ARN", topic)
    msg = task_failed(
        dag_id="forecourt_daily_retrain", run_id="r1", task_id="validate", error="bad data"
    )
    assert msg["sns"] == topic
    body = json.loads(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"][0]["Body"])
    assert body["Subject"] == "Forecourt: validate failed"
    assert json.loads(body["Message"])["error"] == "bad data"
    local = (home / "notifications" / "failures.jsonl").read_text().splitlines()
    assert json.loads(local[-1])["task"] == "validate"


def test_a_notification_that_cannot_be_sent_does_not_raise(aws, home, monkeypatch):
    from rl_core.pipeline.notify import task_failed

    monkeypatch.setenv("FORECOURT_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:nope")
    msg = task_failed(dag_id="d", run_id="r", task_id="t", map_index=3, error="boom")
    assert "sns" not in msg and msg["task"] == "t[3]"


def test_a_station_outside_the_champions_grid_is_priced_not_fatal(trained):
    """Yesterday's price just below the champion's grid: priced from the nearest grid price,
    named, and every other station still gets its price (found by the two-day demo)."""
    import pandas as pd

    from rl_core.serving.batch import recommend_batch
    from rl_core.serving.predictor import LoadedModel

    _, _, bundle = trained
    model = LoadedModel.load(bundle, "1")
    low, high = model.price_bounds()
    today = pd.DataFrame(
        {
            "station_id": ["S1", "S2", "S3"],
            "price": [low - 0.05, (low + high) / 2, high + 0.2],
            "unit_cost": [1.6, 1.6, 1.6],
        }
    )
    with pytest.raises(ForecourtError, match="outside this model's price grid"):
        recommend_batch(model, today)  # the strict API still refuses
    stations, clipped = steps._into_grid(today, model)
    assert clipped == ["S1", "S3"]
    recs = recommend_batch(model, stations)
    assert len(recs) == 3 and recs["price"].between(low, high).all()
