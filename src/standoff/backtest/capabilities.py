"""Capabilities of the DEU III actors: equal, GDP, or Council voting weights by treaty.

Council voting weights under the treaty in force at the decision date:

- **pre-Nice** (EU-15, to 31 October 2004): DE/FR/IT/UK 10, ES 8, BE/EL/NL/PT 5, AT/SE 4,
  DK/IE/FI 3, LU 2; a qualified majority was 62 of 87 votes. Source: the glossary of the European
  Convention, "Qualified majority" (european-convention.europa.eu, 2003), quoting Art. 205(2) TEC.
- **Nice** (1 November 2004 to 31 October 2014): DE/FR/IT/UK 29, ES/PL 27, RO 14, NL 13,
  BE/CZ/EL/HU/PT 12, AT/BG/SE 10, DK/IE/LT/SK/FI/HR 7, CY/EE/LV/LU/SI 4, MT 3 (255 of 345 votes
  with 27 states). Source: Europa glossary, "Weighting of votes in the Council" (europa.eu, archived
  legislation summaries): "enshrined in the Treaty of Nice, came into force on 1 November 2004";
  Art. 3(3) of Protocol No 36 on transitional provisions; Croatia 7 from its accession (2013).
- **Lisbon double majority** (from 1 November 2014): 55% of the member states (at least 15)
  representing 65% of the population; a blocking minority needs at least four states (Art. 16(4)
  TEU, Art. 238(3) TFEU). Populations: the shares of the EU population in Annex III of the Council's
  Rules of Procedure for 2016, Council Decision (EU, Euratom) 2015/2393 of 8 December 2015 (Eurostat
  data; EU total 508,940,955), as reported by Agence Europe, 9 December 2015. The weight is each
  state's normalized Banzhaf index of that voting game (computed exactly below, populations rounded
  to 0.01% of the EU total); `lisbon="population"` uses the population shares themselves.

Every table is a share of the Council's votes (summing to 1 over the states that were members).
The Commission and the Parliament have no Council votes; `institutions` says how they count.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
from numpy.typing import NDArray

from .deu3 import ACTORS, STATES, Issue

PRE_NICE: dict[str, float] = {
    "de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8, "be": 5, "el": 5, "nl": 5, "pt": 5,
    "at": 4, "se": 4, "dk": 3, "ie": 3, "fi": 3, "lu": 2,
}  # fmt: skip
NICE: dict[str, float] = {
    "de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13,
    "be": 12, "cz": 12, "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10,
    "dk": 7, "ie": 7, "lt": 7, "sk": 7, "fi": 7, "cr": 7,
    "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3,
}  # fmt: skip
#: Percent of the EU population, 2016 (Council Decision 2015/2393, Annex III).
POPULATION_2016: dict[str, float] = {
    "de": 15.93, "fr": 13.04, "uk": 12.73, "it": 12.07, "es": 9.12, "pl": 7.47, "ro": 3.90,
    "nl": 3.37, "be": 2.21, "el": 2.13, "cz": 2.05, "pt": 2.04, "hu": 1.94, "se": 1.92,
    "at": 1.69, "bu": 1.42, "dk": 1.11, "fi": 1.08, "sk": 1.06, "ie": 0.91, "cr": 0.83,
    "lt": 0.57, "si": 0.41, "lv": 0.39, "ee": 0.26, "cy": 0.17, "lu": 0.11, "mt": 0.08,
}  # fmt: skip
NICE_FROM = dt.date(2004, 11, 1)
LISBON_FROM = dt.date(2014, 11, 1)
ENLARGEMENT_2004 = ("cy", "cz", "ee", "hu", "lv", "lt", "mt", "pl", "si", "sk", "bu", "ro", "cr")

CAPABILITIES = ("equal", "gdp", "council-votes")
INSTITUTIONS = ("largest", "largest-present", "none", "procedure")
LISBON_INDEX = ("banzhaf", "population")


def lisbon_banzhaf(population: dict[str, float] = POPULATION_2016) -> dict[str, float]:
    """Normalized Banzhaf index of each state in the Lisbon double-majority game.

    A coalition wins if it has at least 55% of the states and 65% of the population, or if the
    states outside it are fewer than four (a blocking minority needs four). Counted exactly by
    dynamic programming over (number of states, population in 0.01% units) for the others.
    """
    names = list(population)
    n = len(names)
    units = [round(population[k] * 100) for k in names]  # 0.01% units
    total = sum(units)
    need_states = int(np.ceil(0.55 * n))
    need_pop = 0.65 * total
    swings = np.zeros(n)
    for i in range(n):
        table = np.zeros((n, total + 1))  # table[c, p]: coalitions of the others with c states, p
        table[0, 0] = 1.0
        for j in range(n):
            if j == i:
                continue
            shifted = np.zeros_like(table)
            shifted[1:, units[j] :] = table[:-1, : total + 1 - units[j]]
            table = table + shifted
        count = np.arange(n)[:, None]
        pop = np.arange(total + 1)[None, :]

        def wins(c: NDArray[np.int64], p: NDArray[np.int64]) -> NDArray[np.bool_]:
            return ((c >= need_states) & (p >= need_pop)) | (n - c < 4)

        swing = wins(count + 1, pop + units[i]) & ~wins(count, pop)
        swings[i] = float((table * swing).sum())
    return {k: float(v) for k, v in zip(names, swings / swings.sum(), strict=True)}


@cache
def _lisbon(index: str) -> dict[str, float]:
    return lisbon_banzhaf() if index == "banzhaf" else dict(POPULATION_2016)


def treaty(issue: Issue) -> str:
    """`pre-nice`, `nice` or `lisbon`, by the decision date. Where `finact` is missing, the
    proposal's introduction date stands in (a lower bound), and an issue on which a state that
    joined in 2004 or later takes a position is under Nice at least."""
    date = issue.decided or issue.introduced
    joined = any(issue.present[ACTORS.index(s)] for s in ENLARGEMENT_2004)
    if date is not None and date >= LISBON_FROM:
        return "lisbon"
    if (date is not None and date >= NICE_FROM) or joined:
        return "nice"
    return "pre-nice"


def council_weights(issue: Issue, lisbon: str = "banzhaf") -> dict[str, float]:
    """Each state's share of Council votes under the treaty in force for the issue."""
    which = treaty(issue)
    table = {"pre-nice": PRE_NICE, "nice": NICE}.get(which) or _lisbon(lisbon)
    total = sum(table.values())
    return {k: v / total for k, v in table.items()}


