"""report.md: what a person reads after a study (the plots beside it, study.json for tools)."""

from __future__ import annotations

import pandas as pd

FALLBACKS = {
    "own": "its own estimate (enough rows, tight standard error)",
    "shrunk": "its own estimate shrunk toward its cluster's level (few rows or a loose fit)",
    "cluster": "its stated cluster's level (no own estimate)",
    "network": "the network's level, the mean of the stations' estimates (no own estimate, "
    "or no reliable station to form clusters)",
}


def write_report(result) -> None:
    r = result.record
    lines = [f"# Study: {r['title']}", ""]
    lines += _data(r)
    lines += _calibration(r)
    lines += _training(r)
    lines += _prices(r, result.frames["prices"])
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in r["plots"]] + [""]
    t = r["timings_s"]
    lines += ["Stage times (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()), ""]
    result.report.write_text("\n".join(lines))


def _data(r: dict) -> list[str]:
    i, v = r["ingest"], r["validation"]
    out = [
        "## Data",
        "",
        f"Ingested {i['rows']:,} rows, {i['stations']:,} stations, {i['days']} days "
        f"({i['first_day']}..{i['last_day']}). Validation accepted {len(v['accepted'])} "
        f"day(s) into the study's store and quarantined {len(v['quarantined'])} "
        f"({v['warned_days']} accepted with drift warnings).",
        "",
    ]
    out += [f"- quarantined {q['day']}: {', '.join(q['failed'])}" for q in v["quarantined"]]
    return out + ([""] if v["quarantined"] else [])


def _calibration(r: dict) -> list[str]:
    c = r["calibration"]
    out = ["## Calibration", "", "```", c["summary"], "```", ""]
    out += ["Where each station's demand level comes from:", ""]
    out += ["| source | stations | meaning |", "|---|---|---|"]
    out += [f"| {s} | {n:,} | {FALLBACKS[s]} |" for s, n in c["station_sources"].items()]
    new = r["new_station"]
    prices = ", ".join(f"{a} {p:.3f} $/L" for a, p in new["prices"].items())
    out += [
        "",
        f"A station never seen before gets {FALLBACKS[new['source']]}: demand level "
        f"{new['demand_level']:+.2f}, tomorrow's price {prices} (from the network's "
        "start price).",
        "",
    ]
    return out


def _training(r: dict) -> list[str]:
    out = [
        "## Training",
        "",
        "One agent per objective over the pool of station markets, scored against every "
        "station's exact (dynamic-programming) optimum under the daily move limit.",
        "",
        "| agent | fraction of the summed optima | worst station | stations < 90% "
        "| first-day price = optimum's | env steps | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for agent, t in r["training"].items():
        out.append(
            f"| {agent} | {t['fraction_of_optimum']:.4f} | {t['worst_station']:.4f} | "
            f"{t['stations_below_90pct']} | "
            f"{t['first_day_agreement']:.0%} | {t['env_steps']:,} | {t['train_s']:.0f} |"
        )
    return out + [""]


def _prices(r: dict, prices: pd.DataFrame) -> list[str]:
    out = ["## Tomorrow's prices", ""]
    for agent, p in r["prices"].items():
        out.append(
            f"- {agent}: {p['min']:.3f}..{p['max']:.3f} $/L (median {p['median']:.3f}), "
            f"{p['distinct']} distinct price(s), {p['matches_optimum']:.0%} of stations at "
            "the exact optimum's first-day price"
        )
        if p["optimum_at_ceiling"]:
            out.append(
                f"  - the exact optimum sits at the top of the observed price range at "
                f"{p['optimum_at_ceiling']:,} station(s): the data hold no evidence of demand "
                "above it, so neither the market nor the agent goes higher; the true best "
                "price there may be higher"
            )
    main = "profit" if "profit_price" in prices else next(iter(r["prices"]))
    cols = ["station_id", "source", "demand_level", "last_price", f"{main}_price"]
    table = prices.sort_values("demand_level")[cols]
    shown = pd.concat([table.head(5), table.tail(5)]).drop_duplicates("station_id")
    out += [
        "",
        f"Lowest and highest demand levels ({main} agent; every station in recommendations.csv):",
        "",
        "| station | source | demand level | last price | tomorrow |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {row.station_id} | {row.source} | {row.demand_level:+.2f} | "
        f"{_money(row.last_price)} | {_money(getattr(row, f'{main}_price'))} |"
        for row in shown.itertuples()
    ]
    return out + [""]


def _money(x) -> str:
    return "-" if x is None or x != x else f"{x:.3f}"
