"""The numbers do not move unnoticed: the JSON of every built-in case, and of the shared KTAB and
BDM tables under every engine, hashes to the value pinned here. The pins are the hashes of the
command line's `--json` output (`standoff forecast ... --json`, `standoff settle ... --json`,
`standoff sensitivity ... --json`); a change to a model that moves a number must update its pin on
purpose, saying why in the commit."""

from __future__ import annotations

import hashlib

import pytest

from standoff import __version__
from standoff.compile import load
from standoff.pipeline.forecast import DriverOptions, run
from standoff.pipeline.sensitivity import morris
from standoff.pipeline.settle import settle
from standoff.result import ForecastResult
from standoff.serialize import drivers_json, dumps, forecast_json, settle_json

from .conftest import shared


def digest(data: dict) -> str:
    """The SHA-256 of the JSON file's text, with the version number left out."""
    text = dumps(data).replace(f'"standoff": "{__version__}"', '"standoff": "<version>"')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CRISIS = {
    # (case, draws, seed): the forecast JSON
    ("us-dprk-2018", 3000, 7): "4767834f66b124b3b7568955c88951a6cf321a001f49cf4ade62976ead6ed56e",
    ("us-dprk-2018", 10_000, 20180815): (
        "eb1f7d6547021c27351abdd85d351a793912ea9fb279f907cd53dc57686d9ee8"  # `make forecast`
    ),
    ("cuba-1962", 3000, 7): "a0c471e77df4857d9cbd9bd57541d40b9c981f4fb79ba231dc6db207f548ad89",
}
WITH_DRIVERS = {
    # (case, draws, seed, trajectories, replicates): the forecast JSON with --report's drivers
    ("us-dprk-2018", 500, 5, 2, 4): (
        "4c4ef1b220f2e76a46534f093a552c96ef094670226ed47b018ff64a3d040aa0"
    ),
    ("cuba-1962", 500, 5, 2, 4): "2c463f314be350f4ce9caa8b2162ec96c4eb8431e3496f47dd181df2163e17f7",
}
SENSITIVITY = {
    # (case, trajectories, replicates, seed): `standoff sensitivity --json`
    ("us-dprk-2018", 3, 8, 3): "bcb60e0a3050886d9963477452f082a67cc08e927645a631a4398c5ec8653625",
    ("cuba-1962", 3, 8, 3): "51d094207d438af8940ab65beab2d0de521399fae7c45e2cf20a8aef2f2d5135",
}
TABLES = {
    # (folder, file): {model: (forecast JSON at 600 draws, seed 11; settle JSON)}
    ("ktab", "SOE-Pol-Comp.csv"): {
        "compromise": (
            "e3a150a657296e94c0733ed39989a9e431992553f5ce98c0bc2540e8be40d475",
            "0b2c8ef18d7e092777a75b07d9d3cfd2c0731117b95356df26202757c2b85f0f",
        ),
        "eum": (
            "9b6aa3d15ca083f56e3c73301c3cd938b5ddc3d39b3dd9b58b4b12a3ca400fa1",
            "c4a8d6503a774899f404ac8e5f1770bbecb4f2e468b0241ec2c3df0cc9476333",
        ),
        "smp": (
            "31ee62db143c63027e218f6c28f75647e80a95717e480d1e30e2ad7c7b286064",
            "2817d3660439d6b61f57c1bef8513573ef9ba299c7ac36059bd34c9346c664eb",
        ),
    },
    ("ktab", "dummyData_3Dim.csv"): {
        "compromise": (
            "6a607c795fe56e6728611d4d9903a86bcd123e22295771cd4fe79506f1a61df0",
            "473258bee01062772684c173507cf6f80d28a47a6e9b68fa91850673011c02d6",
        ),
        "eum": (
            "f8be39a793b157abe034844dc2262ab38d0a4894d37ab7d279803f5b33240fd5",
            "a6055c37cd722625120f12f6ed01748116643a901ad22383fe38ebbe8653641c",
        ),
        "smp": (
            "f50b2c399ced920b63311487b3f7c701d3c6391bd87569e1d2d2299e41609e4b",
            "7ecb6322875cc861cf57629159269ba65b4d8a96a45f88494912c248bd66cb9f",
        ),
    },
    ("bdm-emissions", "actors.csv"): {
        "compromise": (
            "7f8af52e6183a0bdf0f36a93c4359994e28eb1445d6c17df1191a0f07f106b36",
            "ebe5f4ec0da9978c4862dac28d9ef7c7bd1ac9295ac54921ccd806cc6451574d",
        ),
        "eum": (
            "0d660dfba4314236029005c31f5b19b036764053be542728c10812cc6f1e5f1c",
            "b76b8455980d8e74be818a24c0ed74cf8f4a13202e598de22108213ff47378fe",
        ),
        "smp": (
            "2c4c638a3efd8e02fa4ebaea3a681ba2d1c3ea7c447f2fab9b537206cf6e7a34",
            "d1f2b4dd912f70fd58e851c670f7eb61f8e7bd12485e617c32ef235fc6118ab7",
        ),
    },
}