def capability(
    issue: Issue,
    kind: str,
    gdp: NDArray[np.float64],
    institutions: str = "largest",
    lisbon: str = "banzhaf",
) -> NDArray[np.float64]:
    """(len(ACTORS),) capabilities for one issue.

    kind: `equal` (1 each), `gdp` (the file's GDP line), `council-votes` (treaty weights; a state
    without a weight under that treaty gets the smallest weight of the table).
    institutions: how the Commission and Parliament count: `largest` (as much as the largest state,
    as the GDP line does), `largest-present` (as much as the largest state that took a position
    on the issue; the reading of other DEU implementations), `none` (zero: only the Council
    decides), `procedure` (the Commission as the largest state; the Parliament so under
    co-decision, zero under consultation).
    """
    if kind not in CAPABILITIES:
        raise ValueError(f"capabilities must be one of {', '.join(CAPABILITIES)}; got {kind!r}")
    if institutions not in INSTITUTIONS:
        raise ValueError(f"institutions must be one of {', '.join(INSTITUTIONS)}")
    out = np.ones(len(ACTORS))
    if kind == "gdp":
        out = np.nan_to_num(gdp.astype(float), nan=0.0)
    elif kind == "council-votes":
        table = council_weights(issue, lisbon)
        smallest = min(table.values())
        for k, state in enumerate(STATES, start=2):
            out[k] = table.get(state, smallest)
    largest = float(out[2:].max())
    if institutions == "largest-present":
        states = issue.present[2:]
        largest = float(out[2:][states].max()) if states.any() else largest
    com, ep = largest, largest
    if institutions == "none":
        com = ep = 0.0
    elif institutions == "procedure" and issue.procedure.upper() != "COD":
        ep = 0.0
    out[0], out[1] = com, ep
    return out
