"""A plain, one-draw-at-a-time version of the EUM equations (`standoff.bargaining.eum`), written
with Python loops over actors and pairs: a test oracle for the vectorized engine, and the baseline
`benchmarks/bench_eum.py` times it against. It ignores perceptions and the convergence rule: it
runs the equations of a reading for a fixed number of rounds (the defaults are those of the
reading "scholz-table2"; probability="pairwise" gives the "forecast" reading's equations)."""

from __future__ import annotations

import numpy as np

from standoff.bargaining.base import BargainingInputs, FloatArray, weighted_median
from standoff.bargaining.eum.constants import SAME_POSITION


def reference_run(
    inputs: BargainingInputs,
    rounds: int,
    Q: float = 1.0,
    T: float = 1.0,
    risk: str = "recompute",
    probability: str = "all-triples",
    choice: str = "scholz",
    vote_risk: bool = True,
) -> FloatArray:
    """(rounds + 1, N, K) positions of the first draw of `inputs`."""
    if inputs.has_perceptions:
        raise ValueError("the reference loop does not take perceptions")
    n, n_issues = inputs.n_actors, inputs.n_issues
    capability = [float(c) for c in inputs.capability[0]]
    out = np.empty((rounds + 1, n, n_issues))
    out[0] = inputs.position[0]
    for k in range(n_issues):
        scale = float(inputs.high[k] - inputs.low[k]) or 1.0
        salience = [float(s) for s in inputs.salience[0, :, k]]
        weight = [capability[a] * salience[a] for a in range(n)]
        x = [float(v) for v in inputs.position[0, :, k]]
        for t in range(rounds):
            x = _round(
                x,
                weight,
                salience,
                scale,
                Q,
                T,
                risk,
                probability,
                choice,
                vote_risk,
                None if inputs.risk is None else [float(v) for v in inputs.risk[0]],
            )
            x = [min(max(v, float(inputs.low[k])), float(inputs.high[k])) for v in x]
            out[t + 1, :, k] = x
    return out


def reference_p_win(
    inputs: BargainingInputs,
    Q: float = 1.0,
    T: float = 1.0,
    risk: str = "recompute",
    probability: str = "all-triples",
    choice: str = "scholz",
    vote_risk: bool = True,
) -> FloatArray:
    """(K, N, N) P^i(i:j) of the first round of the first draw (0 on the diagonal and at the
    same position): `DyadicRounds.p_win`."""
    n, n_issues = inputs.n_actors, inputs.n_issues
    capability = [float(c) for c in inputs.capability[0]]
    out = np.zeros((n_issues, n, n))
    for k in range(n_issues):
        scale = float(inputs.high[k] - inputs.low[k]) or 1.0
        salience = [float(s) for s in inputs.salience[0, :, k]]
        weight = [capability[a] * salience[a] for a in range(n)]
        x = [float(v) for v in inputs.position[0, :, k]]
        given = None if inputs.risk is None else [float(v) for v in inputs.risk[0]]
        _round(x, weight, salience, scale, Q, T, risk, probability, choice, vote_risk, given,
               probabilities=out[k])  # fmt: skip
    return out


