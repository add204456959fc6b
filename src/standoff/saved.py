"""A saved forecast read back typed: the codec's reading side for the JSON that
`standoff.serialize.forecast_json` writes (`standoff forecast --json`, the ledger's records).

The ledger, `standoff score` and the library read a saved forecast through `from_json` and its
attributes, never by key: what they need (each question's and scenario's p, its Monte Carlo
interval, what the observations decided; the case, its hash, the as-of date, seed, draws, model
and version) is checked once here, and a record that does not hold it is a
`SavedForecastError` naming the field, never a KeyError. Keys it does not know are ignored, so
a record a newer standoff wrote with more in it still reads.

`format` is the version of this shape. The writer does not stamp it yet (its bytes are held by
the golden tests), so a record without it is of format 1, the first; a record of a later format
than `FORMAT` is refused with that said.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import CaseError, Problem

FORMAT = 1  # the shape of the JSON that `forecast_json` writes; `format` in a record, 1 if absent
IN_MEMORY = "(forecast)"  # the file named in problems of a forecast given as data
Answer = Literal["yes", "no"]
Where = tuple[str, ...]  # the key path of a field in the JSON (its line is found by it)


class SavedForecastError(CaseError):
    """A saved forecast that does not hold what standoff writes. Each problem names the file
    (`(forecast)` for data given in memory), the line where known (1 otherwise), the field as a
    dotted path (`questions.q1.p`) and what is wrong with it."""

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


@dataclass(frozen=True)
class SavedItem:
    """One question or scenario of a saved forecast: its p, the 90% Monte Carlo interval of p
    (None in a record without one), and the answer the observations decided (None where it was
    forecast: only then is it scored). `resolves`: a question's resolution date (ISO)."""

    p: float
    mc_interval: tuple[float, float] | None = None
    observed: Answer | None = None
    resolves: str | None = None


@dataclass(frozen=True)
class SavedObservations:
    """What a conditioned forecast was conditioned on: the observation file's name, as-of date
    (ISO) and sha256."""

    file: str | None = None
    as_of: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class SavedForecast:
    """A forecast as its readers use it. `questions` and `scenarios` keep the record's order
    (the scenarios' order is `scenario_order`); both are empty for a forecast of a case without a
    crisis section. `as_of` is the case's as-of date; `speaks_from` the date the forecast speaks
    from. `standoff` is the version that wrote it."""

    questions: Mapping[str, SavedItem]
    scenarios: Mapping[str, SavedItem] = field(default_factory=dict)
    case: str | None = None
    case_hash: str | None = None
    as_of: str | None = None
    seed: int | None = None
    draws: int | None = None
    model: str | None = None
    standoff: str | None = None
    format: int = FORMAT
    observed: SavedObservations | None = None

    @property
    def scenario_order(self) -> tuple[str, ...]:
        return tuple(self.scenarios)

    @property
    def speaks_from(self) -> str | None:
        """The observations' as-of date for a conditioned forecast, else the case's."""
        seen = self.observed.as_of if self.observed is not None else None
        return seen or self.as_of or None

    @property
    def observed_questions(self) -> tuple[str, ...]:
        """The questions the observations decided (not forecasts: listed, never scored)."""
        return tuple(q for q, item in self.questions.items() if item.observed is not None)

    @property
    def observed_scenario(self) -> str | None:
        """The scenario the observations decided will happen, or None; where there is one the
        scenarios are not a forecast and are not scored, by the rule of questions."""
        return next((s for s, item in self.scenarios.items() if item.observed == "yes"), None)


def from_json(
    data: Mapping[str, Any] | str, *, file: str = IN_MEMORY, crisis: bool = True
) -> SavedForecast:
    """The saved forecast in `data`: the JSON's text (problems then name its lines) or the
    object it parses to. `crisis`: it must hold `questions` (a forecast `standoff score` can
    score); False also takes the forecast of a case without a crisis section (the ledger
    records those too). Raises SavedForecastError listing every problem found."""
    text = data if isinstance(data, str) else None
    if text is not None:
        data = _parse(text, file)
    reader = _Reader(file, text)
    if not isinstance(data, Mapping) or (crisis and not isinstance(data.get("questions"), Mapping)):
        what = "a JSON object" if isinstance(data, Mapping) else f"a JSON {_kind(data)}"
        if crisis:
            reader.fail(("questions",), "questions",
                        f"not a crisis forecast (no questions): found {what}; give the JSON "
                        "that `standoff forecast CASE --json FILE` writes")  # fmt: skip
        else:
            reader.fail((), "(top level)", f"not a forecast: found {what}, not a JSON object")
        raise SavedForecastError(reader.problems)
    return reader.forecast(data)


def _parse(text: str, file: str) -> Any:
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as e:
        problem = Problem(file, e.lineno, "(json)", e.msg)
    except RecursionError:
        problem = Problem(file, 1, "(json)", "nested too deeply; not a forecast")
    except ValueError as e:
        problem = Problem(file, 1, "(json)", f"cannot read: {e}"[:200])
    raise SavedForecastError([problem])


