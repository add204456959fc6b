"""The drivers of a forecast in the report: the inputs that move a scenario most (method of
Morris), each with the direction of its effect and a sentence that gives the same size and
direction as the table."""

from __future__ import annotations

from collections.abc import Mapping

from ..result import Driver, Sensitivity
from .rows import DriverRow
from .wording import points


def direction(mu: float, mu_star: float) -> str:
    """Which way an input moves a probability, from Morris's mean effect (mu) and mean absolute
    effect (mu_star >= |mu|): "up" or "down" when (nearly) every effect has that sign, "mostly
    up" or "mostly down" when three quarters or more of the effects' size has it, else "either
    way" (the sign depends on the other inputs)."""
    if mu_star <= 0:
        return "none"
    up = (mu_star + mu) / (2 * mu_star)  # the share of the effects' total size that is upward
    if up >= 0.95 or up <= 0.05:
        return "up" if up >= 0.95 else "down"
    if up >= 0.75 or up <= 0.25:
        return "mostly up" if up >= 0.75 else "mostly down"
    return "either way"


def driver_sentence(
    name: str, target: str, low: float, high: float, mu: float, mu_star: float
) -> str:
    """A driver in words: the size is its mean absolute effect (the table's figure), the
    direction as `direction` reads it."""
    way = direction(mu, mu_star)
    across = f"Moving {name} from the low end of its range ({low:.3g}) to the high end ({high:.3g})"
    size = f"about {points(mu_star)}"
    if way in ("up", "down"):
        verb = "raises" if way == "up" else "lowers"
        return f"{across} {verb} the chance of ‘{target}’ by {size} on average."
    if way in ("mostly up", "mostly down"):
        verb = "raising" if way == "mostly up" else "lowering"
        return f"{across} changes the chance of ‘{target}’ by {size} on average, mostly {verb} it."
    if way == "none":
        return f"{across} leaves the chance of ‘{target}’ unchanged."
    return (
        f"{across} changes the chance of ‘{target}’ by {size} on average, raising it for some "
        "settings of the other inputs and lowering it for others."
    )


DIRECTION_WORDS = {
    "up": "raises it",
    "down": "lowers it",
    "mostly up": "mostly raises it",
    "mostly down": "mostly lowers it",
    "either way": "either way",
    "none": "no change",
}


def driver_rows(
    sensitivity: Sensitivity, labels: Mapping[str, str], top: int = 12
) -> tuple[tuple[DriverRow, ...], list[str]]:
    """The inputs that move a scenario most (each by its largest effect on any scenario), and
    a sentence for the first three: the sentence and the table give the same size and
    direction."""
    best: dict[str, Driver] = {}
    for d in (d for d in sensitivity.drivers if d.kind == "scenario"):
        if d.input not in best or d.mu_star > best[d.input].mu_star:
            best[d.input] = d
    ranked = sorted(best.values(), key=lambda d: -d.mu_star)[:top]
    rows = []
    for d in ranked:
        target = labels.get(d.target, d.target)
        way = direction(d.mu, d.mu_star)
        rows.append(
            DriverRow(
                input=d.input,
                name=d.label,
                note=d.note,
                target=target,
                target_id=d.target,
                mu_star=d.mu_star,
                mu=d.mu,
                sigma=d.sigma,
                conf=d.mu_star_conf,
                low=d.low,
                high=d.high,
                direction=DIRECTION_WORDS[way],
                effect=f"{100 * d.mu_star:.0f}",
                sentence=driver_sentence(d.label, target, d.low, d.high, d.mu, d.mu_star),
            )
        )
    return tuple(rows), [row.sentence for row in rows[:3]]
