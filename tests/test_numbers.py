"""Property tests for uncertain numbers and for the CSV and YAML loaders."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from standoff.case import Dist, Quantity, parse_uncertain
from standoff.case.loader import load_csv_text, load_yaml_text
from standoff.case.numbers import Z90
from standoff.errors import CaseError

FAST = settings(max_examples=60, deadline=None)

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)
quantities = st.one_of(
    st.builds(
        lambda lo, w: Quantity("bounded", lo, lo + w), st.floats(-1e3, 1e3), st.floats(1e-2, 1e3)
    ),
    st.builds(lambda lo: Quantity("unbounded", lo, None), st.floats(-1e3, 1e3)),
)


# -- numbers -------------------------------------------------------------------------------------


@given(finite)
def test_plain_numbers_round_trip(x: float):
    assert parse_uncertain(x) == Dist("fixed", (x,))
    parsed = parse_uncertain(repr(x))
    assert parsed.kind == "fixed" and parsed.params == (x,)
    again = parse_uncertain(str(parsed))
    assert again.kind == "fixed" and again.params == (x,)


@given(st.integers(-(10**15), 10**15))
def test_integers_parse_exactly(n: int):
    assert parse_uncertain(n).params == (float(n),)
    assert parse_uncertain(f"  {n} ").params == (float(n),)


@given(finite, finite)
def test_a_to_b_parses_with_support_a_b(a: float, b: float):
    assume(a != b)
    a, b = min(a, b), max(a, b)
    d = parse_uncertain(f"{a!r} to {b!r}")
    assert d.kind == "range"
    assert d.params == (a, b)
    assert d.support() == (a, b)
    assert parse_uncertain(str(d)) == d


@given(finite, finite)
def test_a_to_b_with_a_not_below_b_is_refused(a: float, b: float):
    a, b = max(a, b), min(a, b)
    with pytest.raises(ValueError, match="low end must be below the high end"):
        parse_uncertain(f"{a!r} to {b!r}")


@st.composite
def valid_for(draw: st.DrawFn) -> tuple[Dist, Quantity]:
    """A quantity and an uncertain number that checks clean as a value of it."""
    q = draw(quantities)
    hi = q.high if q.high is not None else q.low + 1e4
    inside = st.floats(q.low, hi, allow_nan=False)
    kind = draw(st.sampled_from(["fixed", "range", "normal", "uniform", "triangular", "beta"]))
    if kind == "beta" and q.high is None:
        kind = "normal"
    if kind == "fixed":
        d = Dist("fixed", (draw(inside),))
    elif kind in ("range", "uniform"):
        a, b = sorted((draw(inside), draw(inside)))
        assume(a < b)
        d = Dist(kind, (a, b))
    elif kind == "normal":
        d = Dist("normal", (draw(inside), draw(st.floats(1e-3, 1e4))))
    elif kind == "triangular":
        a, m, b = sorted((draw(inside), draw(inside), draw(inside)))
        assume(a < b)
        d = Dist("triangular", (a, m, b))
    else:
        d = Dist("beta", (draw(st.floats(0.05, 50)), draw(st.floats(0.05, 50))))
    assert d.check(q) is None
    return d, q


@FAST
@given(valid_for(), st.integers(0, 2**32 - 1))
def test_samples_lie_in_the_valid_range(pair: tuple[Dist, Quantity], seed: int):
    d, q = pair
    draws = d.sample(np.random.default_rng(seed), 500, q)
    assert draws.shape == (500,)
    assert np.all(np.isfinite(draws))
    assert np.all(draws >= q.low)
    if q.high is not None:
        assert np.all(draws <= q.high)
    central = d.central(q)
    assert q.low <= central <= (math.inf if q.high is None else q.high)


N_TAIL = 40_000


def _tails(d: Dist, q: Quantity) -> tuple[float, float]:
    draws = d.sample(np.random.default_rng(20180815), N_TAIL, q)
    a, b = d.params
    return float(np.mean(draws < a)), float(np.mean(draws > b))


@FAST
@given(st.floats(-500, 500), st.floats(1, 500))
def test_a_to_b_is_a_90_percent_interval_normal(a: float, width: float):
    """On a bounded quantity wide enough not to clip, about 5% falls below A and 5% above B."""
    b = a + width
    assume(b > a)
    q = Quantity("wide", -1e6, 1e6)
    below, above = _tails(Dist("range", (a, b)), q)
    assert 0.04 < below < 0.06
    assert 0.04 < above < 0.06


@FAST
@given(positive, st.floats(1.01, 1e4))
def test_a_to_b_is_a_90_percent_interval_lognormal(a: float, ratio: float):
    b = a * ratio
    q = Quantity("capability", 0.0, None)
    below, above = _tails(Dist("range", (a, b)), q)
    assert 0.04 < below < 0.06
    assert 0.04 < above < 0.06


@FAST
@given(positive, st.floats(1.5, 1e4))
def test_lognormal_for_positive_ends_of_unbounded_quantities(a: float, ratio: float):
    b = a * ratio
    d = Dist("range", (a, b))
    unbounded = Quantity("capability", 0.0, None)
    assert d.central(unbounded) == pytest.approx(math.sqrt(a * b))
    draws = d.sample(np.random.default_rng(7), 20_000, unbounded)
    assert np.all(draws > 0)  # a lognormal never reaches the lower bound
    logs = np.log(draws)
    assert np.median(logs) == pytest.approx(
        (math.log(a) + math.log(b)) / 2, abs=0.05 * (math.log(b) - math.log(a)) + 1e-9
    )
    expected_sd = (math.log(b) - math.log(a)) / (2 * Z90)
    assert np.std(logs) == pytest.approx(expected_sd, rel=0.05)


@FAST
@given(st.floats(-100, 100), st.floats(1, 100), st.booleans())
def test_normal_for_bounded_quantities_or_non_positive_ends(a: float, width: float, bounded: bool):
    b = a + width
    if not bounded:
        a = -abs(a) - 1e-3  # an end at or below zero: normal even on an unbounded quantity
    q = Quantity("wide", -1e6, 1e6) if bounded else Quantity("unbounded", -1e6, None)
    d = Dist("range", (a, b))
    assert d.central(q) == pytest.approx((a + b) / 2)
    draws = d.sample(np.random.default_rng(11), 20_000, q)
    assert np.mean(draws) == pytest.approx((a + b) / 2, abs=0.05 * (b - a))
    assert np.std(draws) == pytest.approx((b - a) / (2 * Z90), rel=0.05)
    skew = np.mean(((draws - draws.mean()) / draws.std()) ** 3)
    assert abs(skew) < 0.1  # symmetric: not a lognormal


def _readable(err: ValueError) -> str:
    message = str(err)
    assert message and "\n" not in message and len(message) < 400
    assert "Traceback" not in message
    return message


@given(finite, st.floats(max_value=0, allow_nan=False, allow_infinity=False))
def test_normal_needs_a_positive_sd(mean: float, sd: float):
    with pytest.raises(ValueError) as info:
        parse_uncertain(f"normal({mean!r}, {sd!r})")
    assert "standard deviation must be positive" in _readable(info.value)


@given(st.floats(max_value=0, allow_nan=False, allow_infinity=False), st.floats(0.1, 10))
def test_beta_needs_positive_shapes(bad: float, good: float):
    for text in (f"beta({bad!r}, {good!r})", f"beta({good!r}, {bad!r})"):
        with pytest.raises(ValueError) as info:
            parse_uncertain(text)
        assert "shape parameters must be positive" in _readable(info.value)


@given(
    st.from_regex(r"\A[a-z]{1,12}\Z").filter(
        lambda s: s not in ("normal", "uniform", "triangular", "beta")
    ),
    st.integers(0, 3),
)
def test_unknown_distributions_are_named(name: str, arity: int):
    text = f"{name}({', '.join(['1'] * arity)})"
    with pytest.raises(ValueError) as info:
        parse_uncertain(text)
    assert f"unknown distribution {name!r}" in _readable(info.value)


@given(st.sampled_from(["normal", "uniform", "triangular", "beta"]), st.integers(0, 5))
def test_wrong_arity_shows_the_signature(name: str, arity: int):
    assume(arity != {"normal": 2, "uniform": 2, "triangular": 3, "beta": 2}[name])
    with pytest.raises(ValueError) as info:
        parse_uncertain(f"{name}({', '.join(['1'] * arity)})")
    assert name + "(" in _readable(info.value)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=30), st.text(alphabet="0123456789.e+-() ,tonormalbetuifx", max_size=30)
    )
)
def test_any_text_parses_or_raises_a_readable_value_error(text: str):
    try:
        d = parse_uncertain(text)
    except ValueError as err:
        _readable(err)
    else:
        assert all(math.isfinite(p) for p in d.params)
        assert d.kind in ("fixed", "range", "normal", "uniform", "triangular", "beta")


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.just(float("nan")),
        st.just(float("inf")),
        st.just(-float("inf")),
        st.just(10**400),
    )
)
def test_non_numbers_raise_value_error(value: object):
    with pytest.raises(ValueError) as info:
        parse_uncertain(value)
    _readable(info.value)


# -- loaders -------------------------------------------------------------------------------------

names = (
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _-",
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def bdm_tables(draw: st.DrawFn) -> tuple[str, list[tuple[str, float, float, float]]]:
    actors = draw(st.lists(names, min_size=1, max_size=12, unique=True))
    rows = [
        (name, draw(st.floats(0, 1e6)), draw(st.floats(-1e4, 1e4)), draw(st.floats(0, 1)))
        for name in actors
    ]
    lines = ["Actor,Capability,Position,Salience"]
    lines += [f"{n},{c!r},{p!r},{s!r}" for n, c, p, s in rows]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline])), rows


@FAST
@given(bdm_tables())
def test_generated_bdm_tables_load(table: tuple[str, list[tuple[str, float, float, float]]]):
    text, rows = table
    case = load_csv_text(text, "generated.csv")
    assert len(case.actors) == len(rows)
    assert case.issue_ids == ("issue",)
    low, high = case.issues[0].range
    for actor, (name, cap, pos, sal) in zip(case.actors, rows, strict=True):
        assert actor.id == name
        assert actor.capability.params == (cap,)
        assert actor.stances["issue"].position.params == (pos,)
        assert actor.stances["issue"].salience.params == (sal,)
        assert low <= pos <= high


@st.composite
def ktab_tables(draw: st.DrawFn) -> tuple[str, int, int]:
    n_dims = draw(st.integers(1, 4))
    actors = draw(st.lists(names, min_size=1, max_size=10, unique=True))
    header = ["Actor", "Description", "Power"]
    for k in range(n_dims):
        header += [f"Pstn{k + 1}", f"Sal{k + 1}"]
    lines = [f"Generated scenario,A test,{len(actors)},{n_dims}", ",".join(header)]
    for name in actors:
        fields = [
            name,
            draw(st.sampled_from(["", "someone", "a minister"])),
            repr(draw(st.floats(0, 1e4))),
        ]
        for _ in range(n_dims):
            fields += [repr(draw(st.floats(0, 100))), repr(draw(st.floats(0, 100 / n_dims)))]
        lines.append(",".join(fields) + draw(st.sampled_from(["", ",", ", "])))
    return "\n".join(lines) + "\n", len(actors), n_dims


@FAST
@given(ktab_tables())
def test_generated_ktab_tables_load(table: tuple[str, int, int]):
    text, n_actors, n_dims = table
    case = load_csv_text(text, "generated.csv")
    assert len(case.actors) == n_actors
    assert len(case.issues) == n_dims
    for actor in case.actors:
        assert sum(s.salience.params[0] for s in actor.stances.values()) <= 1 + 1e-9


@FAST
@given(ktab_tables(), st.integers(-3, 3))
def test_ktab_actor_count_must_match(table: tuple[str, int, int], delta: int):
    text, n_actors, _ = table
    assume(delta != 0 and n_actors + delta >= 1)
    first, rest = text.split("\n", 1)
    parts = first.split(",")
    parts[2] = str(n_actors + delta)
    with pytest.raises(CaseError) as info:
        load_csv_text(",".join(parts) + "\n" + rest, "generated.csv")
    assert any(p.field == "nActors" for p in info.value.problems)


def _yaml_case(n_actors: int, n_issues: int) -> str:
    """A valid case in a fixed layout: actor a's stance on issue i is on line stance_line(a, i)."""
    out = ["standoff: 1", "id: generated", "issues:"]
    out += [f"  - id: issue{i}" for i in range(n_issues)]
    out.append("actors:")
    for a in range(n_actors):
        out += [f"  - id: actor{a}", f"    capability: {a + 1} to {a + 5}", "    stances:"]
        out += [f"      issue{i}: {{position: 10 to 90, salience: 0.5}}" for i in range(n_issues)]
    return "\n".join(out) + "\n"


