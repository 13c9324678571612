"""One step contract for every task of the daily DAG:

    forecourt pipeline step NAME --plan URI [--agent AGENT] [--trial N]

reads the plan (and the records of the steps before it) from the run's folder by URI,
writes its result JSON to <run folder>/steps/<NAME>[.<agent>][.trial-NN].json and prints it
as the last line of stdout. A step that raises writes `<same>.failed.json` with the error
instead, so the run report can say which step failed even when it ran on another machine.

The same dict of *job parameters* ({"step", "plan", "agent", "trial"}) drives the step in
every runner: the local runner calls `run_step(**job)` in the Airflow worker; the batch
runner submits it as the parameters of the AWS Batch job definition, whose command is
`forecourt pipeline step Ref::step --plan Ref::plan --agent Ref::agent --trial Ref::trial`
("-" stands for "not given").
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rl_core.errors import ForecourtError
from rl_core.pipeline import runfolder, steps
from rl_core.pipeline.plan import Plan

log = logging.getLogger(__name__)

NOT_GIVEN = "-"  # the job definition's default for --agent / --trial


@dataclass(frozen=True)
class Step:
    run: Callable[..., dict | list]
    per_agent: bool = False  # takes --agent
    per_trial: bool = False  # takes --trial (and --agent)
    torch: bool = False  # needs the training image: an AWS Batch job under the batch runner
    registry: bool = False  # talks to the MLflow registry: checked reachable first


STEPS: dict[str, Step] = {
    "validate": Step(steps.validate),
    "calibrate": Step(steps.calibrate),
    "plan_trials": Step(steps.plan_trials, per_agent=True),
    "train_trial": Step(steps.train_trial, per_agent=True, per_trial=True, torch=True),
    "pick_best": Step(steps.pick_best, per_agent=True),
    "register_challenger": Step(
        steps.register_challenger, per_agent=True, torch=True, registry=True
    ),
    "evaluate_vs_champion": Step(
        steps.evaluate_vs_champion, per_agent=True, torch=True, registry=True
    ),
    "promote_or_keep": Step(steps.promote_or_keep, per_agent=True, torch=True, registry=True),
    # verifies the tarball by loading the policy (torch); talks to SageMaker and MLflow
    "deploy_champion": Step(steps.deploy_champion, per_agent=True, torch=True, registry=True),
    "write_recommendations": Step(steps.write_recommendations, torch=True, registry=True),
}
TORCH_STEPS = tuple(name for name, s in STEPS.items() if s.torch)


class StepError(ForecourtError):
    """A step asked for wrongly (unknown name, a missing or superfluous agent or trial)."""


def job(step: str, plan: str, agent: str | None = None, trial: int | None = None) -> dict:
    """The job parameters of one step: what the batch runner submits to AWS Batch."""
    return {
        "step": step,
        "plan": plan,
        "agent": agent or NOT_GIVEN,
        "trial": NOT_GIVEN if trial is None else str(trial),
    }


def _given(value) -> str | None:
    return None if value in (None, "", NOT_GIVEN) else str(value)


def step_key(step: str, agent: str | None = None, trial: int | None = None) -> str:
    key = step
    if agent:
        key += f".{agent}"
    if trial is not None:
        key += f".trial-{trial:02d}"
    return key


def run_step(step: str, plan: str, agent: str | None = None, trial=None) -> dict | list:
    """Run one step of the plan at URI `plan`; record and return its result."""
    spec = STEPS.get(step)
    if spec is None:
        raise StepError(f"unknown step {step!r}: one of {', '.join(STEPS)}")
    agent, trial_s = _given(agent), _given(trial)
    if spec.per_agent != (agent is not None):
        need = "needs --agent" if spec.per_agent else "takes no --agent"
        raise StepError(f"step {step} {need}")
    if spec.per_trial != (trial_s is not None):
        raise StepError(f"step {step} {'needs' if spec.per_trial else 'takes no'} --trial")
    try:
        trial_n = None if trial_s is None else int(trial_s)
    except ValueError:
        raise StepError(f"--trial {trial_s!r} is not a trial number") from None
    loaded = Plan.load(plan)
    key = step_key(step, agent, trial_n)
    folder = runfolder.join(loaded.folder, "steps")
    args = [a for a in (agent, trial_n) if a is not None]
    started = time.time()
    log.info("step %s of run %s (%s) on %s", key, loaded.run_id, loaded.uri, socket.gethostname())
    try:
        if spec.registry:
            from rl_core.registry.tracking import check_reachable

            check_reachable()
        result = spec.run(loaded, *args)
    except BaseException as exc:
        _record_failure(folder, key, exc, started)
        raise
    runfolder.save(folder, f"{key}.json", result)
    runfolder.remove(folder, f"{key}.failed.json")  # an earlier try failed; this one did not
    return result


def _record_failure(folder: str, key: str, exc: BaseException, started: float) -> None:
    record = {
        "step": key,
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(limit=8)[-4000:],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "after_s": round(time.time() - started, 1),
        "host": socket.gethostname(),
        "batch_job_id": os.environ.get("AWS_BATCH_JOB_ID"),
    }
    try:
        runfolder.save(folder, f"{key}.failed.json", record)
    except Exception as err:  # noqa: BLE001 - the original error matters more
        log.error("could not record the failure of %s in %s: %s", key, folder, err)


def failed_steps(folder: str) -> list[dict]:
    """The failures recorded in a run folder, by the steps themselves and by Airflow's
    failure callback (a killed job leaves only the latter), oldest first."""
    out = []
    for sub in ("steps", "failures"):
        base = runfolder.join(folder, sub)
        for name in runfolder.names(base, "*.failed.json"):
            record = runfolder.load(base, name)
            if record:
                out.append({"source": sub, **record})
    return sorted(out, key=lambda r: r.get("at") or "")


def trial_jobs(plan: str, agent: str) -> list[dict]:
    """Plan the agent's trials (the plan_trials step) and return one train_trial job each."""
    trials = run_step("plan_trials", plan, agent=agent)
    return [job("train_trial", plan, agent, t["trial"]) for t in trials]
