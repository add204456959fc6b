"""Monte Carlo draws of every uncertain input of a case, with a leading draw axis.

Reproducibility: draws are generated in fixed blocks of BLOCK draws. Block b uses its own generator
seeded by `SeedSequence(seed).spawn(b + 1)[b]` (built directly as `SeedSequence(seed,
spawn_key=(b,))`, which is the same child), and inputs are drawn within a block in the case's
order. A run of draws [start, stop) takes the slices of the blocks it touches, so the values of a
draw depend only on (case, seed, draw index): the same whatever the chunk size. Inputs are sampled
independently of one another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..bargaining.base import BargainingInputs
from ..case.inputs import InputRef
from ..case.numbers import Dist, Quantity
from ..case.schema import CAPABILITY, RISK, SALIENCE, Case

if TYPE_CHECKING:
    from ..compile.plan import CompiledCrisis

BLOCK = 1024
NEUTRAL_RISK = Dist("fixed", (0.0,))


@dataclass(frozen=True)
class Slot:
    """One input of the case: what it is (`ref`), where it goes in the arrays, its distribution
    and valid range."""

    ref: InputRef
    array: str  # capability | risk | position | salience | perceived_* | param
    index: tuple[int, ...]  # index into that array without the draw axis
    dist: Dist
    quantity: Quantity

    @property
    def key(self) -> str:
        """The stable key, e.g. "capability[trump]", "belief[kim→trump].capability"."""
        return self.ref.key

    @property
    def label(self) -> str:
        """A reader's name, made from the case's names, e.g. "capability of Donald Trump"."""
        return self.ref.label


def slots(case: Case, crisis: CompiledCrisis | None = None) -> list[Slot]:
    """Every input of the case, true attributes first, then perceptions, in file order, then the
    compiled crisis's parameters."""
    issue_index = {issue.id: k for k, issue in enumerate(case.issues)}
    actor_index = {actor.id: n for n, actor in enumerate(case.actors)}
    names = {actor.id: actor.name or actor.id for actor in case.actors}
    issue_names = {issue.id: issue.label or issue.id for issue in case.issues}
    out: list[Slot] = []
    for n, actor in enumerate(case.actors):
        who = names[actor.id]
        out.append(
            Slot(
                InputRef(f"capability[{actor.id}]", f"capability of {who}", "capability", actor.id),
                "capability",
                (n,),
                actor.capability,
                CAPABILITY,
            )
        )
        out.append(
            Slot(
                InputRef(f"risk[{actor.id}]", f"risk attitude of {who}", "risk", actor.id),
                "risk",
                (n,),
                actor.risk or NEUTRAL_RISK,
                RISK,
            )
        )
        for issue in case.issues:
            k = issue_index[issue.id]
            stance = actor.stances[issue.id]
            for attr, value, quantity, what in (
                ("position", stance.position, issue.quantity(), "position on"),
                ("salience", stance.salience, SALIENCE, "salience of"),
            ):
                ref = InputRef(
                    f"{attr}[{actor.id}, {issue.id}]",
                    f"{who}: {what} {issue_names[issue.id]}",
                    attr,
                    actor=actor.id,
                    issue=issue.id,
                )
                out.append(Slot(ref, attr, (n, k), value, quantity))
    for holder, beliefs in case.perceptions.items():
        i = actor_index[holder]
        for about, belief in beliefs.items():
            j = actor_index[about]
            tag = f"belief[{holder}→{about}]"
            seen_by = f"as {names[holder]} sees it"
            if belief.capability is not None:
                ref = InputRef(
                    f"{tag}.capability",
                    f"{names[about]}'s capability {seen_by}",
                    "capability",
                    actor=holder,
                    about=about,
                )
                out.append(Slot(ref, "perceived_capability", (i, j), belief.capability, CAPABILITY))
            for issue_id, belief_stance in belief.stances.items():
                k = issue_index[issue_id]
                issue = case.issues[k]
                stated: tuple[tuple[str, Dist | None, Quantity], ...] = (
                    ("position", belief_stance.position, issue.quantity()),
                    ("salience", belief_stance.salience, SALIENCE),
                )
                for attr, dist, quantity in stated:
                    if dist is None:
                        continue
                    ref = InputRef(
                        f"{tag}.{attr}[{issue_id}]",
                        f"{names[about]}'s {attr} on {issue_names[issue_id]} {seen_by}",
                        attr,
                        actor=holder,
                        about=about,
                        issue=issue_id,
                    )
                    out.append(Slot(ref, f"perceived_{attr}", (i, j, k), dist, quantity))
    if crisis is not None:
        for parameter in crisis.parameters.values():
            out.append(Slot(parameter.ref, "param", (), parameter.dist, parameter.quantity))
    return out


