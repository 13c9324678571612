"""The daily job's steps, one per Airflow task and one `forecourt pipeline step NAME`.

Every step takes the run's `Plan` (and the agent, and the trial, where it has one), reads
what the steps before it recorded in the run's folder, records its own result there as
JSON, and returns that result. Nothing else passes between steps, so each can run where
its dependencies are: torch-free steps in the Airflow worker, torch steps in an AWS Batch
job of the training image (rl_core.pipeline.contract says which is which).
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import NoReturn

from rl_core.errors import ForecourtError
from rl_core.pipeline import runfolder
from rl_core.pipeline.params import RunParams
from rl_core.pipeline.plan import Plan, run_folder
from rl_core.pipeline.runfolder import load, save
from rl_core.telemetry import emit

log = logging.getLogger(__name__)

__all__ = ["Plan", "load", "run_folder", "save"]


class MissingInputError(ForecourtError):
    """A step's input is not in the run folder: the step before it did not finish."""


def _need(folder: str, name: str, producer: str) -> dict:
    record = load(folder, name)
    if record is None:
        raise MissingInputError(
            f"{runfolder.join(folder, name)} is missing: run {producer!r} first (did it fail?)"
        )
    return record


# ---- 1. plan ---------------------------------------------------------------------------------


def plan_run(
    params: dict, day: date, run_id: str, store: str | None = None, runs: str | None = None
) -> Plan:
    """Check the parameters, fix the day and the run's folder, save plan.json."""
    p = RunParams.from_mapping(params)
    plan = Plan.new(p, day, run_id, store=store, runs=runs)
    plan.save()
    log.info(
        "run %s: day %s, agents %s, %d trials each (at most %d at once), %s env steps per "
        "trial%s%s; run folder %s",
        run_id,
        day,
        ", ".join(p.agents),
        p.trials,
        p.max_concurrent_trials,
        f"{p.env_steps:,}",
        ", DRY RUN" if p.dry_run else "",
        f", FORCE PROMOTION ({p.force_reason})" if p.force_promotion else "",
        plan.folder,
    )
    return plan


# ---- 2. the day's delivery -------------------------------------------------------------------


def delivery_files(plan: Plan) -> list[str]:
    """The landing files delivered for the run's day (empty while none has arrived)."""
    from rl_core.data.ingest import list_landing

    return list_landing(plan.store).get(date.fromisoformat(plan.day), [])


def validate(plan: Plan) -> dict:
    """Validate the day's delivery and accept it into the store, or quarantine it.

    Raises ValidationFailedError (after logging the validation summary) when it failed:
    the run must stop there, and retrying cannot help.
    """
    from rl_core.validation import ValidationFailedError, validate_day

    files = delivery_files(plan)
    if not files:
        raise FileNotFoundError(f"no delivery for {plan.day} under {plan.store}/landing")
    if len(files) > 1:
        log.warning("%d files for %s: validating the newest, %s", len(files), plan.day, files[-1])
    started = time.perf_counter()
    try:
        result = validate_day(files[-1], plan.day, plan.store)
    except ValidationFailedError as exc:
        res = exc.result
        log.error("validation FAILED\n%s", res.summary())
        record = {**res.to_dict(), "duration_s": round(time.perf_counter() - started, 3)}
        record.pop("checks", None)
        save(plan.folder, "validation.json", record)
        emit("DeliveryRows", res.rows)
        emit("DeliveryAccepted", 0)
        emit("DeliveryQuarantined", 1)
        emit("ValidationFailedChecks", len(res.failures))
        raise
    log.info("%s", result.summary())
    record = result.to_dict()
    record.pop("checks", None)
    record["duration_s"] = round(time.perf_counter() - started, 3)
    save(plan.folder, "validation.json", record)
    emit("DeliveryRows", result.rows)
    emit("DeliveryAccepted", 1)
    emit("DeliveryQuarantined", 0)
    emit("ValidationFailedChecks", 0)
    return {
        k: record[k]
        for k in ("valid", "day", "rows", "headline", "stored_uri", "summary_uri", "warnings")
    }


