"""Compiled kernel of one EUM round (numba), looping over draws inside compiled code.

The same equations as `equations.py` (the numpy implementation, kept as the reference that
`tests/test_eum.py` compares this kernel against): the votes and probabilities (eq. v, P), the
risk exponents from security, the expected utilities (eq. U, EU), the octant of each pair, the
truth that decides perceived conflicts, and the offer each actor takes. Per draw everything is a
few (N, N) scratch arrays, so the vote tensor never exists: win(i, j) = sum_k max(0, w_k (d_kj -
d_ki)) is accumulated in registers. Results equal the numpy path's up to float rounding (sums run
in another order).

`round_kernel` takes three named tuples: `KernelInputs` (arrays), `KernelOptions` (scalars),
both in `kernel_args.py`, and the output arrays (`equations.Step`), which it fills in place.

The helpers are inlined into `round_kernel` (numba's `inline="always"`) and read rows of their
(N, N) arrays in place rather than as row views: the compiled code counts a reference for every
array passed to a call and every view taken, twice per draw and actor otherwise, which cost
about a tenth of the kernel's time. (Python passes a call of more than 30 arguments as *args,
which numba does not inline: `_views` takes the readings as the `KernelOptions` tuple.)

The kernels release the GIL (`nogil`), so the engine runs blocks of draws on threads, and are
cached on disk (`cache`): the first run compiles them once (tens of seconds with the helpers
inlined; `make` does it), later runs load them.
`native_build.py` compiles the same code ahead of time into an extension module that loads
without numba (`native.py`); the engine uses it where it is built.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .constants import Interaction

# interaction codes as plain ints, for the compiled code (frozen into it: they never change)
_CONFLICT_WIN = int(Interaction.CONFLICT_WIN)
_CONFLICT_LOSS = int(Interaction.CONFLICT_LOSS)
_COMPROMISE_UPPER = int(Interaction.COMPROMISE_UPPER)
_COMPROMISE_LOWER = int(Interaction.COMPROMISE_LOWER)
_COMPEL = int(Interaction.COMPEL)
_CAPITULATE = int(Interaction.CAPITULATE)
_STALEMATE = int(Interaction.STALEMATE)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _distances(xs, row, rv, powered, scale, dd, pairs, xt, true_dd, reuse, need_pairs):  # type: ignore[no-untyped-def]
    """dd[k, a] = (|x_k - x_a| / R)^r_k (eq. v; r = 1 unless powered) in one world (xs[row]: the
    positions its viewer sees), and, with `need_pairs`, pairs[k] = sum_{a, b} |d_ka - d_kb| for
    the all-triples denominator (O(N^3), unused by the pairwise P). One log serves both d_ka and
    d_ak. With `reuse`, a pair whose two positions are seen truly (as xt[0], the true positions)
    takes its value from true_dd (the same numbers, computed once). Rows are read in place (no
    row views: each view of an array costs the compiled code a reference count)."""
    n = xs.shape[1]
    for k in range(n):
        dd[k, k] = 0.0
        for a in range(k + 1, n):
            if reuse and xs[row, k] == xt[0, k] and xs[row, a] == xt[0, a]:
                dd[k, a] = true_dd[k, a]
                dd[a, k] = true_dd[a, k]
                continue
            base = abs(xs[row, k] - xs[row, a]) / scale
            if not powered:
                dd[k, a] = base
                dd[a, k] = base
            elif base > 0.0:
                log_base = math.log(base)
                dd[k, a] = math.exp(rv[k] * log_base)
                dd[a, k] = math.exp(rv[a] * log_base)
            else:
                dd[k, a] = 0.0
                dd[a, k] = 0.0
    if not need_pairs:
        return
    for k in range(n):
        total = 0.0
        for a in range(n):
            for b in range(a + 1, n):
                total += abs(dd[k, a] - dd[k, b])
        pairs[k] = 2.0 * total


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _probabilities(dd, ws, w_row, pairs, pairwise, wd, p_win, p_lose, row):  # type: ignore[no-untyped-def]
    """P(i:j) and P(j:i) in one world (dd from `_distances`, ws[w_row]: (N,) weights as its
    viewer sees them). row >= 0: only that row i (a perceived world is its viewer's alone); else
    every pair.

    eq. P: P(i:j) = sum_k max(0, w_k (d_kj - d_ki)) / denominator: "pairwise" sum_k |w_k (d_kj -
    d_ki)|; "all-triples" sum_k w_k sum_{a, b} |d_ka - d_kb|.
    """
    n = ws.shape[1]
    for k in range(n):
        for a in range(n):
            wd[k, a] = ws[w_row, k] * dd[k, a]
    den = 0.0
    if not pairwise:
        for k in range(n):
            den += ws[w_row, k] * pairs[k]
    first, last = (row, row + 1) if row >= 0 else (0, n)
    for i in range(first, last):
        for j in range(i + 1 if row < 0 else 0, n):
            win = 0.0
            lose = 0.0
            for k in range(n):
                vote = wd[k, j] - wd[k, i]  # k's vote for i over j
                if vote > 0.0:
                    win += vote
                else:
                    lose -= vote
            bottom = win + lose if pairwise else den
            if bottom > 0.0:
                p_win[i, j] = win / bottom
                p_lose[i, j] = lose / bottom
            else:
                p_win[i, j] = 0.0
                p_lose[i, j] = 0.0
            if row < 0:
                p_win[j, i] = p_lose[i, j]
                p_lose[j, i] = p_win[i, j]
    if row < 0:
        for i in range(n):
            p_win[i, i] = 0.0
            p_lose[i, i] = 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _true_utilities(x, r, scale, u_success, u_failure):  # type: ignore[no-untyped-def]
    """eq. U at the true distances with i's exponent: U_s = 2 - 4 (0.5 - 0.5 |x_i - x_j| / R)^r_i,
    U_f = 2 - 4 (0.5 + 0.5 |..| / R)^r_i, into (N, N) arrays. One log serves (i, j) and (j, i)."""
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            dist = abs(x[i] - x[j]) / scale
            closer = 0.5 - 0.5 * dist
            log_farther = math.log(0.5 + 0.5 * dist)
            if closer > 0.0:
                log_closer = math.log(closer)
                u_success[i, j] = 2.0 - 4.0 * math.exp(r[i] * log_closer)
                u_success[j, i] = 2.0 - 4.0 * math.exp(r[j] * log_closer)
            else:
                u_success[i, j] = 2.0
                u_success[j, i] = 2.0
            u_failure[i, j] = 2.0 - 4.0 * math.exp(r[i] * log_farther)
            u_failure[j, i] = 2.0 - 4.0 * math.exp(r[j] * log_farther)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _eu_row(  # type: ignore[no-untyped-def]
    i, xv, sv, r_i, neutral, Q, T, scale, same_position, mu_i, true_u, xt, u_true_success,
    u_true_failure, p_win, p_lose, eu_self, eu_other,
):  # fmt: skip
    """Row i of (E^i(U_ij), E^i(U_ji)) into eu_self, eu_other from the probabilities (eq. EU).
    Row i of xv, sv is the world as i sees it; i uses its own exponent r_i for both. Where i sees
    the pair truly (true_u: the whole row; else both positions equal the truth's, xt[0]) the
    utilities at the true distances are reused."""
    n = xv.shape[0]
    own = xv[i, i]
    s_i = sv[i, i]
    u_status_quo = 0.0 if neutral else 2.0 - 4.0 * 0.5**r_i
    for j in range(n):
        dist = abs(own - xv[i, j]) / scale
        if dist <= same_position:  # nothing to contest at one's own position
            eu_self[i, j] = 0.0
            eu_other[i, j] = 0.0
            continue
        if neutral:
            u_success = 2.0 * dist
            u_failure = -2.0 * dist
        elif true_u or (own == xt[0, i] and xv[i, j] == xt[0, j]):
            u_success = u_true_success[i, j]
            u_failure = u_true_failure[i, j]
        else:
            closer = 0.5 - 0.5 * dist
            u_success = 2.0 - 4.0 * (math.exp(r_i * math.log(closer)) if closer > 0.0 else 0.0)
            u_failure = 2.0 - 4.0 * math.exp(r_i * math.log(0.5 + 0.5 * dist))
        s_j = sv[i, j]
        pw = p_win[i, j]
        pl = p_lose[i, j]
        mine = s_j * (pw * u_success + (1 - pw) * u_failure) + (1 - s_j) * u_success
        theirs = s_i * (pl * u_success + (1 - pl) * u_failure) + (1 - s_i) * u_success
        mine = mine - Q * u_status_quo
        theirs = theirs - Q * u_status_quo
        if Q < 1.0:
            for out in range(2):
                gap = abs(own - mu_i) if out == 0 else abs(xv[i, j] - mu_i)
                spread = 0.25 * (gap / scale + dist)
                u_better = 2.0 - 4.0 * max(0.5 - spread, 0.0) ** r_i
                u_worse = 2.0 - 4.0 * (0.5 + spread) ** r_i
                term = (1.0 - Q) * (T * u_better + (1.0 - T) * u_worse)
                if out == 0:
                    mine = mine - term
                else:
                    theirs = theirs - term
        eu_self[i, j] = mine
        eu_other[i, j] = theirs


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _views(  # type: ignore[no-untyped-def]
    xt, st, wt, xv, wv, sv, full_true, pos_true, true_dd, true_pairs, powered, r, neutral,
    options, mu_view, mu_true, u_success, u_failure, dd, pairs, wd, p_win, p_lose, eu_self,
    eu_other, true_self, true_other, whole_truth, copied,
):  # fmt: skip
    """Every actor's expected utilities, each in its own world, into eu_self and eu_other.

    The true world is computed once, for every pair (row i: i's calculation with the truth):
    into true_self, true_other, for the rows that see the truth (full_true) or for all rows with
    whole_truth. Those rows are copied (unless `copied`: true_self is eu_self); the others are
    computed from their own world, with the true distances where their positions are true.
    xt, st: (N, N), every row the true positions, saliences; wt: (1, N) the true weights."""
    Q, T, scale, pairwise = options.Q, options.T, options.scale, options.pairwise
    same_position = options.same_position
    n = xt.shape[0]
    needed = whole_truth
    for i in range(n):
        needed = needed or full_true[i]
    if needed:
        _probabilities(true_dd, wt, 0, true_pairs, pairwise, wd, p_win, p_lose, -1)
        for i in range(n):
            if whole_truth or full_true[i]:
                _eu_row(i, xt, st, r[i], neutral, Q, T, scale, same_position, mu_true[i], True,
                        xt, u_success, u_failure, p_win, p_lose, true_self,
                        true_other)  # fmt: skip
            if full_true[i] and not copied:
                for j in range(n):
                    eu_self[i, j] = true_self[i, j]
                    eu_other[i, j] = true_other[i, j]
    for i in range(n):
        if full_true[i]:
            continue
        if pos_true[i]:
            _probabilities(true_dd, wv, i, true_pairs, pairwise, wd, p_win, p_lose, i)
        else:
            _distances(xv, i, r, powered, scale, dd, pairs, xt, true_dd, True, not pairwise)
            _probabilities(dd, wv, i, pairs, pairwise, wd, p_win, p_lose, i)
        _eu_row(i, xv, sv, r[i], neutral, Q, T, scale, same_position, mu_view[i], pos_true[i],
                xt, u_success, u_failure, p_win, p_lose, eu_self, eu_other)  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def _classify(a, b):  # type: ignore[no-untyped-def]
    if a > 0.0 and b > 0.0:
        if a > b:
            return _CONFLICT_WIN
        if b > a:
            return _CONFLICT_LOSS
        return 0
    if a > 0.0 and b < 0.0:
        return _COMPROMISE_UPPER if a > -b else _COMPEL
    if b > 0.0 and a < 0.0:
        return _COMPROMISE_LOWER if b > -a else _CAPITULATE
    if a < 0.0 and b < 0.0:
        return _STALEMATE
    return 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _argmin_by(mask, key, tie_break):  # type: ignore[no-untyped-def]
    """The index with the smallest key among mask, ties (to 1e-12 relative) to the smallest
    tie_break, then the lowest index; -1 where the mask is empty
    (equations.lexicographic_argmin)."""
    n = mask.shape[0]
    best = np.inf
    found = False
    for j in range(n):
        if mask[j]:
            found = True
            if key[j] < best:
                best = key[j]
    if not found:
        return -1
    limit = best + 1e-12 * abs(best)
    index = -1
    low = np.inf
    for j in range(n):
        if mask[j] and key[j] <= limit and (index < 0 or tie_break[j] < low):
            index = j
            low = tie_break[j]
    return index


@njit(cache=True, nogil=True, error_model="numpy")
def round_kernel(inputs, options, out):  # type: ignore[no-untyped-def]
    """One round on one issue for every draw of inputs.x (D, N), writing into `out` (a
    `equations.Step` of arrays: new_position, eu_self, eu_other, code, offers, taken,
    risk_exponent, p_win) in place. inputs: a `KernelInputs`; options: a `KernelOptions`.
    """
    x, offset = inputs.x, inputs.offset
    seen_weight, seen_salience = inputs.seen_weight, inputs.seen_salience
    weight, salience = inputs.weight, inputs.salience
    mu_view, mu_true, r_given = inputs.mu_view, inputs.mu_true, inputs.r_given
    low, high, scale = options.low, options.high, options.scale
    same_tolerance = options.same_position  # not `same_position`: a flag of that name below
    recompute_risk, neutral = options.recompute_risk, options.neutral
    vote_risk, pairwise, nearest = options.vote_risk, options.pairwise, options.nearest
    perceived, has_offset = options.perceived, options.has_offset
    new_x, eu_self, eu_other = out.new_position, out.eu_self, out.eu_other
    code, offers, taken, r_out = out.code, out.offers, out.taken, out.risk_exponent
    p_out = out.p_win
    n_draws, n = x.shape
    xv = np.empty((n, n))
    wv = np.empty((n, n))
    sv = np.empty((n, n))
    xt = np.empty((n, n))
    st = np.empty((n, n))
    wt = np.empty((1, n))  # the true weights, as a row (`_probabilities` reads rows)
    base = np.empty((n, n))
    base_pairs = np.empty(n)
    powered_dd = np.empty((n, n))
    powered_pairs = np.empty(n)
    dd = np.empty((n, n))
    pairs = np.empty(n)
    wd = np.empty((n, n))
    u_success = np.empty((n, n))
    u_failure = np.empty((n, n))
    p_win = np.empty((n, n))
    p_lose = np.empty((n, n))
    truth_self = np.empty((n, n))
    truth_other = np.empty((n, n))
    ones = np.ones(n)
    pos_true = np.ones(n, dtype=np.bool_)
    full_true = np.ones(n, dtype=np.bool_)
    security = np.empty(n)
    r = np.empty(n)
    lose = np.empty(n, dtype=np.bool_)
    compromise = np.empty(n, dtype=np.bool_)
    capitulate = np.empty(n, dtype=np.bool_)
    any_offer = np.empty(n, dtype=np.bool_)
    move = np.empty(n)
    midpoint = np.empty(n)
    target = np.empty(n)
    shared = not perceived
    for d in range(n_draws):
        xd = x[d]
        w_true = weight[d]
        mu = mu_view[d]
        eu_s = eu_self[d]
        eu_o = eu_other[d]
        # the truth, and each actor's view of it; a row that sees everything truly (the
        # whole row when the world is shared) takes the true world's results
        for i in range(n):
            for j in range(n):
                xt[i, j] = xd[j]
                st[i, j] = salience[d, j]
        for j in range(n):
            wt[0, j] = w_true[j]
        if shared:
            true_self, true_other = eu_s, eu_o
        else:
            true_self, true_other = truth_self, truth_other
            for i in range(n):
                same_position = True
                same = mu[i] == mu_true[d, i]
                for j in range(n):
                    seen = xd[j]
                    if has_offset:
                        seen = min(max(seen + offset[d, i, j], low), high)
                        same_position = same_position and seen == xd[j]
                    xv[i, j] = seen
                    wv[i, j] = seen_weight[d, i, j]
                    sv[i, j] = seen_salience[d, i, j]
                    same = same and wv[i, j] == w_true[j] and sv[i, j] == st[i, j]
                pos_true[i] = same_position
                full_true[i] = same and same_position
        _distances(xt, 0, ones, False, scale, base, base_pairs, xt, base, False, not pairwise)
        if recompute_risk:
            # security_i = sum_j E^j(U_ji), everyone risk neutral; R_i = (2 sec_i - max - min) /
            # (max - min); r_i = (1 - R_i / 3) / (1 + R_i / 3)
            _views(xt, st, wt, xv, wv, sv, full_true, pos_true, base, base_pairs, False,
                   ones, True, options, mu, mu_true[d], u_success, u_failure, dd, pairs, wd,
                   p_win, p_lose, eu_s, eu_o, true_self, true_other, False, shared)  # fmt: skip
            for a in range(n):
                total = 0.0
                for c in range(n):
                    total += eu_s[c, a]
                security[a] = total
            top = security.max()
            bottom = security.min()
            spread = top - bottom
            for a in range(n):
                big_r = (2 * security[a] - top - bottom) / spread if spread > 0 else 0.0
                r[a] = (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)
        else:
            r[:] = r_given[d]
        r_out[d] = r
        if vote_risk:
            _distances(xt, 0, r, True, scale, powered_dd, powered_pairs, xt, base, False,
                       not pairwise)  # fmt: skip
        else:
            powered_dd[:, :] = base
            powered_pairs[:] = base_pairs
        if not neutral:
            _true_utilities(xd, r, scale, u_success, u_failure)
        # perceived: the true world for every row, which decides the conflicts i perceives
        _views(xt, st, wt, xv, wv, sv, full_true, pos_true, powered_dd, powered_pairs,
               vote_risk, r, neutral, options, mu, mu_true[d], u_success, u_failure, dd, pairs,
               wd, p_win, p_lose, eu_s, eu_o, true_self, true_other, perceived,
               shared)  # fmt: skip
        # row i of p_win now holds P^i(i:j) in i's own world (the true world's rows for the
        # actors that see the truth); none at one's own position, as in the EUs
        for i in range(n):
            for j in range(n):
                own, seen = (xd[i], xd[j]) if shared else (xv[i, i], xv[i, j])
                if abs(own - seen) / scale <= same_tolerance:
                    p_out[d, i, j] = 0.0
                else:
                    p_out[d, i, j] = p_win[i, j]
        for i in range(n):
            for j in range(n):
                code[d, i, j] = _classify(eu_s[i, j], eu_o[i, j])
        for i in range(n):
            xi = x[d, i]
            for j in range(n):
                c = code[d, i, j]
                if perceived:
                    conflict = c == _CONFLICT_WIN or c == _CONFLICT_LOSS
                    # a perceived conflict is fought and decided on the truth: i's same
                    # calculation made with the true attributes
                    lose[j] = conflict and truth_other[i, j] > truth_self[i, j]
                else:
                    lose[j] = c == _CONFLICT_LOSS
                compromise[j] = c == _COMPROMISE_LOWER
                capitulate[j] = c == _CAPITULATE
                any_offer[j] = lose[j] or compromise[j] or capitulate[j]
                a = abs(eu_s[i, j])
                b = abs(eu_o[i, j])
                xj = x[d, j]
                # compromise: i moves towards j by the share |E^i(U_ij)| / E^i(U_ji) of the gap
                share = a / (b if b > 0 else 1.0) if compromise[j] else 0.0
                # the key compromises are ranked by: the EU-weighted point between the two
                midpoint[j] = (a * xi + b * xj) / (a + b if a + b > 0 else 1.0)
                target[j] = xi + (xj - xi) * share if compromise[j] else xj
                offers[d, i, j] = target[j] if any_offer[j] else np.nan
                move[j] = abs(target[j] - xi)
            if nearest:
                pick = _argmin_by(any_offer, move, target)
            else:
                # lost conflicts (the nearest), else compromises (lowest EU-weighted point),
                # else capitulations (the nearest)
                pick = _argmin_by(lose, move, target)
                if pick < 0:
                    pick = _argmin_by(compromise, midpoint, target)
                if pick < 0:
                    pick = _argmin_by(capitulate, move, target)
            taken[d, i] = pick
            moved = target[pick] if pick >= 0 else xi
            new_x[d, i] = min(max(moved, low), high)