def uncertain_slots(case: Case, crisis: CompiledCrisis | None = None) -> list[Slot]:
    """The inputs that are drawn (not fixed), in the order of `slots`: the order of
    `Draws.uncertain`."""
    return [slot for slot in slots(case, crisis) if not slot.dist.is_fixed]


@dataclass(frozen=True)
class Draws:
    """Sampled inputs for draws [start, stop): engine inputs plus each uncertain input's values."""

    start: int
    inputs: BargainingInputs
    uncertain: dict[str, NDArray[np.float64]]
    params: dict[str, NDArray[np.float64]]


def assemble(
    case: Case,
    values: Callable[[Slot], NDArray[np.float64]],
    n: int,
    crisis: CompiledCrisis | None = None,
) -> Draws:
    """Engine inputs and crisis parameters for n draws, each input's values given by `values`."""
    n_actors, n_issues = len(case.actors), len(case.issues)
    arrays = {
        "capability": np.empty((n, n_actors)),
        "risk": np.zeros((n, n_actors)),
        "position": np.empty((n, n_actors, n_issues)),
        "salience": np.empty((n, n_actors, n_issues)),
    }
    uncertain: dict[str, NDArray[np.float64]] = {}
    params: dict[str, NDArray[np.float64]] = {}
    beliefs: list[tuple[Slot, NDArray[np.float64]]] = []
    for slot in slots(case, crisis):
        v = values(slot)
        if not slot.dist.is_fixed:
            uncertain[slot.key] = v
        if slot.array == "param":
            params[slot.key] = v
        elif slot.array.startswith("perceived_"):
            beliefs.append((slot, v))
        else:
            arrays[slot.array][(slice(None), *slot.index)] = v  # type: ignore[index]
    perceived: dict[str, NDArray[np.float64] | None] = dict.fromkeys(
        ("perceived_capability", "perceived_position", "perceived_salience"), None
    )
    if beliefs:
        perceived["perceived_capability"] = np.repeat(
            arrays["capability"][:, None, :], n_actors, axis=1
        )
        perceived["perceived_position"] = np.repeat(
            arrays["position"][:, None, :, :], n_actors, axis=1
        )
        perceived["perceived_salience"] = np.repeat(
            arrays["salience"][:, None, :, :], n_actors, axis=1
        )
        for slot, v in beliefs:
            target = perceived[slot.array]
            assert target is not None
            target[(slice(None), *slot.index)] = v  # type: ignore[index]
    low = np.array([issue.range[0] for issue in case.issues], dtype=float)
    high = np.array([issue.range[1] for issue in case.issues], dtype=float)
    inputs = BargainingInputs(
        capability=arrays["capability"],
        position=arrays["position"],
        salience=arrays["salience"],
        risk=arrays["risk"],
        low=low,
        high=high,
        actors=case.actor_ids,
        issues=case.issue_ids,
        **perceived,
    )
    return Draws(start=0, inputs=inputs, uncertain=uncertain, params=params)


def central_inputs(case: Case) -> BargainingInputs:
    """One deterministic draw: every input at its central value (see `Dist.central`)."""
    return assemble(case, lambda slot: np.array([slot.dist.central(slot.quantity)]), 1).inputs


def block_seed(seed: int, block: int) -> np.random.SeedSequence:
    """The seed of block `block`: the same child as `SeedSequence(seed).spawn(block + 1)[block]`."""
    return np.random.SeedSequence(seed, spawn_key=(block,))