# ---- 3. the market ---------------------------------------------------------------------------


def calibrate(plan: Plan) -> dict:
    """Fit the demand model on the trailing window; writes market.json and the station
    network (network.json: each station's demand level, cost offset and which fallback it
    got, `rl_core.market.network`) into the run folder. The market carries the daily move
    limit (`MAX_DAILY_MOVE`, the guardrail's value): prices move at most that much a day."""
    from rl_core.data.store import read_window
    from rl_core.market.calibration import calibrate as fit
    from rl_core.market.model import MAX_DAILY_MOVE

    validation = _need(plan.folder, "validation.json", "validate")
    if not validation.get("valid"):
        raise ForecourtError(f"the delivery for {plan.day} failed validation: nothing to calibrate")
    started = time.perf_counter()
    days = plan.params.calibration_days
    day = date.fromisoformat(plan.day)
    # the business's daily move limit is part of the market the trials train on and the
    # decision compares in, so the agent and the exact optimum obey the move guardrail
    cal = fit(read_window(plan.store, day, days)).with_move_limit(MAX_DAILY_MOVE)
    log.info("%s", cal.summary())
    market_file = save(plan.folder, "market.json", cal.to_dict())
    network = _build_network(cal)
    record = {
        "market_file": market_file,
        **_network_record(plan, network),
        "first_day": (day - timedelta(days=days - 1)).isoformat(),
        "last_day": plan.day,
        "stations": cal.n_stations,
        "summary": cal.summary(),
        "duration_s": round(time.perf_counter() - started, 3),
    }
    save(plan.folder, "calibration.json", record)
    emit("CalibratedStations", cal.n_stations)
    return record


def _build_network(cal):
    """The calibration's station network, or None when it holds no per-station fits."""
    from rl_core.market.network import StationNetwork

    try:
        network = StationNetwork.from_calibration(cal)
    except ValueError as exc:  # e.g. no per-station fits: train on the mean market as before
        log.warning("no station network (%s): every station gets the mean market", exc)
        return None
    log.info("station network: %d station(s), %s", len(network), _source_counts(network))
    return network


def _source_counts(network) -> dict[str, int]:
    """How many stations got their demand level from each source (own, shrunk, ...)."""
    from rl_core.market.network import SOURCES

    sources = list(network.sources().values())
    return {src: sources.count(src) for src in SOURCES}


def _network_record(plan: Plan, network) -> dict:
    """network.json in the run folder and each station's fit quality for calibration.json."""
    if network is None:
        return {"network_file": None}
    fit_keys = ("station_id", "n_rows", "intercept_se", "source", "weight")
    return {
        "network_file": save(plan.folder, "network.json", network.to_dict()),
        "station_sources": _source_counts(network),
        "station_fits": [{k: s.to_dict()[k] for k in fit_keys} for s in network.stations],
        "network_notes": list(network.notes),
    }


def _network(plan: Plan):
    """This run's station network (network.json), or None (a calibration without one)."""
    from rl_core.market.network import StationNetwork

    calibration = _need(plan.folder, "calibration.json", "calibrate")
    if not calibration.get("network_file"):
        return None
    return StationNetwork.from_dict(_need(plan.folder, "network.json", "calibrate"))


def _market_setup(plan: Plan):
    """The calibrated market of this run (market.json, fetched when the folder is remote)."""
    from rl_core.market.presets import market_setup

    calibration = _need(plan.folder, "calibration.json", "calibrate")
    with runfolder.local_copy(calibration["market_file"]) as path:
        return calibration, market_setup(str(path))


# ---- 4. the hyperparameter search ------------------------------------------------------------


def plan_trials(plan: Plan, agent: str) -> list[dict]:
    """The agent's trials ([] when the run did not ask for this agent); trials.json."""
    from rl_core.pipeline.search import trial_configs

    p = plan.params
    if agent not in p.agents:
        return []
    calibration = _need(plan.folder, "calibration.json", "calibrate")  # none uncalibrated
    network = bool(calibration.get("network_file"))
    trials = trial_configs(agent, plan.day, p.trials, p.seed, network=network)
    save(plan.agent_folder(agent), "trials.json", trials)
    return trials


