"""The `games:` entries of a case's crisis section: fitted crisis games a case's formulas read with
`game(GAME, PLAYER1, PLAYER2, OUTCOME)` (compiled by `standoff.compile.games`).

    crisis:
      games:
        deterrence:
          model: games/war1800-probit.json   # written by `standoff games fit --json`
          outcomes: [status_quo, capitulation, war]
          dyads:
            - players: [kennedy, khrushchev]     # player 1 (challenges), player 2
              covariates:
                s_wt_re1: alliance_similarity    # a formula: numbers, parameters, model terms
                revis1: 1
                regime1: dem                     # a level of a text covariate
                balanc: us_capability_share
                regime2: autoc
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from .types import Strict

Value = Annotated[str, StringConstraints(min_length=1)] | float


class GameDyad(Strict):
    """One pair of actors playing the game, player 1 first, and the values of its covariates:
    a number, a formula (the case's parameters, model terms such as `capability('us')`), or a
    level of a text covariate."""

    players: tuple[str, str]
    covariates: dict[str, Value] = Field(default_factory=dict)


class GameUse(Strict):
    """A fitted game a case reads: the file, the case's names for its three outcomes (status quo,
    player 2 gives in, player 2 resists) and the dyads that play it. With `uncertainty: false`
    the coefficients are fixed at their estimates instead of drawn from their sampling
    distribution."""

    model: str = Field(min_length=1)
    label: str = ""
    outcomes: tuple[str, str, str] = ("status_quo", "give_in", "resist")
    dyads: list[GameDyad] = Field(min_length=1)
    uncertainty: bool = True
    note: str = ""
