"""The numbers do not move: the JSON of every built-in case, and of the shared KTAB and BDM tables
under every engine, hashes to the value pinned here. The pins were taken from the command line's
`--json` output (`standoff forecast ... --json`, `standoff settle ... --json`, `standoff
sensitivity ... --json`); a change to a model that moves a number must update its pin on purpose,
saying why in the commit."""

from __future__ import annotations

import hashlib

import pytest

from standoff import __version__
from standoff.compile import load
from standoff.forecast import DriverOptions, run, settle
from standoff.result import ForecastResult
from standoff.sensitivity import morris
from standoff.serialize import drivers_json, dumps, forecast_json, settle_json

from .conftest import shared


def digest(data: dict) -> str:
    """The SHA-256 of the JSON file's text, with the version number left out."""
    text = dumps(data).replace(f'"standoff": "{__version__}"', '"standoff": "<version>"')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CRISIS = {
    # (case, draws, seed): the forecast JSON
    ("us-dprk-2018", 3000, 7): "46a6172a17f8d7926cd21791fcd50eaec162f4efb03fa56689dce59422436b76",
    ("us-dprk-2018", 10_000, 20180815): (
        "1c11d4cc0e9c316a67f622daff522d5343f660ace045d7cf52089a20336bd46a"  # `make forecast`
    ),
    ("cuba-1962", 3000, 7): "ab1ed9b2772e05c9925d1eddbf058a41ab99cb853a9f0fa7749d0a845a65eae1",
}
WITH_DRIVERS = {
    # (case, draws, seed, trajectories, replicates): the forecast JSON with --report's drivers
    ("us-dprk-2018", 500, 5, 2, 4): (
        "6fa87831099ed03725231b8245c7f86f123d3d20dd568f4ac62155a1fde6ca53"
    ),
    ("cuba-1962", 500, 5, 2, 4): "d1ae47d45770f12669992a095590bcd7eafbb1c72b7b26eb8d20939d19a1f546",
}
SENSITIVITY = {
    # (case, trajectories, replicates, seed): `standoff sensitivity --json`
    ("us-dprk-2018", 3, 8, 3): "802d5b50ec61088bdf99a5b08fdc12b5464f7b9e98cb0455dd0e6e51ad724455",
    ("cuba-1962", 3, 8, 3): "7550d3d81a47cf22855d0118102fc7a6dbc42f8ffbd05539cfca04261ec85152",
}
TABLES = {
    # (folder, file): {model: (forecast JSON at 600 draws, seed 11; settle JSON)}
    ("ktab", "SOE-Pol-Comp.csv"): {
        "compromise": (
            "e3a150a657296e94c0733ed39989a9e431992553f5ce98c0bc2540e8be40d475",
            "0b2c8ef18d7e092777a75b07d9d3cfd2c0731117b95356df26202757c2b85f0f",
        ),
        "eum": (
            "9f6a68949e0003b205b82ea3dcfb682b49462e5642e0d8e37a3b370ca63c39e5",
            "7c598cf098c88507ddb508829506792f0edc0b55ff1e5a3277b82a9e27526a77",
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
            "a5f227d1b78a599db4459af431770181fcd14ea233eb5ea3f76762ba8fba63f7",
            "6974185b484f4a984f980ca96d8d23c221d28cf5a1abfae82cb19aee1fc59ddc",
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
            "170ca29852722a71075801a60d8a096137a31e4d14b0eba031bf43ff19ca127e",
            "afda7d5222aeb0dd096129d90147a707abe408f96af1d678a6053e68048d90ea",
        ),
        "smp": (
            "2c4c638a3efd8e02fa4ebaea3a681ba2d1c3ea7c447f2fab9b537206cf6e7a34",
            "d1f2b4dd912f70fd58e851c670f7eb61f8e7bd12485e617c32ef235fc6118ab7",
        ),
    },
}


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