def trial_folder(plan: Plan, agent: str, trial: int) -> str:
    return runfolder.join(plan.agent_folder(agent), f"trial-{trial:02d}")


def train_trial(plan: Plan, agent: str, trial: int) -> dict:
    """Train one trial on the calibrated market: checkpoint, policy bundle, trial.json.

    With a station network (calibrate wrote one) the trial trains one agent over the pool
    of the stations' markets and is scored on all of them: the network fraction, sum of
    returns / sum of optima over stations; its bundle carries the network.

    The trial's folder is published whole or not at all, so a killed trial leaves nothing
    a later step could mistake for a result. Idempotent: a retried trial whose trial.json
    exists (same hyperparameters) returns it without training again.
    """
    from rl_core.pipeline.slots import trial_slot

    trials = _need(plan.agent_folder(agent), "trials.json", "plan_trials")
    spec = next((t for t in trials if t["trial"] == trial), None)
    if spec is None:
        raise ForecourtError(
            f"{agent} has no trial {trial}: planned {[t['trial'] for t in trials]}"
        )
    folder = trial_folder(plan, agent, trial)
    done = load(folder, "trial.json")
    if done is not None and done.get("hyperparameters") == spec["hyperparameters"]:
        log.info("trial %s/%d already trained: %s", agent, trial, folder)
        return done
    _, setup = _market_setup(plan)
    network = _network(plan)
    slots = _slots_folder(plan)
    with trial_slot(slots, plan.params.max_concurrent_trials):
        if network is None:
            record = _train(plan, setup, spec, folder)
        else:
            record = _train_network(plan, network, spec, folder)
    emit("TrialTotalReward", record["total_reward"], Agent=agent)
    emit("TrialFractionOfOptimum", record["fraction_of_optimum"], Agent=agent)
    emit("TrialTrainSeconds", record["train_s"], Agent=agent)
    return record


def _slots_folder(plan: Plan):
    """Where the trial slots live: the run folder when local; else the machine's temp dir
    (on AWS each Batch job is its own machine, and the DAG caps trials at once)."""
    import tempfile
    from pathlib import Path

    if runfolder.is_local(plan.folder):
        return Path(plan.folder) / ".trial-slots"
    return Path(tempfile.gettempdir()) / "forecourt-trial-slots"


def _train(plan: Plan, setup, spec: dict, folder: str) -> dict:
    from rl_core.agents.dqn import DQNConfig
    from rl_core.training.bundle import write_bundle
    from rl_core.training.checkpoint import save_checkpoint
    from rl_core.training.train import train

    agent, index = spec["agent"], spec["trial"]
    budget = plan.params.env_steps
    hp = dict(spec["hyperparameters"])
    hp["hidden"] = tuple(hp["hidden"])
    config = DQNConfig(seed=spec["seed"], total_env_steps=budget, buffer_size=budget, **hp)
    log.info("trial %s/%d: %s, %s env steps", agent, index, spec["hyperparameters"], budget)
    result = train(setup.train, agent, config, eval_markets=setup.evaluate)
    with runfolder.staged_output(plan.agent_folder(agent), f"trial-{index:02d}") as out:
        checkpoint = save_checkpoint(result, setup.train, out)
        write_bundle(result, setup.evaluate[0], out / "bundle")
        record = {
            "agent": agent,
            "trial": index,
            "seed": spec["seed"],
            "hyperparameters": spec["hyperparameters"],
            "total_reward": result.evaluation.total_reward,  # the search's objective (seed 003)
            "fraction_of_optimum": result.evaluation.fraction_of_optimum,
            "optimum": result.evaluation.optimum,
            "median_last_5_evals": result.tail_median(),
            "env_steps": result.env_steps,
            "updates": result.updates,
            "train_s": round(result.train_s, 3),
            "wall_s": round(result.wall_s, 3),
            "checkpoint": runfolder.join(folder, checkpoint.name),
            "bundle": runfolder.join(folder, "bundle"),
            "curve": [
                {k: row[k] for k in ("env_steps", "fraction") if k in row} for row in result.curve
            ],
        }
        save(out, "trial.json", record)
    log.info(
        "trial %s/%d: total reward %.1f = %.2f%% of the optimum (%.1f s)",
        agent,
        index,
        record["total_reward"],
        100 * record["fraction_of_optimum"],
        result.train_s,
    )
    return record


