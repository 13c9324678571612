"""The daily job's steps, one per Airflow task. Each takes and returns small JSON values
and records what it did as JSON in the run's folder (the report reads those files)."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rl_core import paths
from rl_core.pipeline.params import RunParams
from rl_core.telemetry import emit

log = logging.getLogger(__name__)


# ---- the run's folder ------------------------------------------------------------------------


def run_folder(day: date | str, run_id: str) -> Path:
    """<FORECOURT_HOME>/runs/<day>/<run id, made file-safe>."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_") or "run"
    return paths.home() / "runs" / str(day) / safe


def save(folder: str | os.PathLike, name: str, obj: Any) -> Path:
    """Write `obj` as JSON to folder/name atomically (a reader never sees half a file)."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)
    return path


def load(folder: str | os.PathLike, name: str) -> Any:
    path = Path(folder) / name
    return json.loads(path.read_text()) if path.is_file() else None


# ---- 1. plan ---------------------------------------------------------------------------------


def plan_run(params: dict, day: date, run_id: str, store: str | None = None) -> dict:
    """Check the parameters, fix the day and the run's folder. Returns the run's plan."""
    p = RunParams.from_mapping(params)
    store = store or paths.store_uri()
    folder = run_folder(day, run_id)
    plan = {
        "run_id": run_id,
        "day": day.isoformat(),
        "tomorrow": (day + timedelta(days=1)).isoformat(),
        "store": store,
        "folder": str(folder),
        "params": p.to_dict(),
        "planned_at": time.time(),
    }
    save(folder, "plan.json", plan)
    log.info(
        "run %s: day %s, agents %s, %d trials each (at most %d at once), %s env steps per "
        "trial%s%s",
        run_id,
        day,
        ", ".join(p.agents),
        p.trials,
        p.max_concurrent_trials,
        f"{p.env_steps:,}",
        ", DRY RUN" if p.dry_run else "",
        f", FORCE PROMOTION ({p.force_reason})" if p.force_promotion else "",
    )
    return plan


# ---- 2. the day's delivery -------------------------------------------------------------------


def delivery_files(plan: dict) -> list[str]:
    """The landing files delivered for the run's day (empty while none has arrived)."""
    from rl_core.data.ingest import list_landing

    return list_landing(plan["store"]).get(date.fromisoformat(plan["day"]), [])


def validate_delivery(plan: dict, files: list[str]) -> dict:
    """Validate the day's delivery and accept it into the store, or quarantine it.

    Raises ValidationFailedError (after logging the validation summary) when it failed:
    the run must stop there, and retrying cannot help.
    """
    from rl_core.validation import ValidationFailedError, validate_day

    if not files:
        raise FileNotFoundError(f"no delivery for {plan['day']} under {plan['store']}/landing")
    if len(files) > 1:
        log.warning(
            "%d files for %s: validating the newest, %s", len(files), plan["day"], files[-1]
        )
    started = time.perf_counter()
    try:
        result = validate_day(files[-1], plan["day"], plan["store"])
    except ValidationFailedError as exc:
        res = exc.result
        log.error("validation FAILED\n%s", res.summary())
        record = {**res.to_dict(), "duration_s": round(time.perf_counter() - started, 3)}
        record.pop("checks", None)
        save(plan["folder"], "validation.json", record)
        emit("DeliveryRows", res.rows)
        emit("DeliveryAccepted", 0)
        emit("DeliveryQuarantined", 1)
        emit("ValidationFailedChecks", len(res.failures))
        raise
    log.info("%s", result.summary())
    record = result.to_dict()
    record.pop("checks", None)
    record["duration_s"] = round(time.perf_counter() - started, 3)
    save(plan["folder"], "validation.json", record)
    emit("DeliveryRows", result.rows)
    emit("DeliveryAccepted", 1)
    emit("DeliveryQuarantined", 0)
    emit("ValidationFailedChecks", 0)
    return {
        k: record[k]
        for k in ("valid", "day", "rows", "headline", "stored_uri", "summary_uri", "warnings")
    }


# ---- 3. the market ---------------------------------------------------------------------------


def calibrate_market(plan: dict) -> dict:
    """Fit the demand model on the trailing window; writes market.json into the run folder."""
    from rl_core.data.store import read_window
    from rl_core.market.calibration import calibrate

    started = time.perf_counter()
    days = plan["params"]["calibration_days"]
    day = date.fromisoformat(plan["day"])
    cal = calibrate(read_window(plan["store"], day, days))
    log.info("%s", cal.summary())
    market_file = save(plan["folder"], "market.json", cal.to_dict())
    record = {
        "market_file": str(market_file),
        "first_day": (day - timedelta(days=days - 1)).isoformat(),
        "last_day": plan["day"],
        "stations": cal.n_stations,
        "summary": cal.summary(),
        "duration_s": round(time.perf_counter() - started, 3),
    }
    save(plan["folder"], "calibration.json", record)
    emit("CalibratedStations", cal.n_stations)
    return record


