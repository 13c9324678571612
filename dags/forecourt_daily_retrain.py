"""
### Forecourt daily retraining

Every day: wait for the day's pricing delivery, validate it (Great Expectations; a bad
file is quarantined and the run stops, champions untouched), calibrate the market
simulator on the trailing window, run a hyperparameter search per agent (mapped
trials, objective: total reward), register the best trial, evaluate it against the
champion on the same seeded scenarios of today's market, promote only a significant
win, deploy the champion to its SageMaker endpoint (when FORECOURT_SAGEMAKER is set;
a failed deploy rolls the promotion back), write tomorrow's prices from the champions,
and publish a run report.

Trigger it with the form to change agents, trials, concurrency, training budget, or to
make a dry run or a forced promotion (with a reason, recorded on the model).

Wiring only: every step is `forecourt pipeline step NAME --plan URI [--agent A] [--trial N]`
(rl_core.pipeline.contract). `FORECOURT_RUNNER` picks where the torch steps run: `local`
(in the Airflow worker, the default) or `batch` (AWS Batch jobs in the training image,
submitted by the Amazon provider's BatchOperator; MWAA workers stay torch-free).
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
RUNNER = os.environ.get("FORECOURT_RUNNER", "local").strip().lower()
# the steps that need torch (rl_core.pipeline.contract.TORCH_STEPS; a test keeps them equal):
# under the batch runner each is an AWS Batch job in the training image
TORCH_STEPS = (
    "train_trial",
    "register_challenger",
    "evaluate_vs_champion",
    "promote_or_keep",
    "deploy_champion",
    "write_recommendations",
)
MAX_CONCURRENT_TRIALS = 4  # seed 003: at most 4 tuning jobs at once
BATCH_POLL_S = int(os.environ.get("FORECOURT_BATCH_POLL_S", "30"))  # job status polls
RETRY_DELAY = timedelta(seconds=int(os.environ.get("FORECOURT_RETRY_DELAY_S", "120")))
SENSOR_MODE = os.environ.get("FORECOURT_SENSOR_MODE", "reschedule")
DELIVERY_TIMEOUT = timedelta(hours=float(os.environ.get("FORECOURT_DELIVERY_TIMEOUT_H", "12")))


def notify_failure(context) -> None:
    """Every failed task: logged locally, and to SNS when FORECOURT_SNS_TOPIC_ARN is set."""
    from rl_core.pipeline.notify import task_failed

    ti = context["ti"]
    try:  # the run's folder, so the run report can name the failed step
        plan = ti.xcom_pull(task_ids="plan_run")
    except Exception:  # noqa: BLE001 - the failure is recorded either way
        plan = None
    task_failed(
        plan=plan if isinstance(plan, str) else None,
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
    def plan_run(params=None, dag_run=None, data_interval_start=None, logical_date=None) -> str:
        """Check the form and the platform's settings; returns the plan's URI."""
        from rl_core.pipeline.params import ParamsError, resolve_day
        from rl_core.pipeline.settings import SettingsError, preflight
        from rl_core.pipeline.steps import plan_run

        try:
            preflight()  # a missing Terraform output or an unreachable registry: stop here
            day = resolve_day(
                params.get("day"), data_interval_start, logical_date, dag_run.run_after
            )
            return plan_run(dict(params), day, dag_run.run_id).uri
        except (ParamsError, SettingsError) as exc:  # retrying cannot help
            raise AirflowFailException(str(exc)) from exc

    @task.sensor(poke_interval=60, timeout=DELIVERY_TIMEOUT, mode=SENSOR_MODE, retries=0)
    def wait_for_delivery(plan: str):
        from airflow.sdk import PokeReturnValue

        from rl_core.pipeline.plan import Plan
        from rl_core.pipeline.steps import delivery_files

        files = delivery_files(Plan.load(plan))
        return PokeReturnValue(is_done=bool(files), xcom_value=files)

    @task
    def step(job: dict):
        """One step in this worker: what `forecourt pipeline step` runs, in-process."""
        from rl_core.pipeline.contract import StepError, run_step
        from rl_core.pipeline.steps import MissingInputError
        from rl_core.validation import ValidationFailedError

        try:
            return run_step(**job)
        except (ValidationFailedError, StepError, MissingInputError) as exc:
            raise AirflowFailException(f"{job['step']} failed: {exc}") from exc

    @task
    def plan_trials(plan: str, agent: str) -> list[dict]:
        """The agent's trials, one step job each ([] when the run leaves the agent out)."""
        from rl_core.pipeline.contract import trial_jobs

        return trial_jobs(plan, agent)

    @task(trigger_rule="all_done", retries=0)
    def run_report(plan: str) -> dict:
        from rl_core.pipeline.report import write_run_report

        return write_run_report(plan)

    def job(name: str, agent: str | None = None) -> dict:
        """A step's job parameters (rl_core.pipeline.contract.job); "-": not given."""
        return {"step": name, "plan": plan, "agent": agent or "-", "trial": "-"}

    def batch_args(task_id: str) -> dict:
        """The batch runner: the step as an AWS Batch job of the training image, whose job
        definition (Terraform's) runs `forecourt pipeline step` with the job's parameters."""
        return {
            "task_id": task_id,
            "job_name": f"forecourt-{task_id}",
            "job_queue": os.environ.get("FORECOURT_BATCH_JOB_QUEUE", ""),
            "job_definition": os.environ.get("FORECOURT_BATCH_JOB_DEFINITION", ""),
            "deferrable": os.environ.get("FORECOURT_BATCH_DEFERRABLE", "true").lower() == "true",
            "awslogs_enabled": True,  # the job's output in this task's log
            "poll_interval": BATCH_POLL_S,
            "awslogs_fetch_interval": timedelta(seconds=BATCH_POLL_S),
        }

    def run(name: str, agent: str | None = None, **task_args):
        """One step, where the runner says: torch steps go to Batch under `batch`."""
        if RUNNER == "batch" and name in TORCH_STEPS:
            from airflow.providers.amazon.aws.operators.batch import BatchOperator

            return BatchOperator(**batch_args(name), parameters=job(name, agent), **task_args)
        return step.override(task_id=name, **task_args)(job(name, agent))

    plan = plan_run()
    files = wait_for_delivery(plan)
    # bad data stays bad: no retry, the summary is in this task's log
    validated = run("validate", retries=0)
    files >> validated
    calibration = run("calibrate")
    validated >> calibration
    applied = []
    trial_args = {
        "max_active_tis_per_dagrun": MAX_CONCURRENT_TRIALS,
        "execution_timeout": timedelta(hours=2),
    }
    for agent in AGENTS:
        with TaskGroup(group_id=agent, tooltip=f"hyperparameter search and decision: {agent}"):
            planned = plan_trials(plan, agent)
            calibration >> planned  # no trial is planned for data that did not validate
            if RUNNER == "batch":
                from airflow.providers.amazon.aws.operators.batch import BatchOperator

                trials = BatchOperator.partial(**batch_args("train_trial"), **trial_args).expand(
                    parameters=planned
                )
            else:
                trials = step.override(task_id="train_trial", **trial_args).expand(job=planned)
            best = run("pick_best", agent)
            registered = run("register_challenger", agent)
            decided = run("evaluate_vs_champion", agent)
            # compare-and-set: a changed champion must be re-evaluated, not retried
            promoted = run("promote_or_keep", agent, retries=0)
            # the champion onto its SageMaker endpoint (a no-op without FORECOURT_SAGEMAKER);
            # no retry: a failed deploy rolls the alias back, a busy endpoint stays busy
            deployed = run("deploy_champion", agent, retries=0)
            trials >> best >> registered >> decided >> promoted >> deployed
            # prices after the deploy: they read the alias as the deploy left it
            applied.append(deployed)
    prices = run("write_recommendations", trigger_rule="none_failed_min_one_success")
    applied >> prices
    # a teardown: runs whatever happened upstream, and does not decide the run's state
    prices >> run_report(plan).as_teardown()


forecourt_daily_retrain()