def _train_network(plan: Plan, network, spec: dict, folder: str) -> dict:
    """One trial over the network's station markets; scored on every station."""
    from rl_core.training.bundle import write_bundle
    from rl_core.training.checkpoint import save_checkpoint
    from rl_core.training.network import network_config, train_network

    agent, index = spec["agent"], spec["trial"]
    budget = plan.params.env_steps
    hp = dict(spec["hyperparameters"])
    hp["hidden"] = tuple(hp["hidden"])
    # the network's settings (scaled rewards, ...) with the trial's hyperparameters on top
    config = network_config(seed=spec["seed"], total_env_steps=budget, buffer_size=budget, **hp)
    log.info(
        "trial %s/%d: %s, %s env steps over %d stations",
        agent,
        index,
        spec["hyperparameters"],
        budget,
        len(network),
    )
    trained = train_network(network, agent, config)
    result, ev = trained.train, trained.evaluation
    with runfolder.staged_output(plan.agent_folder(agent), f"trial-{index:02d}") as out:
        checkpoint = save_checkpoint(result, [network.market], out)
        write_bundle(
            result,
            network.market,
            out / "bundle",
            network=network,
            extra={"network_evaluation": ev.to_dict()},
        )
        record = {
            "agent": agent,
            "trial": index,
            "seed": spec["seed"],
            "hyperparameters": spec["hyperparameters"],
            "total_reward": float(ev.returns.sum()),  # over all stations: the search's objective
            "fraction_of_optimum": ev.fraction_of_optimum,  # the network fraction
            "optimum": float(ev.optima.sum()),
            "network": ev.to_dict(),
            "median_last_5_evals": result.tail_median(),  # on the training's station sample
            "env_steps": result.env_steps,
            "updates": result.updates,
            "train_s": round(result.train_s, 3),
            "wall_s": round(result.wall_s, 3),
            "network_eval_s": round(trained.eval_s, 3),
            "checkpoint": runfolder.join(folder, checkpoint.name),
            "bundle": runfolder.join(folder, "bundle"),
            "curve": [
                {k: row[k] for k in ("env_steps", "fraction") if k in row} for row in result.curve
            ],
        }
        save(out, "trial.json", record)
    log.info(
        "trial %s/%d: %.2f%% of the optimum over %d stations (worst %.2f%%), %.1f s",
        agent,
        index,
        100 * ev.fraction_of_optimum,
        len(network),
        100 * float(ev.station_fractions.min()),
        result.train_s,
    )
    return record


def pick_best(plan: Plan, agent: str) -> dict:
    """The finished trial with the highest total reward (ties: the lower trial number)."""
    planned = _need(plan.agent_folder(agent), "trials.json", "plan_trials")
    trials = [load(trial_folder(plan, agent, t["trial"]), "trial.json") for t in planned]
    missing = [t["trial"] for t, done in zip(planned, trials, strict=True) if done is None]
    trials = [t for t in trials if t]
    if not trials:
        raise ForecourtError(f"no finished trial for the {agent} agent (planned {len(planned)})")
    if missing:
        log.warning(
            "%s: trial(s) %s did not finish; best of the other %d", agent, missing, len(trials)
        )
    ranked = sorted(trials, key=lambda t: (-t["total_reward"], t["trial"]))
    best = ranked[0]
    leaderboard = [
        {k: t[k] for k in ("trial", "total_reward", "fraction_of_optimum", "train_s")}
        | {"hyperparameters": t["hyperparameters"]}
        for t in ranked
    ]
    save(
        plan.agent_folder(agent),
        "search.json",
        {"best": best, "leaderboard": leaderboard, "unfinished": missing},
    )
    log.info(
        "%s: best of %d trials is #%d, total reward %.1f (%.2f%% of the optimum)",
        agent,
        len(trials),
        best["trial"],
        best["total_reward"],
        100 * best["fraction_of_optimum"],
    )
    return {k: v for k, v in best.items() if k != "curve"}