# ---- 4. the hyperparameter search ------------------------------------------------------------


def plan_trials(plan: dict, agent: str) -> list[dict]:
    """The agent's trials ([] when the run did not ask for this agent)."""
    from rl_core.pipeline.search import trial_configs

    p = plan["params"]
    if agent not in p["agents"]:
        return []
    trials = trial_configs(agent, plan["day"], p["trials"], p["seed"])
    save(Path(plan["folder"]) / agent, "trials.json", trials)
    return trials


def run_trial(plan: dict, calibration: dict, trial: dict) -> dict:
    """Train one trial on the calibrated market: checkpoint, policy bundle, trial.json.

    Idempotent: a retried trial whose trial.json exists returns it without training again.
    """
    from rl_core.pipeline.slots import trial_slot

    agent, index = trial["agent"], trial["trial"]
    folder = Path(plan["folder"]) / agent / f"trial-{index:02d}"
    done = load(folder, "trial.json")
    if done is not None and done.get("hyperparameters") == trial["hyperparameters"]:
        log.info("trial %s/%d already trained: %s", agent, index, folder)
        return done
    slots = Path(plan["folder"]) / ".trial-slots"
    with trial_slot(slots, plan["params"]["max_concurrent_trials"]):
        record = _train_trial(plan, calibration, trial, folder)
    emit("TrialTotalReward", record["total_reward"], Agent=agent)
    emit("TrialFractionOfOptimum", record["fraction_of_optimum"], Agent=agent)
    emit("TrialTrainSeconds", record["train_s"], Agent=agent)
    return record


def _train_trial(plan: dict, calibration: dict, trial: dict, folder: Path) -> dict:
    from rl_core.agents.dqn import DQNConfig
    from rl_core.market.presets import market_setup
    from rl_core.training.bundle import write_bundle
    from rl_core.training.checkpoint import save_checkpoint
    from rl_core.training.train import train

    agent, index = trial["agent"], trial["trial"]
    budget = plan["params"]["env_steps"]
    hp = dict(trial["hyperparameters"])
    hp["hidden"] = tuple(hp["hidden"])
    config = DQNConfig(seed=trial["seed"], total_env_steps=budget, buffer_size=budget, **hp)
    setup = market_setup(calibration["market_file"])
    log.info("trial %s/%d: %s, %s env steps", agent, index, trial["hyperparameters"], budget)
    result = train(setup.train, agent, config, eval_markets=setup.evaluate)
    checkpoint = save_checkpoint(result, setup.train, folder)
    bundle = write_bundle(result, setup.evaluate[0], folder / "bundle")
    record = {
        "agent": agent,
        "trial": index,
        "seed": trial["seed"],
        "hyperparameters": trial["hyperparameters"],
        "total_reward": result.evaluation.total_reward,  # the search's objective (seed 003)
        "fraction_of_optimum": result.evaluation.fraction_of_optimum,
        "optimum": result.evaluation.optimum,
        "median_last_5_evals": result.tail_median(),
        "env_steps": result.env_steps,
        "updates": result.updates,
        "train_s": round(result.train_s, 3),
        "wall_s": round(result.wall_s, 3),
        "checkpoint": str(checkpoint),
        "bundle": str(bundle.path),
        "curve": [
            {k: row[k] for k in ("env_steps", "fraction") if k in row} for row in result.curve
        ],
    }
    save(folder, "trial.json", record)
    log.info(
        "trial %s/%d: total reward %.1f = %.2f%% of the optimum (%.1f s)",
        agent,
        index,
        record["total_reward"],
        100 * record["fraction_of_optimum"],
        result.train_s,
    )
    return record


def pick_best(plan: dict, agent: str, trials: list[dict]) -> dict:
    """The trial with the highest total reward (ties: the lower trial number)."""
    trials = [t for t in trials if t]
    if not trials:
        raise ValueError(f"no finished trial for the {agent} agent")
    ranked = sorted(trials, key=lambda t: (-t["total_reward"], t["trial"]))
    best = ranked[0]
    leaderboard = [
        {k: t[k] for k in ("trial", "total_reward", "fraction_of_optimum", "train_s")}
        | {"hyperparameters": t["hyperparameters"]}
        for t in ranked
    ]
    save(Path(plan["folder"]) / agent, "search.json", {"best": best, "leaderboard": leaderboard})
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


