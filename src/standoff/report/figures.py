"""Figures for the report, drawn with matplotlib and returned as SVG text.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
with the common forms of colour blindness; every series also differs by marker or position, and
text stays at 9 pt or more so that the figures print legibly.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
# For more series than Okabe-Ito has colours: Paul Tol's "muted" qualitative scheme after it
# (also designed for colour-blind readers), then line styles change with each pass through the
# colours, so that no two series look alike.
TOL_MUTED = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
             "#882255", "#AA4499"]  # fmt: skip
QUALITATIVE = OKABE_ITO + TOL_MUTED
LINESTYLES = ["-", "--", ":", "-."]


class SeriesStyle(TypedDict):
    """A series' matplotlib style (keyword arguments of `Axes.plot`)."""

    color: str
    marker: str
    linestyle: str


def series_style(n: int) -> SeriesStyle:
    """The colour, marker and line style of series n: distinct for the first 68 series."""
    colour = QUALITATIVE[n % len(QUALITATIVE)]
    return {
        "color": colour,
        "marker": MARKERS[n % len(MARKERS)],
        "linestyle": LINESTYLES[(n // len(QUALITATIVE)) % len(LINESTYLES)],
    }


plt.rcParams.update(
    {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",  # text stays text: searchable and crisp
        "svg.hashsalt": "standoff",  # stable ids: the same run gives the same SVG
        "text.parse_math": False,  # user text is plain text: "$5 to $10" is not mathtext
        "text.usetex": False,
    }
)


def to_svg(fig: Figure, title: str) -> str:
    """The figure as SVG text, carrying `title` as its <title> (what screen readers announce and
    browsers show on hovering): every figure has one."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)  # creator/date records
    text = text[text.index("<svg") :]
    opened = text.index(">") + 1  # the end of the <svg ...> tag
    return f"{text[:opened]}\n <title>{html.escape(title)}</title>{text[opened:]}"


def probabilities(
    labels: Sequence[str],
    p: Sequence[float],
    intervals: Sequence[Sequence[float]],
    title: str,
    observed: Sequence[bool | None] | None = None,
) -> str:
    """Horizontal bars of probabilities, each with a line over its range across input draws
    (5th to 95th percentile; the probability need not lie inside it when the spread is skewed).
    An item the observations decided (`observed` True or False) is not a forecast: it gets no
    bar, only the words "observed: yes" or "observed: no"."""
    n = len(labels)
    seen = list(observed) if observed is not None else [None] * n
    wrapped = [textwrap.fill(label, 40, max_lines=3, placeholder=" …") for label in labels]
    lines = sum(w.count("\n") + 1 for w in wrapped)
    fig, ax = plt.subplots(figsize=(7, 0.3 * lines + 0.2 * n + 0.8))
    y = np.arange(n)[::-1]
    forecast = [k for k in range(n) if seen[k] is None]
    ax.barh(y[forecast], [p[k] for k in forecast], color=OKABE_ITO[4], height=0.6)
    for k in forecast:
        iv = intervals[k]
        ax.plot([iv[0], iv[1]], [y[k], y[k]], color="black", lw=1)
        ax.plot([iv[0], iv[1]], [y[k], y[k]], "|", color="black", ms=8)
        ax.text(min(p[k] + 0.02, 0.93), y[k] + 0.3, f"{p[k]:.0%}", va="center", fontsize=9)
    for k in range(n):
        if seen[k] is not None:
            words = f"observed: {'yes' if seen[k] else 'no'} (not a forecast)"
            ax.text(0.01, y[k], words, va="center", fontsize=9, style="italic")
    ax.set_yticks(y, wrapped, fontsize=8 if lines > n else 10)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(title, loc="left", fontsize=10)
    return to_svg(fig, title)


def timeline(
    dates: Sequence[str],
    series: dict[str, Sequence[float]],
    title: str,
    marks: Sequence[tuple[float, str]] = (),
) -> str:
    """Cumulative probability that each event has happened by each round (x = r at the end of
    round r, labelled with its date); `marks`: dotted lines at (x, text), the calendar's dates."""
    fig, ax = plt.subplots(figsize=(7, 3.4 + 0.17 * ((len(series) + 1) // 2)))
    x = np.arange(1, len(dates) + 1)
    for at, text in marks:
        ax.axvline(at, color="0.5", lw=0.8, linestyle=":")
        ax.text(at, 1.01, text, ha="center", va="bottom", fontsize=9, color="0.3",
                transform=ax.get_xaxis_transform())  # fmt: skip
    for n, (label, values) in enumerate(series.items()):
        ax.plot(
            x,
            values,
            label=label,
            lw=1.4,
            ms=4,
            **series_style(n),
        )
    ax.set_xticks(x, list(dates), rotation=45, ha="right")
    ax.set_xlim(min([0.8, *(at - 0.2 for at, _ in marks)]), len(dates) + 0.2)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel("happened by then")
    ax.set_xlabel("end of the round", fontsize=9)
    ax.legend(fontsize=9, ncol=2, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    ax.set_title(title, loc="left", fontsize=10, pad=14 if marks else 6)
    return to_svg(fig, title)


def bargaining(
    dates: Sequence[str],
    dyads: Sequence[tuple[str, str, Sequence[float | None], Sequence[float | None]]],
    title: str,
) -> str:
    """One panel per dyad (name, the first side's name, distance, prevails): the mean distance
    between the two on the issues (0-1 of the scale) and the first side's mean chance of
    prevailing as it sees it, over the draws still running in each round, the calendar's dates
    on the x axis. A round no draw reaches is left blank."""
    n = max(len(dyads), 1)
    fig, axes = plt.subplots(n, 1, figsize=(7, 2.3 * n + 0.9), squeeze=False, sharex=True)
    x = np.arange(1, len(dates) + 1)
    for p, (name, first, gap, prevails) in enumerate(dyads):
        ax = axes[p, 0]
        for s, (label, values) in enumerate(
            (("distance on the issues (gap)", gap), (f"{first} prevails, as it sees it", prevails))
        ):
            y = np.array([np.nan if v is None else v for v in values], dtype=float)
            ax.plot(x, y, label=label, lw=1.4, ms=4, **series_style(4 * s))
        ax.axhline(0.5, color="0.6", lw=0.6, linestyle=":")  # an even chance of prevailing
        ax.set_ylim(0, 1)
        ax.set_ylabel("mean, 0 to 1")
        ax.set_title(name, loc="left", fontsize=9)
        ax.legend(fontsize=9, frameon=False, loc="best")
    axes[-1, 0].set_xticks(x, list(dates), rotation=45, ha="right")
    fig.suptitle(title, x=0.02, ha="left", fontsize=10)
    fig.tight_layout()
    return to_svg(fig, title)


def actors_map(
    issues: Sequence[tuple[str, float, float, str, str]],
    actors: Sequence[str],
    position: NDArray[np.float64],
    capability: NDArray[np.float64],
    salience: NDArray[np.float64],
    beliefs: Sequence[tuple[int, int, int, float]] = (),
    title: str = "Where the actors stand on each issue",
) -> str:
    """One panel per issue: each actor's position (x), marker area by capability, fill by salience
    (darker = cares more); hollow diamonds mark positions an actor is believed to hold by another.
    issues: (label, low, high, low_means, high_means); beliefs: (holder, about, issue, position)."""
    actors = [textwrap.fill(name, 30, max_lines=2, placeholder=" …") for name in actors]
    n_issues, n_actors = len(issues), len(actors)
    fig, axes = plt.subplots(
        n_issues, 1, figsize=(7, 0.32 * n_actors * n_issues + 1.2 * n_issues), squeeze=False
    )
    area = 40 + 360 * capability / max(float(capability.max()), 1e-9)
    cmap = plt.get_cmap("cividis_r")
    y = np.arange(n_actors)[::-1]
    for k, (label, low, high, low_means, high_means) in enumerate(issues):
        ax = axes[k, 0]
        ax.scatter(
            position[:, k],
            y,
            s=area,
            c=salience[:, k],
            cmap=cmap,
            vmin=0,
            vmax=1,
            edgecolors="black",
            linewidths=0.6,
            zorder=3,
        )
        for _holder, about, issue, believed in beliefs:
            if issue == k:
                ax.scatter(
                    [believed],
                    [y[about]],
                    s=60,
                    marker="D",
                    facecolors="none",
                    edgecolors=OKABE_ITO[5],
                    linewidths=1.2,
                    zorder=4,
                )
                ax.annotate(
                    "",
                    xy=(believed, y[about]),
                    xytext=(position[about, k], y[about]),
                    arrowprops={"arrowstyle": "->", "color": OKABE_ITO[5], "lw": 0.8},
                )
        ax.set_yticks(y, actors)
        ax.set_xlim(low - 0.03 * (high - low), high + 0.03 * (high - low))
        ax.set_ylim(-0.8, n_actors - 0.2)
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(label, loc="left", fontsize=10)
        ax.set_xlabel(scale_ends(low, high, low_means, high_means), fontsize=8)
    fig.tight_layout()
    return to_svg(fig, title)


def scale_ends(low: float, high: float, low_means: str, high_means: str, width: int = 110) -> str:
    """An issue's scale in words for an axis: "0: what the low end means … 100: ...", wrapped."""
    ends = [
        f"{v:g}: {means}" if means else f"{v:g}"
        for v, means in ((low, low_means), (high, high_means))
    ]
    return textwrap.fill("   …   ".join(ends), width)


def distributions(
    issues: Sequence[tuple[str, float, float, str, str]],
    counts: Sequence[NDArray[np.float64]],
    medians: Sequence[float],
    title: str = "Where the bargain settles on each issue",
) -> str:
    """Histogram of the settlement across draws (for a forecast conditioned on observations,
    weighted), one panel per issue, with the median marked and the ends of the scale in words.
    issues: (label, low, high, low_means, high_means); counts[k]: draws per bin of equal width
    over issue k's scale, summed here into 25 bins."""
    n = len(issues)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n + 0.5, 2.9), squeeze=False)
    for k, (label, low, high, low_means, high_means) in enumerate(issues):
        ax = axes[0, k]
        fine = np.asarray(counts[k], dtype=float)
        edges = np.linspace(low, high, 26)
        centres = low + (np.arange(len(fine)) + 0.5) * (high - low) / len(fine)
        ax.hist(centres, bins=edges, weights=fine, color=OKABE_ITO[1], edgecolor="white")
        median = float(medians[k])
        ax.axvline(median, color="black", lw=1.2, linestyle="--")
        name = textwrap.fill(label, 28, max_lines=2, placeholder=" …")
        ax.set_title(f"{name}\nmedian {median:.0f}", loc="left", fontsize=9)
        ax.set_yticks([])
        ax.set_xlim(low, high)
        ax.set_xlabel(scale_ends(low, high, low_means, high_means, 30), fontsize=8)
    fig.tight_layout()
    return to_svg(fig, title)


def drivers(
    labels: Sequence[str], effects: Sequence[float], targets: Sequence[str], title: str
) -> str:
    """Ranked horizontal bars: each input's largest mean absolute effect (Morris mu*), in
    percentage points, labelled with the scenario it moves most."""
    n = len(labels)
    wrapped = [textwrap.fill(label, 44) for label in labels]  # the case's own names can be long
    lines = sum(w.count("\n") + 1 for w in wrapped)
    fig, ax = plt.subplots(figsize=(7, 0.25 * lines + 0.2 * n + 0.9))
    y = np.arange(n)[::-1]
    ax.barh(y, [100 * e for e in effects], color=OKABE_ITO[5], height=0.6)
    for yi, e, t in zip(y, effects, targets, strict=True):
        ax.text(100 * e + 0.5, yi, t, va="center", fontsize=8)
    ax.set_yticks(y, wrapped, fontsize=8)
    ax.set_xlabel("change in the chance across the input's range (percentage points, on average)")
    ax.set_xlim(0, max([100 * e for e in effects] + [1]) * 1.35)
    ax.set_title(title, loc="left", fontsize=10)
    return to_svg(fig, title)


def changes(
    labels: Sequence[str], before: Sequence[float], after: Sequence[float], title: str
) -> str:
    """Each probability before the observations (hollow circle) and after (filled), joined by an
    arrow."""
    n = len(labels)
    wrapped = [textwrap.fill(label, 40, max_lines=3, placeholder=" …") for label in labels]
    lines = sum(w.count("\n") + 1 for w in wrapped)
    fig, ax = plt.subplots(figsize=(7, 0.3 * lines + 0.2 * n + 0.9))
    y = np.arange(n)[::-1]
    for yi, b, a in zip(y, before, after, strict=True):
        ax.annotate(
            "", xy=(a, yi), xytext=(b, yi),
            arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 1.2},
        )  # fmt: skip
        ax.text(min(max(a, b) + 0.03, 0.9), yi + 0.25, f"{b:.0%} → {a:.0%}", fontsize=9)
    ax.plot(before, y, "o", mfc="white", mec=OKABE_ITO[0], ms=7, label="before")
    ax.plot(after, y, "o", color=OKABE_ITO[4], ms=7, label="after the observations")
    ax.set_yticks(y, wrapped, fontsize=8 if lines > n else 10)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, n - 0.3)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(fontsize=9, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    ax.set_title(title, loc="left", fontsize=10)
    return to_svg(fig, title)


def shifts(
    labels: Sequence[str],
    prior: Sequence[Sequence[float]],
    posterior: Sequence[Sequence[float]],
    title: str,
) -> str:
    """Each input's 5th–95th percentile and median before the observations (upper, hollow) and
    after (lower, filled), on a scale from the prior's 5th to 95th percentile (0 to 1), so that
    inputs in different units share one axis."""
    n = len(labels)
    wrapped = [textwrap.fill(label, 45, max_lines=3, placeholder=" …") for label in labels]
    lines = sum(w.count("\n") + 1 for w in wrapped)
    fig, ax = plt.subplots(figsize=(7, 0.35 * lines + 0.3 * n + 1.0))
    y = np.arange(n)[::-1].astype(float)
    for yi, pr, po in zip(y, prior, posterior, strict=True):
        low, high = pr[0], pr[2]
        span = high - low if high > low else 1.0

        def unit(v: float, low: float = low, span: float = span) -> float:
            return (v - low) / span

        ax.plot([unit(pr[0]), unit(pr[2])], [yi + 0.15] * 2, color=OKABE_ITO[0], lw=2)
        ax.plot([unit(pr[1])], [yi + 0.15], "o", mfc="white", mec=OKABE_ITO[0], ms=6)
        ax.plot([unit(po[0]), unit(po[2])], [yi - 0.15] * 2, color=OKABE_ITO[4], lw=2)
        ax.plot([unit(po[1])], [yi - 0.15], "o", color=OKABE_ITO[4], ms=6)
    ax.set_yticks(y, wrapped, fontsize=8)
    ax.set_xlabel("where it lies in its range before the observations (0: 5th percentile, 1: 95th)")
    ax.set_ylim(-0.7, n - 0.3)
    ax.plot([], [], color=OKABE_ITO[0], lw=2, label="before (5–95%, median)")
    ax.plot([], [], color=OKABE_ITO[4], lw=2, label="after the observations")
    ax.legend(fontsize=9, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax.set_title(title, loc="left", fontsize=10)
    return to_svg(fig, title)
