"""KTAB's spatial model of politics (SMP): challenges, bargains and Condorcet votes over bargains.

Each turn, every actor i (1) infers everyone's risk attitude from the probabilistic Condorcet
election over current positions, (2) finds the actor j whose challenge gains it most in expected
utility, estimating P(i defeats j) with third parties joining the side they prefer, (3) proposes
to j a bargain that interpolates their positions by salience and that probability; then every
actor adopts the bargain, among those involving it and the status quo, that a probabilistic
Condorcet election among all actors would pick. The run stops when a turn's total movement falls
below 2% of the first turn's (at least 2 and at most 100 turns).

This reimplements KTAB's `smpc` (KAPSARC Toolkit for Behavioral Analysis, MIT licence; Wise,
Lester et al., KAPSARC 2015-2017) from its C++ source: `SMPState::stepBCN` and the functions named
in the comments. It is vectorized over draws, actors and bargains; see docs/model-smp.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from . import smp_kernels as kern
from .base import BargainingInputs, Engine, FloatArray, Trajectory

# Option spellings: standoff's names, and KTAB's own (as in its logs and smpc parameters).
_ALIASES: dict[str, dict[str, str]] = {
    "victory": {
        "linear": "linear",
        "square": "square",
        "quartic": "quartic",
        "octic": "octic",
        "binary": "binary",
    },
    "voting": {
        "binary": "binary",
        "propbin": "prop_bin",
        "prop_bin": "prop_bin",
        "prop": "proportional",
        "proportional": "proportional",
        "propcbc": "prop_cubic",
        "prop_cubic": "prop_cubic",
        "cubic": "cubic",
        "asymprosp": "asym_prospect",
        "asym_prospect": "asym_prospect",
    },
    "pce": {
        "conditional": "conditional",
        "markovincentive": "markov_incentive",
        "markov_incentive": "markov_incentive",
        "markovuniform": "markov_uniform",
        "markov_uniform": "markov_uniform",
    },
    "risk_range": {"min": "min", "mid": "mid", "max": "max"},
    "risk_adjust": {
        "none": "none",
        "onethird": "one_third",
        "one_third": "one_third",
        "half": "half",
        "twothirds": "two_thirds",
        "two_thirds": "two_thirds",
        "full": "full",
    },
    "commit": {
        "nocommit": "none",
        "none": "none",
        "semicommit": "semi",
        "semi": "semi",
        "fullcommit": "full",
        "full": "full",
    },
    "interpolation": {"s1p1": "s1p1", "s2p2": "s2p2", "s2pmax": "s2pmax"},
    "bargain_model": {
        "initonlyinterp": "init_only",
        "init_only": "init_only",
        "initrcvrinterp": "init_receiver",
        "init_receiver": "init_receiver",
        "pwcompinterp": "power_weighted",
        "power_weighted": "power_weighted",
    },
}

# Draws are processed in blocks so that the largest per-turn arrays (draws x N^3) stay small.
_BLOCK_ELEMENTS = 4_000_000


def _choice(option: str, value: Any) -> str:
    key = str(value).strip().lower().replace("-", "_")
    table = _ALIASES[option]
    if key not in table and key.replace("_", "") not in table:
        choices = sorted(set(table.values()))
        raise ValueError(f"smp option {option}={value!r}: choose from {', '.join(choices)}")
    return table.get(key, table.get(key.replace("_", ""), ""))


class SpatialModel(Engine):
    """KTAB's SMP with its default parameters; every option takes standoff's or KTAB's spelling."""

    name: ClassVar[str] = "smp"
    citation: ClassVar[str] = (
        "Wise, B., Lester, L., Efird, B. et al. KTAB: the KAPSARC Toolkit for Behavioral Analysis, "
        "spatial model of politics (smpc). KAPSARC, 2015-2017. github.com/KAPSARC/KTAB"
    )
    default_rounds: ClassVar[int | None] = None

    def __init__(
        self,
        victory: str = "linear",
        voting: str = "proportional",
        pce: str = "conditional",
        risk_range: str = "mid",
        risk_adjust: str = "one_third",
        commit: str = "semi",
        interpolation: str = "s2p2",
        bargain_model: str = "init_only",
        min_rounds: int = 2,
        max_rounds: int = 100,
        min_delta_ratio: float = 0.02,
    ) -> None:
        self.victory = _choice("victory", victory)
        self.voting = _choice("voting", voting)
        self.pce = _choice("pce", pce)
        self.risk_range = _choice("risk_range", risk_range)
        self.risk_adjust = _choice("risk_adjust", risk_adjust)
        self.commit = _choice("commit", commit)
        self.interpolation = _choice("interpolation", interpolation)
        self.bargain_model = _choice("bargain_model", bargain_model)
        self.min_rounds = int(min_rounds)
        self.max_rounds = int(max_rounds)
        self.min_delta_ratio = float(min_delta_ratio)
        if self.min_rounds < 1 or self.max_rounds < 1:
            raise ValueError("smp: min_rounds and max_rounds must be at least 1")

    def options(self) -> dict[str, Any]:
        return {
            "victory": self.victory,
            "voting": self.voting,
            "pce": self.pce,
            "risk_range": self.risk_range,
            "risk_adjust": self.risk_adjust,
            "commit": self.commit,
            "interpolation": self.interpolation,
            "bargain_model": self.bargain_model,
            "min_rounds": self.min_rounds,
            "max_rounds": self.max_rounds,
            "min_delta_ratio": self.min_delta_ratio,
        }

    # ------------------------------------------------------------------ run

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        """Turns until KTAB's stopping rule (or at most `rounds` turns, if given)."""
        if rounds is not None and rounds < 0:
            raise ValueError("rounds must be a non-negative integer")
        cap = self.max_rounds if rounds is None else min(int(rounds), self.max_rounds)
        n, k = inputs.n_actors, inputs.n_issues
        span = np.where(inputs.high > inputs.low, inputs.high - inputs.low, 1.0)
        # KTAB works on [0, 1]: positions are rescaled from each issue's scale, and back at the end
        unit = (inputs.position - inputs.low) / span
        block = max(1, _BLOCK_ELEMENTS // max(1, n * n * (n + 1)))
        pieces: list[tuple[FloatArray, NDArray[np.int64], FloatArray]] = []
        for start in range(0, inputs.draws, block):
            stop = min(inputs.draws, start + block)
            pieces.append(
                self._run_block(
                    unit[start:stop],
                    inputs.salience[start:stop],
                    inputs.capability[start:stop],
                    cap,
                )
            )
        longest = max(p[0].shape[1] for p in pieces)
        path = np.empty((inputs.draws, longest, n, k))
        ratio = np.full((inputs.draws, longest - 1), np.nan)
        rounds_run = np.empty(inputs.draws, dtype=np.int64)
        at = 0
        for block_path, block_rounds, block_ratio in pieces:
            size, r1 = block_path.shape[:2]
            path[at : at + size, :r1] = block_path
            path[at : at + size, r1:] = block_path[:, -1:]
            ratio[at : at + size, : r1 - 1] = block_ratio
            rounds_run[at : at + size] = block_rounds
            at += size
        positions = inputs.low + path * span
        positions[:, 0] = inputs.position
        return Trajectory(
            positions=positions, rounds_run=rounds_run, diagnostics={"fractional_change": ratio}
        )

    def _run_block(
        self, x0: FloatArray, salience: FloatArray, capability: FloatArray, cap: int
    ) -> tuple[FloatArray, NDArray[np.int64], FloatArray]:
        """Model::run with smpStopFn, for a block of draws; positions on [0, 1]."""
        draws = x0.shape[0]
        history = [x0.copy()]
        ratios: list[FloatArray] = []
        rounds_run = np.zeros(draws, dtype=np.int64)
        active = np.ones(draws, dtype=bool)
        first_step = np.zeros(draws)
        x = x0.copy()
        for turn in range(1, cap + 1):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            new = x.copy()
            new[idx] = self._turn(x[idx], salience[idx], capability[idx])
            # SMPModel::stateDist: the sum over actors of the Euclidean distance moved
            moved = np.sqrt(((new - x) ** 2).sum(axis=-1)).sum(axis=-1)
            if turn == 1:
                first_step = moved + 1e-4  # smpStopFn minSigDelta
            ratio = np.where(active, moved / first_step, np.nan)
            ratios.append(ratio)
            x = new
            history.append(x.copy())
            rounds_run[idx] = turn
            quiet = (turn >= self.min_rounds) & (ratio < self.min_delta_ratio)
            active &= ~quiet
        path = np.stack(history, axis=1)
        ratio_array = np.stack(ratios, axis=1) if ratios else np.empty((draws, 0))
        return path, rounds_run, ratio_array

    # ------------------------------------------------------------------ one turn

    def utilities(
        self, x: FloatArray, salience: FloatArray, capability: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """SMPState::setAllAUtil: (u, risk), from the salience-weighted distances (setVDiff).

        risk[d, i]: i's risk attitude inferred from the risk-neutral Condorcet election.
        u[d, h, i, j]: h's estimate of i's utility for j's position.
        """
        distance = kern.weighted_distance(x, salience, x)
        neutral = kern.utility(distance, 0.0)
        # votes[d, a, b, k] = vote of k (weight: capability) for a's position over b's
        du = neutral[:, :, :, None] - neutral[:, :, None, :]  # (d, k, a, b)
        votes = kern.vote(self.voting, capability[:, :, None, None], du)
        c = kern.coalitions(np.moveaxis(votes, 1, -1))
        p = kern.condorcet(self.victory, self.pce, c)
        risk = kern.risk_from_probability(p, self.risk_range)
        r_hi = kern.perceived_risk(risk, self.risk_adjust)  # (d, h, i)
        u = kern.utility(distance[:, None, :, :], r_hi[:, :, :, None])
        return u, risk

    def _turn(self, x: FloatArray, salience: FloatArray, capability: FloatArray) -> FloatArray:
        """SMPState::doBCN: one turn of challenges, bargains and votes; returns new positions."""
        d, n, _ = x.shape
        if n == 1:
            return x.copy()
        u, risk = self.utilities(x, salience, capability)
        weight = salience.sum(axis=-1) * capability  # s_i c_i, the weight in probEduChlg
        salience_sum = salience.sum(axis=-1)
        actors = np.arange(n)
        rows = np.arange(d)[:, None]

        p_win, gain = self.challenges(u, weight, salience_sum)
        gain[:, actors, actors] = -np.inf
        # SMPState::bestChallenge: the first j with the largest significant gain
        best = np.where(gain > kern.MIN_SIGNIFICANT_GAIN, gain, -np.inf)
        target = np.argmax(best, axis=-1)  # (d, i)
        challenges = np.isfinite(best[rows, actors, target])
        p_i_target = p_win[rows, actors, target]

        # ---- bargains each initiator proposes (SMPState::doBCN(i))
        x_target = x[rows, target]
        s_target = salience[rows, target]
        brgn_iij = kern.interpolate_bargain(
            self.interpolation, x, salience, p_i_target, x_target, s_target, 1 - p_i_target
        )
        bargains: list[tuple[FloatArray, FloatArray]] = []
        if self.bargain_model == "init_only":
            bargains.append(brgn_iij)
        else:
            # the receiver's estimate of P(i defeats j): probEduChlg(j, i, i, j)
            p_j = self._receiver_estimate(u, weight, target)
            brgn_jij = kern.interpolate_bargain(
                self.interpolation, x, salience, p_j, x_target, s_target, 1 - p_j
            )
            if self.bargain_model == "init_receiver":
                bargains += [brgn_iij, brgn_jij]
            else:
                # KTAB weighs the receiver's view by the initiator's capability times the
                # receiver's salience sum (scj is read from brgnJIJ->actInit); kept as in KTAB.
                w_i = (capability * salience_sum)[:, :, None]
                w_j = (capability * salience_sum[rows, target])[:, :, None]
                init = (w_i * brgn_iij[0] + w_j * brgn_jij[0]) / (w_i + w_j)
                rcvr = (w_i * brgn_iij[1] + w_j * brgn_jij[1]) / (w_i + w_j)
                bargains.append((init, rcvr))

        # ---- SMPState::updateBestBrgnPositions: each actor's Condorcet vote over its bargains
        # Slots: 0 is the status quo, then (initiator i, copy b) at 1 + b * n + i.
        n_copies = len(bargains)
        ideal_utility = np.diagonal(u, axis1=1, axis2=2)  # [d, a, v] = u[d, v, v, a]
        ideal_utility = np.swapaxes(ideal_utility, 1, 2)  # [d, v, a]
        base = ideal_utility.sum(axis=-1)  # [d, v]: utility of the status quo, times n
        u_init_pos = ideal_utility  # [d, v, i]
        u_target_pos = np.take_along_axis(
            ideal_utility, np.broadcast_to(target[:, None, :], (d, n, n)), axis=2
        )  # [d, v, i] = u[v, v, target_i]
        slot_utility = [base]
        new_init: list[FloatArray] = []
        new_rcvr: list[FloatArray] = []
        for init_pos, rcvr_pos in bargains:
            # SMPActor::posUtil: voter v's utility for a proposed position, with v's own risk
            u_bi = kern.utility(kern.weighted_distance(x, salience, init_pos), risk[:, :, None])
            u_br = kern.utility(kern.weighted_distance(x, salience, rcvr_pos), risk[:, :, None])
            total = base[:, :, None] - u_init_pos - u_target_pos + u_bi + u_br
            slot_utility.append(total)
            new_init.append(init_pos)
            new_rcvr.append(rcvr_pos)
        ub = np.concatenate([slot_utility[0][:, :, None], *slot_utility[1:]], axis=2) / n
        # ub[d, v, slot]; coalition over slots with votes weighted by capability
        du = ub[:, :, :, None] - ub[:, :, None, :]  # (d, v, a, b)
        votes = kern.vote(self.voting, capability[:, :, None, None], du)
        c = kern.coalitions(np.moveaxis(votes, 1, -1))  # (d, slots, slots)
        # which slots involve actor k: the status quo, its own bargains, those targeting it
        involved = (actors[None, :, None] == actors[None, None, :]) | (
            target[:, None, :] == actors[None, :, None]
        )  # [d, k, i]
        involved &= challenges[:, None, :]
        mask = np.concatenate(
            [np.ones((d, n, 1), dtype=bool), np.tile(involved, (1, 1, n_copies))], axis=2
        )  # [d, k, slot]
        p = kern.condorcet(
            self.victory, self.pce, np.broadcast_to(c[:, None], (d, n, *c.shape[1:])), mask
        )
        chosen = np.argmax(p, axis=-1)  # first maximum, as KTAB's ndxMaxAbs
        # the chosen bargain's position for actor k
        moved = chosen > 0
        slot = np.maximum(chosen - 1, 0)
        copy_idx, initiator = slot // n, slot % n
        init_stack = np.stack(new_init, axis=1)  # [d, b, i, K]
        rcvr_stack = np.stack(new_rcvr, axis=1)
        kk = np.broadcast_to(actors[None, :], (d, n))
        from_init = init_stack[rows, copy_idx, initiator]
        from_rcvr = rcvr_stack[rows, copy_idx, initiator]
        pick = np.where((initiator == kk)[..., None], from_init, from_rcvr)
        return np.where(moved[..., None], pick, x)

    def challenges(
        self, u: FloatArray, weight: FloatArray, salience_sum: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """SMPState::bestChallengeUtils: probEduChlg(i, i, i, j) for every pair (h = k = i).

        Returns (p_win, gain), each (d, i, j): i's estimate that it defeats j, and i's expected
        gain in utility from challenging j rather than keeping the status quo.
        """
        n = u.shape[1]
        actors = np.arange(n)
        own = u[:, actors, actors, :]  # own[d, i, a] = u[d, i, i, a]
        u_ii = own[:, actors, actors][:, :, None]  # (d, i, 1)
        u_ij = own  # (d, i, j)
        t_uni = np.swapaxes(np.diagonal(u, axis1=1, axis2=3), 1, 2)  # [d, i, n] = u[d, i, n, i]
        s_unn = np.diagonal(u, axis1=2, axis2=3)  # [d, i, n] = u[d, i, n, n]
        u_ji = t_uni  # [d, i, j] = u[d, i, j, i]
        u_jj = s_unn  # [d, i, j] = u[d, i, j, j]
        third = (actors[:, None, None] != actors[None, None, :]) & (
            actors[None, :, None] != actors[None, None, :]
        )  # (i, j, n)
        p_win = kern.challenge_victory(
            self.voting,
            self.commit,
            u_ii,
            u_ij,
            u_ji,
            u_jj,
            t_uni[:, :, None, :],
            np.swapaxes(u, 2, 3),
            s_unn[:, :, None, :],
            weight[:, :, None],
            weight[:, None, :],
            weight[:, None, None, :],
            third[None],
        )  # (d, i, j)
        s_j = salience_sum[:, None, :]
        eu_challenge = (1 - s_j) * (u_ii + u_ii) + s_j * (
            p_win * (u_ii + u_ii) + (1 - p_win) * (u_ij + u_ij)
        )
        gain = eu_challenge - (u_ii + u_ij)
        return p_win, gain

    def _receiver_estimate(
        self, u: FloatArray, weight: FloatArray, target: NDArray[np.intp]
    ) -> FloatArray:
        """probEduChlg(j, i, i, j)[0]: j's estimate that i defeats j, j being i's target."""
        d, n = target.shape
        rows = np.arange(d)[:, None]
        actors = np.arange(n)
        uh = u[rows, target]  # [d, i, a, b] = u[d, target_i, a, b]
        t = target
        u_ii = uh[rows, actors, actors, actors]
        u_ij = uh[rows, actors, actors, t]
        u_ji = uh[rows, actors, t, actors]
        u_jj = uh[rows, actors, t, t]
        u_ni = uh[rows, actors, :, actors]  # [d, i, n]
        u_nj = np.take_along_axis(uh, np.broadcast_to(t[:, :, None, None], (d, n, n, 1)), axis=3)[
            ..., 0
        ]
        u_nn = np.diagonal(uh, axis1=2, axis2=3)
        third = (actors[None, None, :] != actors[None, :, None]) & (
            actors[None, None, :] != t[:, :, None]
        )
        w_t = weight[rows, t]
        return kern.challenge_victory(
            self.voting,
            self.commit,
            u_ii,
            u_ij,
            u_ji,
            u_jj,
            u_ni,
            u_nj,
            u_nn,
            weight,
            w_t,
            weight[:, None, :],
            third,
        )