def stance_line(n_issues: int, a: int, i: int) -> int:
    return 3 + n_issues + 1 + a * (3 + n_issues) + 3 + i + 1


@FAST
@given(st.integers(1, 8), st.integers(1, 5), st.data())
def test_generated_yaml_cases_load_and_errors_point_at_the_line(
    n_actors: int, n_issues: int, data: st.DataObject
):
    text = _yaml_case(n_actors, n_issues)
    case = load_yaml_text(text, "generated.yaml")
    assert len(case.actors) == n_actors and len(case.issues) == n_issues

    a = data.draw(st.integers(0, n_actors - 1))
    i = data.draw(st.integers(0, n_issues - 1))
    line = stance_line(n_issues, a, i)
    lines = text.split("\n")
    assert lines[line - 1].strip().startswith(f"issue{i}:")
    bad = data.draw(
        st.sampled_from(
            [
                ("salience: 0.5", "salience: 1.5", "salience", "outside the valid range"),
                ("position: 10 to 90", "position: 90 to 10", "position", "low end must be below"),
                ("position: 10 to 90", "position: 10 to 120", "position", "end 120 is outside"),
                ("salience: 0.5", "salience: .nan", "salience", "not a finite number"),
            ]
        )
    )
    lines[line - 1] = lines[line - 1].replace(bad[0], bad[1])
    with pytest.raises(CaseError) as info:
        load_yaml_text("\n".join(lines), "generated.yaml")
    (problem,) = info.value.problems
    assert problem.line == line
    assert problem.field == f"actors[{a}].stances.issue{i}.{bad[2]}"
    assert bad[3] in problem.message
