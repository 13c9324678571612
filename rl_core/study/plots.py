"""The study's pictures: how well the market fits the data, and what each station is priced.

fit.png       volume sources: volume against price with the fitted demand curve, and
              observed vs predicted volume over time; price-only sources: each
              station's mean margin with its 95% interval (coloured by where its level
              came from), and the daily mean price against the unit cost
prices.png    tomorrow's price per station against its demand level (agent and exact
              optimum), and the spread of tomorrow's prices against today's
training.png  each agent's fraction of the optimum over training
"""

from __future__ import annotations

import os
from pathlib import Path

# matplotlib caches fonts under the home directory unless told otherwise
os.environ.setdefault("MPLCONFIGDIR", os.path.join("/tmp", "forecourt-mpl"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SOURCE_COLOURS = {
    "own": "tab:blue",
    "shrunk": "tab:orange",
    "cluster": "tab:purple",
    "network": "tab:red",
}


def write_plots(result) -> list[Path]:
    folder = result.folder / "plots"
    folder.mkdir(exist_ok=True)
    f = result.frames
    cal = f["calibration"]
    if cal.method == "volume":
        fit = _volume_fit(f["data"], cal, folder / "fit.png")
    else:
        fit = _margin_fit(f["data"], cal, f["prices"], folder / "fit.png")
    return [
        fit,
        _prices(f["prices"], list(f["trained"]), folder / "prices.png"),
        _training(result.record["training"], folder / "training.png"),
    ]


def _volume_fit(data: pd.DataFrame, cal, path: Path) -> Path:
    """Left: volume against price, binned means and the fitted curve. Right: over time."""
    d = cal.market.demand
    rows = data.dropna(subset=["price", "volume"]).copy()
    level = rows["station_id"].map(cal.station_intercepts).fillna(d.base_demand)
    competitor = cal.coefficients.get("competitor_coef")
    shift = 0.0
    if competitor is not None and "competitor_price" in rows:
        comp = rows["competitor_price"]
        shift = competitor.estimate * (comp - comp.groupby(rows["station_id"]).transform("mean"))
    rows["predicted"] = (level - d.price_slope * rows["price"] + shift).clip(lower=0)
    # partial residuals: volume as if every station had the network's level and faced its
    # mean competitor price, so the points show the effect the fitted line claims
    rows["adjusted"] = rows["volume"] - (level - d.base_demand) - shift

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.4))
    ax1.scatter(rows["price"], rows["adjusted"], s=6, alpha=0.25, color="grey", label="days")
    bins = pd.qcut(rows["price"], 10, duplicates="drop")
    binned = rows.groupby(bins, observed=True)[["price", "adjusted"]].mean()
    ax1.plot(binned["price"], binned["adjusted"], "o", color="tab:blue", label="decile means")
    grid = np.linspace(rows["price"].min(), rows["price"].max(), 50)
    ax1.plot(grid, d.base_demand - d.price_slope * grid, color="tab:red", lw=2, label="fitted")
    ax1.set_xlabel("price ($/L)")
    held = ["competitor price at its mean"] if competitor is not None else []
    held += ["station level removed"] if cal.n_stations > 1 else []
    ax1.set_ylabel("litres a day" + (f" ({', '.join(held)})" if held else ""))
    r2 = "" if cal.r_squared != cal.r_squared else f", R² {cal.r_squared:.3f}"
    ax1.set_title(f"Demand: slope {d.price_slope:,.0f} L per $/L{r2}")
    ax1.legend(loc="upper right", fontsize=8)
    ax1.grid(alpha=0.3)

    daily = rows.groupby("date")[["volume", "predicted"]].sum().rolling(30, min_periods=5).mean()
    ax2.plot(daily.index, daily["volume"], label="observed (30-day mean)")
    ax2.plot(daily.index, daily["predicted"], label="predicted by the fit")
    ax2.set_ylabel("litres a day, all stations")
    ax2.set_title(f"Residual sd {cal.residual_sd:,.0f} L ({cal.residual_sd / cal.mean_volume:.1%})")
    ax2.legend(loc="lower right", fontsize=8)
    ax2.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _save(fig, path)