# ---- 5. registry -----------------------------------------------------------------------------


def register_challenger(plan: Plan, agent: str) -> dict:
    """Register the best trial as a new version of the agent's model (no alias moves)."""
    from rl_core.registry import register_challenger as register
    from rl_core.training.bundle import read_bundle
    from rl_core.training.checkpoint import load_result

    best = _need(plan.agent_folder(agent), "search.json", "pick_best")["best"]
    calibration, setup = _market_setup(plan)
    window = {
        "store": plan.store,
        "first_day": calibration["first_day"],
        "last_day": calibration["last_day"],
        "stations": calibration["stations"],
        "run_id": plan.run_id,
        "trial": best["trial"],
    }
    with (
        runfolder.local_copy(best["checkpoint"]) as checkpoint,
        runfolder.local_copy(best["bundle"]) as bundle,
    ):
        info = register(
            load_result(checkpoint),
            read_bundle(bundle),
            data_window=window,
            market=setup.evaluate[0],
        )
    record = {**info.to_dict(), "trial": best["trial"]}
    save(plan.agent_folder(agent), "registered.json", record)
    log.info("%s: registered %s version %s", agent, info.name, info.version)
    return {"agent": agent, "version": info.version, "name": info.name, "run_id": info.run_id}


DECISION_KEYS = (
    "agent",
    "challenger_version",
    "champion_version",
    "outcome",
    "reason",
    "baseline",
    "relative_improvement",
    "ci_low",
    "rule",
    "fraction_of_optimum",
    "report",
    "guardrails",
    "summary",
)


def evaluate_vs_champion(plan: Plan, agent: str) -> dict:
    """Champion vs challenger on the same seeded scenarios of today's market, drawn over its
    stations when calibrate built a network (no alias move)."""
    from rl_core.registry import decide

    registered = _need(plan.agent_folder(agent), "registered.json", "register_challenger")
    _, setup = _market_setup(plan)
    network = _network(plan)  # scenarios over its stations; else over the mean market
    target = setup.evaluate[0] if network is None else network
    decision = decide(agent, registered["version"], target, seed=plan.params.seed, apply=False)
    log.info("%s: %s", agent, decision.summary())
    record = decision.to_record()
    save(plan.agent_folder(agent), "decision.json", record)
    emit("ChallengerImprovement", decision.relative_improvement, Agent=agent)
    if decision.challenger:
        emit("ChallengerFractionOfOptimum", decision.challenger["fraction_of_optimum"], Agent=agent)
    return {k: record[k] for k in DECISION_KEYS}


def promote_or_keep(plan: Plan, agent: str) -> dict:
    """Apply the decision by the promotion rules (rl_core.registry.promotion): move the
    champion alias only for a win (or a forced promotion, which overrides the comparison
    but never the guardrails), never in a dry run."""
    from rl_core.registry import apply_decision

    decision = _need(plan.agent_folder(agent), "decision.json", "evaluate_vs_champion")
    p = plan.params
    record = apply_decision(
        agent,
        decision,
        dry_run=p.dry_run,
        force=p.force_promotion,
        force_reason=p.force_reason,
        run_id=plan.run_id,
    )
    save(plan.agent_folder(agent), "promotion.json", record)
    emit("Promotions", 1 if record["action"] in MOVED else 0, Agent=agent)
    log.info(
        "%s: %s; champion is now %s", agent, record["action"], record["champion_version"] or "none"
    )
    return record


MOVED = ("promoted", "forced")  # promote_or_keep's actions that moved the champion alias


class DeployStepError(ForecourtError):
    """The champion was not deployed; deploy.json in the agent's folder says why."""


