"""The interactions an actor can see with another: the octants of Bueno de Mesquita's expected
utility model, shared by the engines that report per-round dyadic results (`DyadicRounds`) and by
the crisis layer that reads them."""

from __future__ import annotations

import enum


class Interaction(enum.IntEnum):
    """What actor i sees with actor j, from i's perspective of the ordered pair (i, j), as the
    octant of (a, b) = (E^i(U_ij), E^i(U_ji)). Stored as int8 codes (`DyadicRounds.interaction`)."""

    NONE = 0  # i == j, or both at the same position (nothing to contest)
    CONFLICT_WIN = 1  # a > b > 0: both would challenge; i expects to win, j to yield fully
    CONFLICT_LOSS = 2  # b > a > 0: both would challenge; i expects to lose and yield fully
    COMPROMISE_UPPER = 3  # a > 0 > b, a > |b|: i has the upper hand; j moves part way towards i
    COMPROMISE_LOWER = 4  # b > 0 > a, b > |a|: j has the upper hand; i moves part way towards j
    COMPEL = 5  # a > 0 > b, |b| >= a: i compels j; j moves fully to i
    CAPITULATE = 6  # b > 0 > a, |a| >= b: i capitulates; i moves fully to j
    STALEMATE = 7  # a < 0 and b < 0: neither challenges; nobody moves

    @property
    def label(self) -> str:
        """A short description, for tables and explanations."""
        return _LABELS[self]


_LABELS: dict[Interaction, str] = {
    Interaction.NONE: "none",
    Interaction.CONFLICT_WIN: "conflict, i expects to win",
    Interaction.CONFLICT_LOSS: "conflict, i expects to lose",
    Interaction.COMPROMISE_UPPER: "compromise, i has the upper hand",
    Interaction.COMPROMISE_LOWER: "compromise, j has the upper hand",
    Interaction.COMPEL: "compel: i compels j",
    Interaction.CAPITULATE: "capitulation: i capitulates to j",
    Interaction.STALEMATE: "stalemate",
}