# The same runs' headline figures by name, so that a moved hash says what moved: probabilities to
# within 0.0005, settlement medians (on the scale) to within 0.05. Rounding and platform
# noise stay inside; any change of the model or the draws shows here by name.
FIGURES = {
    ("us-dprk-2018", 3000, 7): {
        "scenario walk_away": 0.2327, "scenario summit_declaration": 0.536,
        "scenario collapse_to_pressure": 0.1243, "scenario talks_continue": 0.107,
        "question second_summit": 0.8347, "question end_of_war_declaration": 0.536,
        "question us_walks_away": 0.2327, "question nk_missile_test": 0.6987,
        "question armed_clash": 0.0867, "question sanctions_relief": 0.7363,
        "question nuclear_declaration": 0.732,
        "settlement sequencing": 43.19, "settlement pressure": 40.33,
        "settlement security": 70.43,
    },
    ("cuba-1962", 3000, 7): {
        "scenario war": 0.08, "scenario missiles_removed_by_force": 0.1113,
        "scenario negotiated_withdrawal": 0.7583, "scenario standoff": 0.0503,
        "question quarantine": 0.9667, "question ship_confrontation": 0.6143,
        "question shootdown": 0.2593, "question us_air_strike": 0.1913,
        "question withdrawal_agreed": 0.7583, "question jupiter_deal": 0.558,
        "settlement missiles": 88.9, "settlement force": 28.86, "settlement guarantees": 65.87,
    },
}  # fmt: skip


def named_figures(result: ForecastResult) -> dict[str, float]:
    out = {f"scenario {s.id}": s.probability.p for s in result.scenarios}
    out.update({f"question {q.id}": q.probability.p for q in result.questions})
    out.update({f"settlement {i.id}": i.median for i in result.settlement})
    return out


@pytest.mark.parametrize(("key", "expected"), FIGURES.items(), ids=lambda v: str(v)[:40])
def test_named_figures_are_unchanged(key, expected):
    case, draws, seed = key
    got = named_figures(run(load(case), draws=draws, seed=seed))
    assert set(got) == set(expected)
    moved = {
        name: f"{expected[name]} -> {value:.4f}"
        for name, value in got.items()
        if abs(value - expected[name]) > (0.05 if name.startswith("settlement") else 0.0005)
    }
    assert moved == {}


def test_every_builtin_case_is_pinned():
    from standoff.case import builtin_cases

    assert set(builtin_cases()) == {case for case, *_ in CRISIS} == {c for c, *_ in WITH_DRIVERS}


@pytest.mark.parametrize(("key", "expected"), CRISIS.items(), ids=lambda v: str(v)[:40])
def test_crisis_forecast_json_is_unchanged(key, expected):
    case, draws, seed = key
    result: ForecastResult = run(load(case), draws=draws, seed=seed)
    assert digest(forecast_json(result)) == expected


@pytest.mark.parametrize(("key", "expected"), WITH_DRIVERS.items(), ids=lambda v: str(v)[:40])
def test_forecast_with_drivers_json_is_unchanged(key, expected):
    case, draws, seed, trajectories, replicates = key
    drivers = DriverOptions(trajectories=trajectories, replicates=replicates)
    assert digest(forecast_json(run(load(case), draws=draws, seed=seed, drivers=drivers))) == (
        expected
    )


@pytest.mark.parametrize(("key", "expected"), SENSITIVITY.items(), ids=lambda v: str(v)[:40])
def test_sensitivity_json_is_unchanged(key, expected):
    case, trajectories, replicates, seed = key
    assert digest(drivers_json(morris(load(case), trajectories, replicates, seed))) == expected


@pytest.mark.parametrize(
    ("table", "model"), [(t, m) for t, models in TABLES.items() for m in models]
)
def test_table_json_is_unchanged(table, model):
    compiled = load(shared(*table))
    forecast_pin, settle_pin = TABLES[table][model]
    assert digest(forecast_json(run(compiled, draws=600, seed=11, model=model))) == forecast_pin
    assert digest(settle_json(settle(compiled.case, model))) == settle_pin