def deploy_champion(plan: Plan, agent: str) -> dict:
    """Put the champion promote_or_keep left into service on the agent's SageMaker endpoint.

    Nothing to do without $FORECOURT_SAGEMAKER (local runs) or in a dry run. Redeploying
    the version in service is a no-op. When SageMaker could not bring it into service (it
    rolled back) or the tarball was refused, and this run had moved the alias, the alias is
    rolled back so it names what the endpoint serves; the outcome and the reason go to
    deploy.json, promotion.json and the version's tags, then the step raises.
    """
    from rl_core.serving.deploy_config import ENV_VAR, DeployConfig

    promotion = _need(plan.agent_folder(agent), "promotion.json", "promote_or_keep")
    base = {"agent": agent, "deployed": False, "promotion_action": promotion["action"]}
    config = DeployConfig.from_env()
    if config is None:
        why = f"no SageMaker endpoint configured ({ENV_VAR} unset): served from the registry"
        return _deploy_record(plan, agent, {**base, "outcome": "skipped", "reason": why})
    if plan.params.dry_run:
        return _deploy_record(
            plan, agent, {**base, "outcome": "dry-run", "reason": "dry run: nothing deployed"}
        )
    return _deploy(plan, agent, config, promotion, base)


def _deploy_record(plan: Plan, agent: str, record: dict) -> dict:
    save(plan.agent_folder(agent), "deploy.json", record)
    log.info("%s: deploy %s: %s", agent, record["outcome"], record["reason"])
    return record


def _deploy(plan: Plan, agent: str, config, promotion: dict, base: dict) -> dict:
    from rl_core.registry import champion_version
    from rl_core.serving.release import deploy_champion as release
    from rl_core.serving.release import outcome_of

    version = champion_version(agent)
    if version is None:
        why = "no champion to deploy"
        return _deploy_record(plan, agent, {**base, "outcome": "no-champion", "reason": why})
    try:
        released = release(agent, config, version=version)
    except Exception as exc:
        _deploy_failed(plan, agent, promotion, {**base, "version": version}, outcome_of(exc), exc)
    record = released.record
    new = record.status in ("created", "updated")
    result = {
        **base,
        "deployed": True,
        "outcome": record.status,
        "version": version,
        "reason": f"{record.endpoint} serves v{version} ({record.status})",
        "endpoint": record.endpoint,
        "endpoint_config": record.endpoint_config,
        "previous_version": record.previous_version,
        "seconds": record.seconds,
        "pruned": released.pruned.to_dict() if released.pruned else None,
        "prune_error": released.prune_error,
    }
    emit("Deployments", 1 if new else 0, Agent=agent)
    emit("DeployFailures", 0, Agent=agent)
    return _deploy_record(plan, agent, result)


def _deploy_failed(
    plan: Plan, agent: str, promotion: dict, base: dict, outcome: str, exc: Exception
) -> NoReturn:
    """Record why the champion is not in service (rolling the alias back where the endpoint
    kept the old model and this run moved it), then raise."""
    from rl_core.registry import champion_version

    version = base["version"]
    rolled_back, alias = False, "not rolled back: this run did not move the champion alias"
    if outcome == "in-progress":
        alias = "not rolled back: the deployment in progress may be an earlier promotion's"
    elif outcome not in ("failed", "refused"):
        alias = "not rolled back: what the endpoint serves now is not known (see the error)"
    elif promotion["action"] in MOVED:
        rolled_back, alias = _roll_alias_back(agent, version, f"run {plan.run_id}: {exc}")
    champion = champion_version(agent)
    record = {
        **base,
        "outcome": outcome,
        "reason": f"{type(exc).__name__}: {exc}",
        "alias_rolled_back": rolled_back,
        "alias": alias,
        "champion_version": champion,
    }
    _deploy_record(plan, agent, record)
    promotion = {**promotion, "champion_version": champion, "deploy": record}
    save(plan.agent_folder(agent), "promotion.json", promotion)
    emit("Deployments", 0, Agent=agent)
    emit("DeployFailures", 1, Agent=agent)
    raise DeployStepError(
        f"{agent} v{version} was not deployed ({outcome}): {exc}; {alias}"
    ) from exc


