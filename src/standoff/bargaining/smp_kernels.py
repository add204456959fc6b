"""Array kernels of the spatial model of politics (KTAB's SMP), vectorized over a leading batch.

Every function here takes numpy arrays whose leading axes are a batch (draws, and where relevant
actors or bargains) and reproduces one KTAB function exactly, including its small constants, so
that a run follows KTAB's trajectory turn by turn. Positions are on KTAB's [0, 1] scale. The KTAB
function each kernel reproduces is named in its docstring (KTAB: github.com/KAPSARC/KTAB, MIT).
The paper's symbols are used inside the kernels; see docs/model-smp.md for the equations.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

VOTING_RULES = ("binary", "prop_bin", "proportional", "prop_cubic", "cubic", "asym_prospect")
VICTORY_MODELS = ("linear", "square", "quartic", "octic", "binary")
PCE_MODELS = ("conditional", "markov_incentive", "markov_uniform")
RISK_RANGES = ("min", "mid", "max")
RISK_ADJUSTMENTS = ("none", "one_third", "half", "two_thirds", "full")
COMMITMENTS = ("none", "semi", "full")
INTERPOLATIONS = ("s1p1", "s2p2", "s2pmax")
BARGAIN_MODELS = ("init_only", "init_receiver", "power_weighted")

# Constants of KTAB, named as there.
VOTE_BINARY_TOLERANCE = 1e-8  # Model::vote sTol
MIN_COALITION = 1e-8  # Model::coalitions minC
MIN_CHALLENGE_COALITION = 1e-10  # SMPState::probEduChlg minCltn
MIN_SIGNIFICANT_GAIN = 1e-5  # SMPState::bestChallenge minSigEDU
MIN_INTERPOLATION_WEIGHT = 1e-6  # SMPActor::interpBrgnSnPm minW
BINARY_VICTORY_THRESHOLD = 1.10  # Model::vProb, VPModel::Binary
MARKOV_UNIFORM_TOLERANCE = 1e-6  # Model::markovUniformPCE pTol
MARKOV_INCENTIVE_TOLERANCE = 1e-8  # Model::markovIncentivePCE pTol
MARKOV_EPS_SUPPORT = 1e-10  # Model::markovIncentivePCE epsSupport
MARKOV_MAX_ITERATIONS = 1000


def vote(rule: str, weight: FloatArray | float, du: FloatArray) -> FloatArray:
    """Model::vote: an actor's vote, with weight w, between options whose utilities differ by du."""
    if rule == "proportional":
        return weight * du
    if rule == "binary":
        return weight * np.clip(du / VOTE_BINARY_TOLERANCE, -1.0, 1.0)
    if rule == "prop_bin":
        r_bin = np.clip(du / VOTE_BINARY_TOLERANCE, -1.0, 1.0)
        return weight * ((1 - 0.2) * du + 0.2 * r_bin)
    if rule == "prop_cubic":
        return weight * ((1 - 0.5) * du + 0.5 * (du * du * du))
    if rule == "cubic":
        return weight * (du * du * du)
    if rule == "asym_prospect":
        return np.where(du < 0.0, weight * du, np.where(du > 0.0, (2.0 * weight * du) / 3.0, 0.0))
    raise ValueError(f"unknown voting rule {rule!r}")


def coalitions(votes: FloatArray) -> FloatArray:
    """Model::coalitions: c[a, b] = minC + the sum of votes for a over b.

    votes: (..., A, B, voters), the vote of each voter for option a over option b.
    """
    c = MIN_COALITION + np.maximum(votes, 0.0).sum(axis=-1)
    n = c.shape[-1]
    diagonal = np.arange(n)
    c[..., diagonal, diagonal] = MIN_COALITION
    return c


