"""
### Forecourt cross-account promotion

Hands the champion on, dev -> preprod -> prod, as a hash-verified promotion package with its
lineage (rl_core.registry.handoff; docs/promotion.md). What this DAG does depends on the
account (`FORECOURT_ENV`, or `FORECOURT_PROMOTION_STAGE` to override):

- **dev**: publish each agent's champion to this account's outbox (idempotent: the same
  bundle is published once).
- **preprod**: import the newest package from dev's outbox, evaluate it against preprod's
  champion on preprod's own calibrated market (the newest daily run's, or the `market`
  parameter), and forward it to preprod's outbox if it wins.
- **prod**: import the newest package from preprod's outbox *pending approval*, wait for a
  person to approve it (the Airflow UI's Required Actions on Airflow >= 3.1, or
  `forecourt registry approve AGENT VERSION --by NAME --reason TEXT`), then make exactly
  that artifact the champion.

Settings: `FORECOURT_PROMOTION_SOURCE` (the upstream account's outbox URI) and
`FORECOURT_PROMOTION_OUTBOX` (this account's), from Terraform's outputs. Wiring only: every
task is one `rl_core.registry` call, imported inside the task; with `FORECOURT_RUNNER=batch`
the steps that read or write artifacts run as AWS Batch jobs of the training image (which
holds the rights on the upstream outbox), as `forecourt registry ...` commands.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Param, TaskGroup, dag, task

try:  # Airflow >= 3.1 moved the task exceptions into the SDK
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # pragma: no cover - Airflow 3.0.x (MWAA's floor)
    from airflow.exceptions import AirflowFailException, AirflowSkipException

# On MWAA, settings arrive as Airflow config options ("forecourt.promotion_source" becomes
# AIRFLOW__FORECOURT__PROMOTION_SOURCE); rl_core reads FORECOURT_*. Tasks parse this file too.
for _key, _value in list(os.environ.items()):
    if _key.startswith("AIRFLOW__FORECOURT__"):
        os.environ.setdefault("FORECOURT_" + _key.removeprefix("AIRFLOW__FORECOURT__"), _value)

AGENTS = ("demand", "profit")
ENV = os.environ.get("FORECOURT_ENV", "local").strip().lower()
STAGE = os.environ.get("FORECOURT_PROMOTION_STAGE", ENV).strip().lower()
if STAGE not in ("dev", "preprod", "prod"):
    STAGE = "dev"  # locally: publish, a no-op until FORECOURT_PROMOTION_OUTBOX is set
SOURCE = os.environ.get("FORECOURT_PROMOTION_SOURCE", "")
OUTBOX = os.environ.get("FORECOURT_PROMOTION_OUTBOX", "")
RUNNER = os.environ.get("FORECOURT_RUNNER", "local").strip().lower()
RETRY_DELAY = timedelta(seconds=int(os.environ.get("FORECOURT_RETRY_DELAY_S", "120")))
APPROVAL_WAIT = timedelta(days=float(os.environ.get("FORECOURT_APPROVAL_WAIT_DAYS", "7")))
APPROVAL_POKE_S = int(os.environ.get("FORECOURT_APPROVAL_POKE_S", "600"))
BATCH_POLL_S = int(os.environ.get("FORECOURT_BATCH_POLL_S", "30"))

# the approval gate: Airflow's human-in-the-loop operator where it exists (>= 3.1), else a
# sensor on the registry's approval tags. FORECOURT_APPROVAL_MODE=registry forces the latter.
ApprovalOperator = None
if STAGE == "prod" and os.environ.get("FORECOURT_APPROVAL_MODE", "hitl").lower() != "registry":
    try:
        from airflow.providers.standard.operators.hitl import ApprovalOperator
    except Exception:  # noqa: BLE001 - ImportError, or "needs Airflow 3.1+" on 3.0.x
        ApprovalOperator = None


def notify_failure(context) -> None:
    """Every failed task: logged locally, and to SNS when FORECOURT_SNS_TOPIC_ARN is set."""
    from rl_core.pipeline.notify import task_failed

    ti = context["ti"]
    task_failed(
        plan=None,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=getattr(ti, "map_index", -1),
        try_number=getattr(ti, "try_number", None),
        error=repr(context.get("exception")),
    )


@dag(
    dag_id="forecourt_promotion",
    schedule="20 * * * *" if ENV in ("dev", "preprod", "prod") else None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one hand-off at a time: imports and alias moves never race
    dagrun_timeout=APPROVAL_WAIT + timedelta(hours=6),
    default_args={
        "owner": "forecourt",
        "retries": 2,
        "retry_delay": RETRY_DELAY,
        "on_failure_callback": notify_failure,
    },
    tags=["forecourt", "promotion", STAGE],
    doc_md=__doc__,
    params={
        "market": Param(
            None,
            type=["null", "string"],
            title="Market (preprod)",
            description="URI of a market or calibration JSON to validate on; empty: the "
            "newest calibration of this account's daily runs.",
        ),
    },
)
def forecourt_promotion():
    def batch(agent: str, task_id: str, command: list[str], **task_args):
        """A `forecourt registry ...` command as an AWS Batch job of the training image."""
        from airflow.providers.amazon.aws.operators.batch import BatchOperator

        return BatchOperator(
            task_id=task_id,
            job_name=f"forecourt-{agent}-{task_id}",
            job_queue=os.environ.get("FORECOURT_BATCH_JOB_QUEUE", ""),
            job_definition=os.environ.get("FORECOURT_BATCH_JOB_DEFINITION", ""),
            container_overrides={"command": ["forecourt", "registry", *command]},
            deferrable=os.environ.get("FORECOURT_BATCH_DEFERRABLE", "true").lower() == "true",
            awslogs_enabled=True,
            poll_interval=BATCH_POLL_S,
            awslogs_fetch_interval=timedelta(seconds=BATCH_POLL_S),
            **task_args,
        )

    @task
    def publish(agent: str) -> dict:
        """dev: the champion into this account's outbox (idempotent)."""
        from rl_core.registry.handoff import publish_champion

        if not OUTBOX:
            raise AirflowSkipException("FORECOURT_PROMOTION_OUTBOX is not set: nothing to do")
        return publish_champion(agent, OUTBOX, note=f"published by {ENV}")

    @task
    def validate_and_forward(agent: str, params=None) -> dict:
        """preprod: the newest dev package, decided on preprod's market, forwarded on a win."""
        from rl_core.registry.handoff import forward_newest

        if not SOURCE:
            raise AirflowFailException("FORECOURT_PROMOTION_SOURCE is not set")
        return forward_newest(agent, SOURCE, OUTBOX or None, (params or {}).get("market"))

    @task
    def receive(agent: str) -> dict:
        """prod: the newest preprod package, imported pending approval."""
        from rl_core.registry.handoff import receive_newest

        if not SOURCE:
            raise AirflowFailException("FORECOURT_PROMOTION_SOURCE is not set")
        return receive_newest(agent, SOURCE, require_approval=True)

    @task
    def find_awaiting(agent: str) -> str:
        """prod: the newest version awaiting approval (or approved, not yet in service)."""
        from rl_core.registry.approval import awaiting

        found = awaiting(agent)
        if not found:
            raise AirflowSkipException(f"{agent}: no version awaiting approval")
        return found[-1]["version"]

    @task.sensor(poke_interval=APPROVAL_POKE_S, timeout=APPROVAL_WAIT, mode="reschedule", retries=0)
    def await_approval(agent: str, version: str):
        """prod without HITL: wait for `forecourt registry approve` (a rejection fails)."""
        from airflow.sdk import PokeReturnValue

        from rl_core.registry.approval import ApprovalError, approve_command, check

        try:
            st = check(agent, version)
        except ApprovalError as exc:
            raise AirflowFailException(str(exc)) from exc
        if st != "approved":
            print(f"awaiting approval: run `{approve_command(agent, version)}`")
        return PokeReturnValue(is_done=st == "approved", xcom_value=version)

    @task
    def record_approval(agent: str, version: str, response: dict) -> str:
        """prod with HITL: the UI's approval, recorded on the model version (by whom)."""
        from rl_core.registry.approval import approve

        user = (response or {}).get("responded_by_user") or {}
        by = user.get("name") or user.get("id") or "airflow-ui"
        approve(agent, version, by, f"approved in the Airflow UI (forecourt_promotion, {ENV})")
        return version

    @task(trigger_rule="all_skipped")
    def record_rejection(agent: str, ti=None) -> None:
        """prod with HITL: a rejection in the UI, recorded on the model version too."""
        from rl_core.registry.approval import reject

        response = ti.xcom_pull(task_ids=f"{agent}.approval")
        version = ti.xcom_pull(task_ids=f"{agent}.find_awaiting")
        if not response or not version or "Reject" not in response.get("chosen_options", []):
            return
        user = response.get("responded_by_user") or {}
        by = user.get("name") or user.get("id") or "airflow-ui"
        reject(agent, version, by, f"rejected in the Airflow UI (forecourt_promotion, {ENV})")

    @task(retries=0)  # compare-and-set on the champion: decide again, never blindly retry
    def promote_approved(agent: str, version: str) -> dict:
        from rl_core.registry.approval import ApprovalError
        from rl_core.registry.handoff import promote_approved

        try:
            return promote_approved(agent, version)
        except ApprovalError as exc:
            raise AirflowFailException(str(exc)) from exc

    for agent in AGENTS:
        with TaskGroup(group_id=agent, tooltip=f"promotion of the {agent} agent ({STAGE})"):
            if STAGE == "dev":
                if RUNNER == "batch" and OUTBOX:
                    batch(agent, "publish", ["propose", agent, "--outbox", OUTBOX])
                else:
                    publish.override(task_id="publish")(agent)
            elif STAGE == "preprod":
                if RUNNER == "batch" and SOURCE:
                    command = ["receive", agent, "--source", SOURCE, "--validate"]
                    command += ["--outbox", OUTBOX] if OUTBOX else []
                    command.append("--market={{ params.market or '' }}")  # empty: newest run's
                    batch(agent, "validate_and_forward", command)
                else:
                    validate_and_forward.override(task_id="validate_and_forward")(agent)
            else:  # prod
                if RUNNER == "batch" and SOURCE:
                    command = ["receive", agent, "--source", SOURCE, "--require-approval"]
                    received = batch(agent, "receive", command)
                else:
                    received = receive.override(task_id="receive")(agent)
                version = find_awaiting.override(task_id="find_awaiting")(agent)
                received >> version
                if ApprovalOperator is not None:
                    gate = ApprovalOperator(
                        task_id="approval",
                        subject=f"Promote forecourt-{agent} v{{{{ ti.xcom_pull("
                        f"task_ids='{agent}.find_awaiting') }}}} to the prod champion?",
                        body="Imported from preprod's outbox after preprod validated it. "
                        f"Lineage and hashes: `forecourt registry pending {agent}`. Approving "
                        "records your name on the model version and promotes exactly this "
                        "artifact (its sha256 is re-checked).",
                        response_timeout=APPROVAL_WAIT,
                    )
                    version >> gate
                    approved = record_approval.override(task_id="record_approval")(
                        agent, version, gate.output
                    )
                    approved >> record_rejection.override(task_id="record_rejection")(agent)
                else:
                    approved = await_approval.override(task_id="await_approval")(agent, version)
                if RUNNER == "batch":
                    pulled = f"{{{{ ti.xcom_pull(task_ids='{agent}.find_awaiting') }}}}"
                    command = ["promote-approved", agent, pulled]
                    promote = batch(agent, "promote_approved", command, retries=0)
                    approved >> promote
                else:
                    promote_approved.override(task_id="promote_approved")(agent, approved)


forecourt_promotion()