def _round(
    x: list[float],
    weight: list[float],
    salience: list[float],
    scale: float,
    Q: float,
    T: float,
    risk: str,
    probability: str,
    choice: str,
    vote_risk: bool,
    given: list[float] | None,
    probabilities: FloatArray | None = None,
) -> list[float]:
    n = len(x)
    mu = 0.0
    if Q < 1.0:
        mu = float(
            weighted_median(np.array(x)[None, :, None], np.array(weight)[None], np.ones((1, n, 1)))[
                0, 0
            ]
        )

    denominators: dict[tuple[float, ...], float] = {}

    def p_win(a: int, b: int, r: list[float]) -> float:
        def d(voter: int, at: float) -> float:
            return (abs(x[voter] - at) / scale) ** r[voter]

        votes = [weight[v] * (d(v, x[b]) - d(v, x[a])) for v in range(n)]
        top = sum(max(0.0, v) for v in votes)
        if probability == "pairwise":
            bottom = sum(abs(v) for v in votes)
        else:  # the same for every pair in a round: computed once per set of exponents
            key = tuple(r)
            if key not in denominators:
                denominators[key] = sum(
                    abs(weight[v] * (d(v, x[q]) - d(v, x[p])))
                    for v in range(n)
                    for p in range(n)
                    for q in range(n)
                )
            bottom = denominators[key]
        return top / bottom if bottom > 0 else 0.0

    def eu(a: int, b: int, r_a: float, voters: list[float]) -> float:
        """E(U_ab): a challenges b, with exponent r_a."""
        if abs(x[a] - x[b]) / scale <= SAME_POSITION:
            return 0.0
        p = p_win(a, b, voters)
        gap = abs(x[a] - x[b]) / scale
        u_s = 2 - 4 * (0.5 - 0.5 * gap) ** r_a
        u_f = 2 - 4 * (0.5 + 0.5 * gap) ** r_a
        u_sq = 2 - 4 * 0.5**r_a
        value = salience[b] * (p * u_s + (1 - p) * u_f) + (1 - salience[b]) * u_s - Q * u_sq
        if Q < 1.0:
            spread = 0.25 * (abs(x[a] - mu) / scale + gap)
            u_b = 2 - 4 * max(0.5 - spread, 0.0) ** r_a
            u_w = 2 - 4 * (0.5 + spread) ** r_a
            value -= (1 - Q) * (T * u_b + (1 - T) * u_w)
        return value

    neutral = [1.0] * n
    if risk == "off":
        r = neutral
    elif risk == "given":
        r = [_exponent(min(max(v, -1.0), 1.0)) for v in (given or neutral)]
        if given is None:
            r = neutral
    else:
        security = [sum(eu(j, i, 1.0, neutral) for j in range(n) if j != i) for i in range(n)]
        top, bottom = max(security), min(security)
        r = [
            _exponent((2 * s - top - bottom) / (top - bottom)) if top > bottom else 1.0
            for s in security
        ]
    voters = r if vote_risk else neutral

    new_x = list(x)
    for i in range(n):
        lost: list[tuple[float, float]] = []  # (move, position)
        compromises: list[tuple[float, float]] = []  # (key, position)
        capitulations: list[tuple[float, float]] = []
        everything: list[tuple[float, float]] = []
        for j in range(n):
            if j == i or abs(x[i] - x[j]) / scale <= SAME_POSITION:
                continue
            if probabilities is not None:
                probabilities[i, j] = p_win(i, j, voters)  # P^i(i:j), the P in E^i(U_ij)
            mine = eu(i, j, r[i], voters)  # E^i(U_ij)
            theirs = eu(j, i, r[i], voters)  # E^i(U_ji), with i's exponent
            if theirs > mine > 0:
                lost.append((abs(x[j] - x[i]), x[j]))
                everything.append((abs(x[j] - x[i]), x[j]))
            elif theirs > 0 > mine:
                if theirs > -mine:
                    to = x[i] + (x[j] - x[i]) * abs(mine / theirs)
                    key = (abs(mine) * x[i] + abs(theirs) * x[j]) / (abs(mine) + abs(theirs))
                    compromises.append((key, to))
                    everything.append((abs(to - x[i]), to))
                else:
                    capitulations.append((abs(x[j] - x[i]), x[j]))
                    everything.append((abs(x[j] - x[i]), x[j]))
        if choice == "nearest":
            pool = everything
        else:
            pool = lost or compromises or capitulations
        if pool:
            best = min(key for key, _ in pool)
            new_x[i] = min(to for key, to in pool if key <= best + 1e-12 * abs(best))
    return new_x


def _exponent(big_r: float) -> float:
    return (1 - big_r / 3) / (1 + big_r / 3)