def victory_pair(model: str, s1: FloatArray, s2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Model::vProb(vpm, s1, s2): the probabilities that coalition 1, resp. 2, prevails."""
    if model == "linear":
        x1, x2 = s1, s2
    elif model == "square":
        x1, x2 = s1 * s1, s2 * s2
    elif model == "quartic":
        x1, x2 = (s1 * s1) * (s1 * s1), (s2 * s2) * (s2 * s2)
    elif model == "octic":
        q1, q2 = (s1 * s1) * (s1 * s1), (s2 * s2) * (s2 * s2)
        x1, x2 = q1 * q1, q2 * q2
    elif model == "binary":
        t = BINARY_VICTORY_THRESHOLD
        r12 = s1 / (s1 + s2)
        p12 = (r12 * (t + 1.0) - 1.0) / (t - 1.0)
        one_wins = s1 >= t * s2
        two_wins = ~one_wins & (s2 >= t * s1)
        x1 = np.where(one_wins, 1.0, np.where(two_wins, 1e-6, p12))
        x2 = np.where(one_wins, 1e-6, np.where(two_wins, 1.0, 1 - p12))
    else:
        raise ValueError(f"unknown victory probability model {model!r}")
    return x1 / (x1 + x2), x2 / (x1 + x2)


def victory_matrix(model: str, c: FloatArray) -> FloatArray:
    """Model::vProb(vpm, C): p[a, b] = P(a defeats b), computed on the lower triangle as KTAB does
    and mirrored, with 1/2 on the diagonal."""
    p_lower, p_upper = victory_pair(model, c, np.swapaxes(c, -1, -2))
    n = c.shape[-1]
    below = np.tri(n, k=-1, dtype=bool)
    p = np.where(below, p_lower, np.swapaxes(p_upper, -1, -2))
    diagonal = np.arange(n)
    p[..., diagonal, diagonal] = 0.5
    return p


def condorcet(model: str, pce: str, c: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    """Model::probCE2: the probability that each option wins a probabilistic Condorcet election.

    c: (..., S, S) coalition strengths; mask: (..., S) which options take part (all by default).
    Options outside the mask get probability 0 and do not affect the others.
    """
    pv = victory_matrix(model, c)
    if mask is None:
        mask = np.ones(c.shape[:-1], dtype=bool)
    if pce == "conditional":
        return _conditional_pce(pv, mask)
    if pce == "markov_uniform":
        return _markov_uniform_pce(pv, mask)
    if pce == "markov_incentive":
        return _markov_incentive_pce(pv, c, mask)
    raise ValueError(f"unknown PCE model {pce!r}")


def _conditional_pce(pv: FloatArray, mask: BoolArray) -> FloatArray:
    """Model::condPCE: p_a proportional to prod_b P(a > b)."""
    p = np.where(mask[..., None, :], pv, 1.0).prod(axis=-1)
    p = np.where(mask, p, 0.0)
    return p / p.sum(axis=-1, keepdims=True)


def _markov_uniform_pce(pv: FloatArray, mask: BoolArray) -> FloatArray:
    """Model::markovUniformPCE: challenges uniformly at random, iterated to a stationary state."""
    n = mask.sum(axis=-1, keepdims=True).astype(float)
    p = np.where(mask, 1.0 / n, 0.0)
    pv = np.where(mask[..., None, :] & mask[..., :, None], pv, 0.0)
    active = np.ones(p.shape[:-1], dtype=bool)
    for _ in range(MARKOV_MAX_ITERATIONS):
        q = (pv * (p[..., :, None] + p[..., None, :])).sum(axis=-1) / n
        change = np.abs(q - p).max(axis=-1)
        p = np.where(active[..., None], (p + q) / 2.0, p)
        active &= change > MARKOV_UNIFORM_TOLERANCE
        if not active.any():
            return p
    raise RuntimeError("Markov-uniform PCE did not converge in 1000 iterations")


def _markov_incentive_pce(pv: FloatArray, c: FloatArray, mask: BoolArray) -> FloatArray:
    """Model::markovIncentivePCE: challenges in proportion to the incentive c[a, b] P(a > b)."""
    both = mask[..., None, :] & mask[..., :, None]
    n_opt = mask.shape[-1]
    incentive = c * pv + MARKOV_EPS_SUPPORT * np.eye(n_opt)
    incentive = np.where(both, incentive, 0.0)
    challenge = incentive / np.where(both, incentive.sum(axis=-2, keepdims=True), 1.0)
    pv = np.where(both, pv, 0.0)
    n = mask.sum(axis=-1, keepdims=True).astype(float)
    p = np.where(mask, 1.0 / n, 0.0)
    active = np.ones(p.shape[:-1], dtype=bool)
    for _ in range(MARKOV_MAX_ITERATIONS):
        ct = p[..., :, None] * np.swapaxes(challenge, -1, -2)  # ct[i, j] = p_i P[j -> i]
        q = (pv * (ct + np.swapaxes(ct, -1, -2))).sum(axis=-1)
        change = np.abs(q - p).max(axis=-1)
        p = np.where(active[..., None], (p + q) / 2.0, p)
        active &= change > MARKOV_INCENTIVE_TOLERANCE
        if not active.any():
            return p
    raise RuntimeError("Markov-incentive PCE did not converge in 1000 iterations")


def risk_from_probability(p: FloatArray, risk_range: str) -> FloatArray:
    """Model::bigRfromProb: risk attitudes inferred from the win probabilities p (..., N).

    Where every probability is equal (e.g. every actor at one position) KTAB divides by zero;
    there every actor is taken to be risk neutral.
    """
    p_min = p.min(axis=-1, keepdims=True)
    p_max = p.max(axis=-1, keepdims=True)
    spread = p_max - p_min
    safe = np.where(spread > 0, spread, 1.0)
    if risk_range == "min":
        r = (p - p_min) / safe
    elif risk_range == "mid":
        r = (3 * p - (p_max + 2 * p_min)) / (2 * safe)
    elif risk_range == "max":
        r = (2 * p - (p_max + p_min)) / safe
    else:
        raise ValueError(f"unknown risk range {risk_range!r}")
    return np.where(spread > 0, r, 0.0)


def perceived_risk(r: FloatArray, adjustment: str) -> FloatArray:
    """Model::estNRA: r_hi[..., h, i], h's estimate of i's risk attitude."""
    rh, ri = r[..., :, None], r[..., None, :]
    if adjustment == "full":
        return np.broadcast_to(ri, (*r.shape, r.shape[-1])).copy()
    if adjustment == "two_thirds":
        return (rh + (2.0 * ri)) / 3.0
    if adjustment == "half":
        return (rh + ri) / 2
    if adjustment == "one_third":
        return ((2.0 * rh) + ri) / 3.0
    if adjustment == "none":
        return np.broadcast_to(rh, (*r.shape, r.shape[-1])).copy()
    raise ValueError(f"unknown risk adjustment {adjustment!r}")


def weighted_distance(ideal: FloatArray, salience: FloatArray, position: FloatArray) -> FloatArray:
    """SMPModel::bvDiff: salience-weighted RMS distance from each actor's ideal to positions.

    ideal, salience: (..., N, K); position: (..., M, K). Returns (..., N, M). An actor whose
    saliences are all zero (KTAB refuses these) is at distance 0 from everything.
    """
    diff = salience[..., :, None, :] * (ideal[..., :, None, :] - position[..., None, :, :])
    ds_sq = (diff * diff).sum(axis=-1)
    ss_sq = (salience * salience).sum(axis=-1)[..., :, None]
    return np.sqrt(ds_sq / np.where(ss_sq > 0, ss_sq, 1.0)) * (ss_sq > 0)


def utility(distance: FloatArray, risk: FloatArray | float) -> FloatArray:
    """SMPModel::bsUtil: u = (1 - d)(1 + d R) for d <= 1, else (1 - d)(1 + R)."""
    return np.where(
        distance <= 1, (1 - distance) * (1 + distance * risk), (1 - distance) * (1 + risk)
    )


def challenge_victory(
    rule: str,
    commit: str,
    u_ii: FloatArray,
    u_ij: FloatArray,
    u_ji: FloatArray,
    u_jj: FloatArray,
    u_ni: FloatArray,
    u_nj: FloatArray,
    u_nn: FloatArray,
    w_i: FloatArray,
    w_j: FloatArray,
    w_n: FloatArray,
    third: BoolArray,
) -> FloatArray:
    """SMPState::probEduChlg, first half: h's estimate of P(i defeats j) when i challenges j.

    u_xy is h's estimate of x's utility for y's position; the u_n* arrays and w_n, third carry the
    third parties on a last axis. i and j vote with weight salience sum x capability; each third
    party n sizes up the 'little contest' of i, j and itself (Actor::vProbLittle) and votes on
    the utilities of joining either side (Actor::thirdPartyVoteSU).
    """
    contrib_i = vote(rule, w_i, u_ii - u_ij)
    contrib_j = vote(rule, w_j, u_ji - u_jj)
    c_ij = MIN_CHALLENGE_COALITION + np.maximum(contrib_i, 0.0) + np.maximum(contrib_j, 0.0)
    c_ji = MIN_CHALLENGE_COALITION + np.maximum(-contrib_i, 0.0) + np.maximum(-contrib_j, 0.0)
    c_ij_n, c_ji_n = c_ij[..., None], c_ji[..., None]
    contrib_n = vote(rule, w_n, u_ni - u_nj)
    c_ni = c_ij_n + np.maximum(contrib_n, 0.0)
    c_nj = c_ji_n + np.maximum(-contrib_n, 0.0)
    p_in = c_ni / (c_ni + c_nj)
    p_jn = 1.0 - p_in
    # Actor::thirdPartyVoteSU: sums of three position-utilities of the four outcomes
    if commit == "full":
        u_ik_def_j, u_j_def_ik = 3 * u_ni, 3 * u_nj
        u_i_def_jk, u_jk_def_i = 3 * u_ni, 3 * u_nj
    elif commit == "semi":
        u_ik_def_j, u_j_def_ik = u_ni + u_ni + u_nn, u_nj + u_nj + u_nj
        u_i_def_jk, u_jk_def_i = u_ni + u_ni + u_ni, u_nj + u_nj + u_nn
    elif commit == "none":
        u_ik_def_j, u_j_def_ik = u_ni + u_ni + u_nn, u_nj + u_nj + u_nn
        u_i_def_jk, u_jk_def_i = u_ni + u_ni + u_nn, u_nj + u_nj + u_nn
    else:
        raise ValueError(f"unknown third-party commitment {commit!r}")
    u_ik_j = (p_in * u_ik_def_j) + (p_jn * u_j_def_ik)
    u_i_jk = (p_in * u_i_def_jk) + (p_jn * u_jk_def_i)
    v_n = np.where(third, vote(rule, w_n, u_ik_j - u_i_jk), 0.0)
    ch_ij = c_ij + np.maximum(v_n, 0.0).sum(axis=-1)
    ch_ji = c_ji + np.maximum(-v_n, 0.0).sum(axis=-1)
    return ch_ij / (ch_ij + ch_ji)


def round4(x: FloatArray) -> FloatArray:
    """The round4 of SMPActor::interpBrgnSnPm: (int)(0.5 + 10^4 x) / 10^4, for x >= 0."""
    return np.trunc(0.5 + (x * 10000.0)) / 10000.0


def interpolate_bargain(
    method: str,
    t_i: FloatArray,
    s_i: FloatArray,
    p_i: FloatArray,
    t_j: FloatArray,
    s_j: FloatArray,
    p_j: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """SMPActor::interpolateBrgn: the positions i and j adopt in the bargain, per dimension.

    t, s: (..., K) positions and saliences; p_i, p_j: (...,) probabilities of prevailing.
    """
    p_i, p_j = p_i[..., None], p_j[..., None]
    if method in ("s1p1", "s2p2"):
        # SMPActor::interpBrgnSnPm with n = m = 1 or 2
        power = 1 if method == "s1p1" else 2
        w_i = np.power(s_i, power) * np.power(p_i, power)
        w_j = np.power(s_j, power) * np.power(p_j, power)
        m = MIN_INTERPOLATION_WEIGHT
        b_i = round4(((w_i + m) * t_i + w_j * t_j) / (w_i + m + w_j))
        b_j = round4((w_i * t_i + (m + w_j) * t_j) / (w_i + m + w_j))
        return b_i, b_j
    if method == "s2pmax":
        # SMPActor::interpBrgnS2PMax
        d_i = np.where(p_j > p_i, p_j - p_i, 0.0)
        d_j = np.where(p_i > p_j, p_i - p_j, 0.0)
        s_i2, s_j2 = s_i * s_i, s_j * s_j
        m = MIN_INTERPOLATION_WEIGHT
        dik = (d_i * s_j2) / ((d_i * s_j2) + m + ((1 - d_i) * s_i2))
        djk = (d_j * s_i2) / ((d_j * s_i2) + m + ((1 - d_j) * s_j2))
        return t_i + dik * (t_j - t_i), t_j + djk * (t_i - t_j)
    raise ValueError(f"unknown bargain interpolation {method!r}")
