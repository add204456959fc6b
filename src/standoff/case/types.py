"""Shared building blocks of the case schema: the strict base model and uncertain numbers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from .numbers import Dist, Quantity, parse_uncertain

Uncertain = Annotated[
    Dist,
    BeforeValidator(parse_uncertain),
    PlainSerializer(lambda d: d.params[0] if d.is_fixed else str(d), return_type=Any),
]

CAPABILITY = Quantity("capability", 0.0, None)
SALIENCE = Quantity("salience", 0.0, 1.0)
RISK = Quantity("risk", -1.0, 1.0)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)