def _json_int(text: str) -> int | float:
    """A JSON integer; one too long to be a number at all becomes inf (then `not a probability`)
    instead of Python's digit-limit ValueError."""
    return int(text) if len(text) <= 300 else math.copysign(math.inf, -1 if text[0] == "-" else 1)


def _kind(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _is_probability(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """Reads the fields of one record, collecting a problem per wrong field."""

    def __init__(self, file: str, text: str | None):
        self.file, self.text = file, text
        self.problems: list[Problem] = []

    def fail(self, where: Where, name: str, message: str) -> None:
        line = _json_line(self.text, where) if self.text is not None and where else 1
        self.problems.append(Problem(self.file, line, name, message))

    def text_field(self, data: Mapping[str, Any], key: str, at: Where = (), what: str = "") -> Any:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(
                (*at, key), ".".join((*at, key)), what or f"expected text, found {_shown(value)}"
            )
            return None
        return value

    def whole_field(self, data: Mapping[str, Any], key: str) -> int | None:
        value = data.get(key)
        if value is not None and not _whole(value):
            self.fail((key,), key, f"not a whole number: {_shown(value)}")
            return None
        return value

    def forecast(self, data: Mapping[str, Any]) -> SavedForecast:
        version = self.whole_field(data, "format")
        if version is not None and not 1 <= version <= FORMAT:
            later = f"{version}: written by a newer standoff; this one reads formats 1 to {FORMAT}"
            self.fail(
                ("format",),
                "format",
                later if version > FORMAT else f"{version}: formats start at 1",
            )
        saved = SavedForecast(
            case=self.text_field(data, "case", what="not a case id"),
            questions=self.items(data, "questions"),
            scenarios=self.items(data, "scenarios"),
            case_hash=self.text_field(data, "case_hash"),
            as_of=self.text_field(data, "as_of"),
            seed=self.whole_field(data, "seed"),
            draws=self.whole_field(data, "draws"),
            model=self.text_field(data, "model"),
            standoff=self.text_field(data, "standoff"),
            format=FORMAT if version is None else version,
            observed=self.observations(data.get("observed")),
        )
        if self.problems:
            raise SavedForecastError(sorted(self.problems, key=lambda p: p.line))
        return saved

    def items(self, data: Mapping[str, Any], part: str) -> dict[str, SavedItem]:
        entries = data.get(part)
        if entries is None:
            return {}
        if not isinstance(entries, Mapping):
            self.fail((part,), part, "expected an object of id: {p: ...}")
            return {}
        out: dict[str, SavedItem] = {}
        for ident, entry in entries.items():
            item = self.item(part, str(ident), entry)
            if item is not None:
                out[str(ident)] = item
        return out

    def item(self, part: str, ident: str, entry: Any) -> SavedItem | None:
        where, name = (part, ident), f"{part}.{ident}"
        p = entry.get("p") if isinstance(entry, Mapping) else None
        if not _is_probability(p):
            shown = _shown(p) if not isinstance(p, float) else f"{p:g}"
            if isinstance(p, float) and math.isinf(p):
                shown = "a number too large to read"
            message = f"not a probability: expected a number from 0 to 1, found {shown}"
            self.fail(where, f"{name}.p", message)
            return None
        assert isinstance(entry, Mapping) and p is not None
        mc = entry.get("mc_interval")
        interval: tuple[float, float] | None = None
        if mc is not None:
            if isinstance(mc, list) and len(mc) == 2 and all(_is_probability(v) for v in mc):
                interval = (float(mc[0]), float(mc[1]))
            else:
                message = f"expected [low, high], two probabilities; found {_shown(mc)}"
                self.fail(where, f"{name}.mc_interval", message)
        answer = entry.get("observed")
        if answer is not None and answer not in ("yes", "no"):
            self.fail(where, f"{name}.observed", f"expected yes or no, found {_shown(answer)}")
            answer = None
        resolves = self.text_field(entry, "resolves", where)
        return SavedItem(float(p), interval, answer, resolves)

    def observations(self, seen: Any) -> SavedObservations | None:
        if seen is None:
            return None
        if not isinstance(seen, Mapping):
            self.fail(("observed",), "observed", f"expected an object, found {_shown(seen)}")
            return None
        return SavedObservations(
            file=self.text_field(seen, "file", ("observed",)),
            as_of=self.text_field(seen, "as_of", ("observed",)),
            hash=self.text_field(seen, "hash", ("observed",)),
        )


def _shown(value: Any, limit: int = 40) -> str:
    """A wrong value as a message shows it: its JSON, cut short."""
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _json_line(text: str, path: Where) -> int:
    """The line of the key path in the JSON text: each key's first appearance after the last."""
    at = 0
    for key in path:
        found = text.find(json.dumps(key), at)
        if found < 0:
            break
        at = found
    return text.count("\n", 0, at) + 1
