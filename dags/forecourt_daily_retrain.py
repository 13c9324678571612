"""
### Forecourt daily retraining

Every day: wait for the day's pricing delivery, validate it (Great Expectations; a bad
file is quarantined and the run stops, champions untouched), calibrate the market
simulator on the trailing window, run a hyperparameter search per agent (mapped
trials, objective: total reward), register the best trial, evaluate it against the
champion on the same seeded scenarios of today's market, promote only a significant
win, write tomorrow's prices from the champions, and publish a run report.

Trigger it with the form to change agents, trials, concurrency, training budget, or to
make a dry run or a forced promotion (with a reason, recorded on the model).
Wiring only: each task is one call into `rl_core.pipeline`, imported inside the task.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Param, TaskGroup, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

try:  # Airflow >= 3.1 moved the task exceptions into the SDK
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.0.x (MWAA's floor)
    from airflow.exceptions import AirflowFailException

# On MWAA, settings arrive as Airflow config options ("forecourt.sns_topic_arn" becomes
# AIRFLOW__FORECOURT__SNS_TOPIC_ARN); rl_core reads FORECOURT_*. Tasks parse this file too.
for _key, _value in list(os.environ.items()):
    if _key.startswith("AIRFLOW__FORECOURT__"):
        os.environ.setdefault("FORECOURT_" + _key.removeprefix("AIRFLOW__FORECOURT__"), _value)

AGENTS = ("demand", "profit")
MAX_CONCURRENT_TRIALS = 4  # seed 003: at most 4 tuning jobs at once
RETRY_DELAY = timedelta(seconds=int(os.environ.get("FORECOURT_RETRY_DELAY_S", "120")))
SENSOR_MODE = os.environ.get("FORECOURT_SENSOR_MODE", "reschedule")
DELIVERY_TIMEOUT = timedelta(hours=float(os.environ.get("FORECOURT_DELIVERY_TIMEOUT_H", "12")))


def notify_failure(context) -> None:
    """Every failed task: logged locally, and to SNS when FORECOURT_SNS_TOPIC_ARN is set."""
    from rl_core.pipeline.notify import task_failed

    ti = context["ti"]
    task_failed(
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=getattr(ti, "map_index", -1),
        try_number=getattr(ti, "try_number", None),
        error=repr(context.get("exception")),
    )


@dag(
    dag_id="forecourt_daily_retrain",
    # daily data intervals: the run for [D, D+1) processes day D's prices, at 02:00 UTC
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=20),
    default_args={
        "owner": "forecourt",
        "retries": 2,
        "retry_delay": RETRY_DELAY,
        "on_failure_callback": notify_failure,
    },
    tags=["forecourt", "retraining"],
    doc_md=__doc__,
    params={
        "agents": Param(
            list(AGENTS),
            type="array",
            items={"type": "string", "enum": list(AGENTS)},
            title="Agents",
            description="Which agents to retrain (demand: litres sold; profit: margin).",
        ),
        "trials": Param(
            8,
            type="integer",
            minimum=1,
            maximum=64,
            title="Trials per agent",
            description="Hyperparameter trials per agent; trial 0 is the default setting.",
        ),
        "max_concurrent_trials": Param(
            MAX_CONCURRENT_TRIALS,
            type="integer",
            minimum=1,
            maximum=MAX_CONCURRENT_TRIALS,
            title="Trials at once",
            description="How many trials of an agent train together.",
        ),
        "env_steps": Param(
            600_000,
            type="integer",
            minimum=10_000,
            maximum=20_000_000,
            title="Training budget",
            description="Environment steps per trial.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Train, evaluate and report, but promote nothing and publish no prices.",
        ),
        "force_promotion": Param(
            False,
            type="boolean",
            title="Force promotion",
            description="Promote the best trial even if it did not beat the champion "
            "(never past a failed guardrail). Needs a reason.",
        ),
        "force_reason": Param(
            "",
            type=["null", "string"],
            title="Reason for forcing",
            description="Required with force promotion; recorded on the model version.",
        ),
        "calibration_days": Param(
            90,
            type="integer",
            minimum=14,
            maximum=730,
            title="Calibration window (days)",
        ),
        "seed": Param(0, type="integer", minimum=0, title="Seed"),
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Pricing day",
            description="Process this day (YYYY-MM-DD) instead of the run's data interval.",
        ),
    },
)
def forecourt_daily_retrain():
    @task(retries=0)
    def plan_run(params=None, dag_run=None, data_interval_start=None, logical_date=None) -> dict:
        from rl_core.pipeline.params import ParamsError, resolve_day
        from rl_core.pipeline.steps import plan_run

        try:
            day = resolve_day(
                params.get("day"), data_interval_start, logical_date, dag_run.run_after
            )
            return plan_run(dict(params), day, dag_run.run_id)
        except ParamsError as exc:  # a wrong form value: retrying cannot help
            raise AirflowFailException(str(exc)) from exc

    @task.sensor(poke_interval=60, timeout=DELIVERY_TIMEOUT, mode=SENSOR_MODE, retries=0)
    def wait_for_delivery(plan: dict):
        from airflow.sdk import PokeReturnValue

        from rl_core.pipeline.steps import delivery_files

        files = delivery_files(plan)
        return PokeReturnValue(is_done=bool(files), xcom_value=files)

    @task(retries=0)  # bad data stays bad: no retry, the summary is in this task's log
    def validate(plan: dict, files: list[str]) -> dict:
        from rl_core.pipeline.steps import validate_delivery
        from rl_core.validation import ValidationFailedError

        try:
            return validate_delivery(plan, files)
        except ValidationFailedError as exc:
            raise AirflowFailException(f"validation failed: {exc}") from exc

    @task
    def calibrate(plan: dict, validated: dict) -> dict:
        from rl_core.pipeline.steps import calibrate_market

        return calibrate_market(plan)

    @task
    def plan_trials(plan: dict, agent: str) -> list[dict]:
        from rl_core.pipeline.steps import plan_trials

        return plan_trials(plan, agent)

    @task(
        max_active_tis_per_dagrun=MAX_CONCURRENT_TRIALS,
        execution_timeout=timedelta(hours=2),
    )
    def train_trial(plan: dict, calibration: dict, trial: dict) -> dict:
        from rl_core.pipeline.steps import run_trial

        return run_trial(plan, calibration, trial)

    @task
    def pick_best(plan: dict, agent: str, trials: list[dict]) -> dict:
        from rl_core.pipeline.steps import pick_best

        # index, not iterate: iterating a lazy XCom sequence probes one past its end
        return pick_best(plan, agent, [trials[i] for i in range(len(trials))])

    @task
    def register_challenger(plan: dict, calibration: dict, best: dict) -> dict:
        from rl_core.pipeline.steps import register_best

        return register_best(plan, calibration, best)

    @task
    def evaluate_vs_champion(plan: dict, calibration: dict, registered: dict) -> dict:
        from rl_core.pipeline.steps import evaluate_challenger

        return evaluate_challenger(plan, calibration, registered)

    @task(retries=0)  # compare-and-set: a changed champion must be re-evaluated, not retried
    def promote_or_keep(plan: dict, decision: dict) -> dict:
        from rl_core.pipeline.steps import promote_or_keep

        return promote_or_keep(plan, decision)

    @task(trigger_rule="none_failed_min_one_success")
    def write_recommendations(plan: dict) -> dict:
        from rl_core.pipeline.steps import write_tomorrows_prices

        return write_tomorrows_prices(plan)

    @task(trigger_rule="all_done", retries=0)
    def run_report(plan: dict) -> dict:
        from rl_core.pipeline.report import write_run_report

        return write_run_report(plan["folder"])

    plan = plan_run()
    files = wait_for_delivery(plan)
    calibration = calibrate(plan, validate(plan, files))
    applied = []
    for agent in AGENTS:
        with TaskGroup(group_id=agent, tooltip=f"hyperparameter search and decision: {agent}"):
            planned = plan_trials(plan, agent)
            calibration >> planned  # no trial is planned for data that did not validate
            trials = train_trial.partial(plan=plan, calibration=calibration).expand(trial=planned)
            best = pick_best(plan, agent, trials)
            decision = evaluate_vs_champion(
                plan, calibration, register_challenger(plan, calibration, best)
            )
            applied.append(promote_or_keep(plan, decision))
    prices = write_recommendations(plan)
    applied >> prices
    # a teardown: runs whatever happened upstream, and does not decide the run's state
    prices >> run_report(plan).as_teardown()


forecourt_daily_retrain()