def _margin_fit(data: pd.DataFrame, cal, prices: pd.DataFrame, path: Path) -> Path:
    """Left: station margins with their 95% intervals. Right: price follows cost."""
    g = cal.diagnostics
    rows = data.dropna(subset=["price", "unit_cost"])
    margins = (rows["price"] - rows["unit_cost"]).groupby(rows["station_id"]).mean()
    slope = cal.market.demand.price_slope
    table = prices.set_index("station_id").join(margins.rename("margin"))
    table["half"] = 1.96 * table["intercept_se"].astype(float) / (2 * slope)
    table = table.sort_values("margin").reset_index()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.4))
    x = np.arange(len(table))
    for src, colour in SOURCE_COLOURS.items():
        part = table[table["source"] == src]
        if part.empty:
            continue
        ax1.errorbar(
            part.index,
            part["margin"],
            yerr=part["half"].fillna(0),
            fmt="o",
            ms=2,
            lw=0.4,
            alpha=0.6,
            color=colour,
            label=f"{src} ({len(part)})",
        )
    ax1.axhline(0, color="black", lw=0.8)
    ax1.set_xlim(-1, len(x))
    ax1.set_xlabel("stations, by mean margin")
    ax1.set_ylabel("mean price - unit cost ($/L)")
    ax1.set_title("Station margins (95% interval) and their level's source")
    ax1.legend(loc="upper left", fontsize=8, markerscale=3)
    ax1.grid(alpha=0.3)

    daily = rows.groupby("date")[["price", "unit_cost"]].mean()
    ax2.plot(daily.index, daily["price"], label="mean retail price")
    ax2.plot(daily.index, daily["unit_cost"], label="unit cost (wholesale)")
    ax2.set_ylabel("$/L")
    ax2.set_title(
        f"Pass-through {g['pass_through_levels']:.2f} (levels), "
        f"{g['pass_through_changes']:.2f} (weekly changes); the model: "
        f"{g['pass_through_model']:.1f}"
    )
    ax2.legend(loc="upper left", fontsize=8)
    ax2.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _save(fig, path)


def _prices(prices: pd.DataFrame, agents: list[str], path: Path) -> Path:
    """Left: tomorrow's price against the station's demand level. Right: its spread."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    ax1, ax2 = axes
    main = "profit" if "profit" in agents else agents[0]
    for src, colour in SOURCE_COLOURS.items():
        part = prices[prices["source"] == src]
        if not part.empty:
            ax1.scatter(
                part["demand_level"],
                part[f"{main}_price"],
                s=10,
                alpha=0.6,
                color=colour,
                label=f"agent, {src}",
            )
    ax1.scatter(
        prices["demand_level"],
        prices[f"{main}_optimal_price"],
        s=14,
        marker="x",
        lw=0.6,
        color="black",
        label="exact optimum (from its last price)",
    )
    ax1.set_xlabel("demand level (choke price above the grid ceiling, grid widths)")
    ax1.set_ylabel("tomorrow's price ($/L)")
    ax1.set_title(f"{main} agent: tomorrow's price per station")
    ax1.legend(loc="upper left", fontsize=8)
    ax1.grid(alpha=0.3)

    values = [prices["last_price"].dropna()] + [prices[f"{a}_price"] for a in agents]
    labels = ["today (last price)"] + [f"tomorrow, {a}" for a in agents]
    ax2.hist(values, bins=25, label=labels, alpha=0.8)
    ax2.set_xlabel("$/L")
    ax2.set_ylabel("stations")
    ax2.set_title(f"{len(prices):,} stations: today's and tomorrow's prices")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    return _save(fig, path)


def _training(training: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for agent, t in training.items():
        curve = t["curve"]
        ax.plot(
            [r["env_steps"] for r in curve],
            [100 * r["fraction"] for r in curve],
            label=f"{agent}: {100 * t['fraction_of_optimum']:.2f}% on all stations",
        )
    ax.axhline(99, color="tab:red", ls="--", lw=1, label="99%")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("% of the exact optimum (station sample)")
    ax.set_title("Training")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