def _roll_alias_back(agent: str, version: str, why: str) -> tuple[bool, str]:
    """Move `champion` back from `version` (still the champion) to the one before it."""
    from rl_core.registry import RegistryError, champion_version, rollback

    current = champion_version(agent)
    if current != version:
        return False, f"not rolled back: the champion is v{current} now, not v{version}"
    try:
        move = rollback(agent, reason=f"deploy of v{version} failed: {why}")
    except RegistryError as exc:
        return False, f"not rolled back: {exc}"
    return True, f"rolled back from v{version} to v{move['version']} (what the endpoint serves)"


def _into_grid(today, model) -> tuple:
    """Today's prices clipped into what `model` accepts, and the stations that were clipped.

    The champion was trained on an earlier day's calibrated grid; a station that charged
    just outside it today is priced from the nearest grid price (the same snapping the
    policy applies inside the grid) instead of leaving every station without a price.
    """
    low, high = model.price_bounds()
    outside = (today["price"] < low) | (today["price"] > high)
    stations = today.assign(price=today["price"].clip(low, high))
    return stations, sorted(today.loc[outside, "station_id"].astype(str))


# ---- 6. tomorrow's prices --------------------------------------------------------------------


def _station_sources(frame) -> dict:
    """Where the stations' demand levels came from, and which stations fell back."""
    sources = frame["station_source"]
    return {
        "station_sources": {k: int(v) for k, v in sources.value_counts().items()},
        "fallback_stations": sorted(frame.loc[sources == "fallback", "station_id"].astype(str)),
    }


def write_recommendations(plan: Plan) -> dict:
    """Every champion in service prices every station of the day for tomorrow, each with
    its own demand level from the champion's network (a station it does not know, or an
    old champion without a network: the network's level, recorded as a fallback)."""
    import pandas as pd

    from rl_core.data.store import read_day
    from rl_core.registry import champion_bundle
    from rl_core.serving.batch import recommend_batch
    from rl_core.serving.batch import write_recommendations as write
    from rl_core.serving.predictor import LoadedModel

    if plan.params.dry_run:
        record = {"written": False, "reason": "dry run: no prices published"}
        save(plan.folder, "recommendations.json", record)
        return record
    today = read_day(plan.store, plan.day)
    frames, agents = [], {}
    for agent in ("demand", "profit"):
        champion = champion_bundle(agent)
        if champion is None:
            agents[agent] = {"champion_version": None, "stations": 0}
            log.warning("%s: no champion in service, no prices published", agent)
            continue
        model = LoadedModel.load(champion[0], champion[1])
        stations, clipped = _into_grid(today, model)
        if clipped:
            log.warning(
                "%s: %d station(s) charged outside champion v%s's price grid yesterday, "
                "priced from the nearest grid price: %s",
                agent,
                len(clipped),
                champion[1],
                ", ".join(clipped[:20]),
            )
        frame = recommend_batch(model, stations)
        frames.append(frame)
        agents[agent] = {
            "champion_version": champion[1],
            "stations": len(frame),
            "outside_grid": clipped,
            "min": float(frame["price"].min()),
            "median": float(frame["price"].median()),
            "max": float(frame["price"].max()),
            **_station_sources(frame),
        }
        if agents[agent]["fallback_stations"]:
            log.warning(
                "%s: %d station(s) not in champion v%s's network, priced at the network's "
                "demand level: %s",
                agent,
                len(agents[agent]["fallback_stations"]),
                champion[1],
                ", ".join(agents[agent]["fallback_stations"][:20]),
            )
        emit("RecommendationsWritten", len(frame), Agent=agent)
        emit("RecommendedPriceMedian", agents[agent]["median"], Agent=agent)
    where = None
    if frames:
        where = write(plan.store, plan.tomorrow, pd.concat(frames))
    record = {"written": bool(frames), "uri": where, "day": plan.tomorrow, "agents": agents}
    save(plan.folder, "recommendations.json", record)
    log.info("tomorrow's prices (%s): %s -> %s", plan.tomorrow, agents, where)
    return record