def register_best(plan: dict, calibration: dict, best: dict) -> dict:
    """Register the best trial as a new version of the agent's model (no alias moves)."""
    from rl_core.market.presets import market_setup
    from rl_core.registry import register_challenger
    from rl_core.training.bundle import read_bundle
    from rl_core.training.checkpoint import load_result

    agent = best["agent"]
    window = {
        "store": plan["store"],
        "first_day": calibration["first_day"],
        "last_day": calibration["last_day"],
        "stations": calibration["stations"],
        "run_id": plan["run_id"],
        "trial": best["trial"],
    }
    market = market_setup(calibration["market_file"]).evaluate[0]
    info = register_challenger(
        load_result(best["checkpoint"]),
        read_bundle(best["bundle"]),
        data_window=window,
        market=market,
    )
    record = {**info.to_dict(), "trial": best["trial"]}
    save(Path(plan["folder"]) / agent, "registered.json", record)
    log.info("%s: registered %s version %s", agent, info.name, info.version)
    return {"agent": agent, "version": info.version, "name": info.name, "run_id": info.run_id}


def evaluate_challenger(plan: dict, calibration: dict, registered: dict) -> dict:
    """Champion vs challenger on the same seeded scenarios of today's market (no alias move)."""
    from rl_core.market.presets import market_setup
    from rl_core.registry import decide

    agent = registered["agent"]
    market = market_setup(calibration["market_file"]).evaluate[0]
    decision = decide(
        agent, registered["version"], market, seed=plan["params"]["seed"], apply=False
    )
    log.info("%s: %s", agent, decision.summary())
    record = decision.to_dict()
    record.pop("evidence", None)
    record["summary"] = decision.summary()
    save(Path(plan["folder"]) / agent, "decision.json", record)
    emit("ChallengerImprovement", decision.relative_improvement, Agent=agent)
    if decision.challenger:
        emit("ChallengerFractionOfOptimum", decision.challenger["fraction_of_optimum"], Agent=agent)
    keys = (
        "agent",
        "challenger_version",
        "champion_version",
        "outcome",
        "reason",
        "baseline",
        "relative_improvement",
        "ci_low",
        "report",
        "guardrails",
    )
    return {k: record[k] for k in keys} | {"summary": record["summary"]}


def promote_or_keep(plan: dict, decision: dict) -> dict:
    """Apply the decision: move the champion alias only for a win (or a forced promotion,
    which overrides the comparison but never the guardrails), never in a dry run."""
    from rl_core.registry import champion_version, promote

    p, agent = plan["params"], decision["agent"]
    version = decision["challenger_version"]
    guardrails_ok = all(c["passed"] for c in decision["guardrails"])
    action, reason = "kept", decision["reason"]
    if p["dry_run"]:
        action = "dry-run"
        reason = f"dry run: would have been {decision['outcome']} ({decision['reason']})"
    elif decision["outcome"] == "promoted":
        promote(
            agent,
            version,
            expected_champion=decision["champion_version"],
            reason=f"run {plan['run_id']}: {decision['summary']}",
        )
        action = "promoted"
    elif p["force_promotion"] and decision["champion_version"] != version:
        if not guardrails_ok:
            failed = [c["name"] for c in decision["guardrails"] if not c["passed"]]
            reason = f"force promotion refused: guardrails failed ({', '.join(failed)})"
            action = decision["outcome"]
        else:
            promote(
                agent,
                version,
                expected_champion=decision["champion_version"],
                reason=f"FORCED by run {plan['run_id']}: {p['force_reason']} "
                f"(the comparison said {decision['outcome']}: {decision['reason']})",
            )
            action, reason = "forced", f"forced: {p['force_reason']}"
    else:
        action = decision["outcome"]  # kept or rejected
    record = {
        "agent": agent,
        "challenger_version": version,
        "action": action,
        "reason": reason,
        "champion_version": champion_version(agent),
    }
    save(Path(plan["folder"]) / agent, "promotion.json", record)
    emit("Promotions", 1 if action in ("promoted", "forced") else 0, Agent=agent)
    log.info("%s: %s; champion is now %s", agent, action, record["champion_version"] or "none")
    return record


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


def write_tomorrows_prices(plan: dict) -> dict:
    """Every champion in service prices every station of the day for tomorrow."""
    import pandas as pd

    from rl_core.data.store import read_day
    from rl_core.registry import champion_bundle
    from rl_core.serving.batch import recommend_batch, write_recommendations
    from rl_core.serving.predictor import LoadedModel

    if plan["params"]["dry_run"]:
        record = {"written": False, "reason": "dry run: no prices published"}
        save(plan["folder"], "recommendations.json", record)
        return record
    today = read_day(plan["store"], plan["day"])
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
        }
        emit("RecommendationsWritten", len(frame), Agent=agent)
        emit("RecommendedPriceMedian", agents[agent]["median"], Agent=agent)
    where = None
    if frames:
        where = write_recommendations(plan["store"], plan["tomorrow"], pd.concat(frames))
    record = {"written": bool(frames), "uri": where, "day": plan["tomorrow"], "agents": agents}
    save(plan["folder"], "recommendations.json", record)
    log.info("tomorrow's prices (%s): %s -> %s", plan["tomorrow"], agents, where)
    return record