class Sampler:
    """Draws of a case's inputs from one seed, identical for any chunking of the draw range."""

    def __init__(self, case: Case, seed: int, crisis: CompiledCrisis | None = None):
        self.case = case
        self.crisis = crisis
        self.seed = seed
        self._block = lru_cache(maxsize=2)(self._make_block)

    def _make_block(self, block: int, lo: int = 0, hi: int = BLOCK) -> Draws:
        """Draws [lo, hi) of block `block`. Each input's BLOCK values are drawn as always (the
        random stream does not depend on the slice), but only the slice is kept: memory grows
        with the draws asked for, not with BLOCK."""
        rng = np.random.Generator(np.random.PCG64(block_seed(self.seed, block)))
        return assemble(
            self.case,
            lambda slot: _keep(slot.dist.sample(rng, BLOCK, slot.quantity), lo, hi),
            hi - lo,
            self.crisis,
        )

    def draws(self, start: int, stop: int) -> Draws:
        """Inputs for draws [start, stop)."""
        if not 0 <= start < stop:
            raise ValueError("need 0 <= start < stop")
        pieces: list[Draws] = []
        for block, lo, hi in block_slices(start, stop):
            pieces.append(self._block(block, lo, hi))
        if len(pieces) == 1:
            only = pieces[0]
            return Draws(
                start=start, inputs=only.inputs, uncertain=only.uncertain, params=only.params
            )
        return Draws(
            start=start,
            inputs=concat_inputs([p.inputs for p in pieces]),
            uncertain={
                k: np.concatenate([p.uncertain[k] for p in pieces]) for k in pieces[0].uncertain
            },
            params={k: np.concatenate([p.params[k] for p in pieces]) for k in pieces[0].params},
        )


def _keep(values: NDArray[np.float64], lo: int, hi: int) -> NDArray[np.float64]:
    """values[lo:hi] as its own array (a view would keep the whole block alive)."""
    return values if (lo, hi) == (0, len(values)) else values[lo:hi].copy()


def block_slices(start: int, stop: int) -> list[tuple[int, int, int]]:
    """(block, lo, hi) for each block of BLOCK draws that [start, stop) touches, with the part of
    the block it covers as [lo, hi) within the block."""
    return [
        (
            block,
            max(start, block * BLOCK) - block * BLOCK,
            min(stop, (block + 1) * BLOCK) - block * BLOCK,
        )
        for block in range(start // BLOCK, (stop - 1) // BLOCK + 1)
    ]


def uniform_block_seed(seed: int, block: int) -> np.random.SeedSequence:
    """The seed of the event uniforms of draw block `block`: child 1 of the block's own seed."""
    return np.random.SeedSequence(seed, spawn_key=(block, 1))


def event_uniforms(seed: int, start: int, stop: int, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Uniform(0, 1) numbers of the given per-draw shape for draws [start, stop), the same for any
    chunking: block b of BLOCK draws has its own generator (`uniform_block_seed`)."""
    pieces = []
    for block, lo, hi in block_slices(start, stop):
        rng = np.random.Generator(np.random.PCG64(uniform_block_seed(seed, block)))
        pieces.append(rng.random((BLOCK, *shape))[lo:hi])
    return np.concatenate(pieces)


def concat_inputs(parts: list[BargainingInputs]) -> BargainingInputs:
    first = parts[0]

    def cat(name: str) -> NDArray[np.float64] | None:
        arrays = [getattr(p, name) for p in parts]
        return None if arrays[0] is None else np.concatenate(arrays)

    return BargainingInputs(
        capability=np.concatenate([p.capability for p in parts]),
        position=np.concatenate([p.position for p in parts]),
        salience=np.concatenate([p.salience for p in parts]),
        low=first.low,
        high=first.high,
        risk=cat("risk"),
        perceived_capability=cat("perceived_capability"),
        perceived_position=cat("perceived_position"),
        perceived_salience=cat("perceived_salience"),
        actors=first.actors,
        issues=first.issues,
    )
