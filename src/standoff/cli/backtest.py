"""The `standoff backtest` and `standoff score` commands (registered in cli/lazy.py)."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from .. import outputs
from ..backtest.resolve import (
    Scored,
    calibration,
    observed,
    read_forecast,
    read_resolutions,
    score,
    scored_json,
    unresolved,
)
from ..console import Table, err, fail, out, print_problems, progress, safe
from ..errors import CaseError
from .backend_options import BackendOpt, BinsOpt, SchedulerOpt, WorkersOpt, cli_executor

if TYPE_CHECKING:
    from ..backtest.deu3 import Dataset
    from ..backtest.models import Setup
    from ..backtest.run import Prediction

# The backtest models (and the engines, numba) load when `backtest` runs; the default it shows is
# written out here (tests/test_cli.py checks it against standoff.backtest.run).
DEFAULT_FOLDS = 5


def _fail(e: CaseError) -> typer.Exit:
    print_problems(e.problems)
    return typer.Exit(2)


def _write_failed(e: outputs.OutputError) -> typer.Exit:
    return fail(str(e))


def _choice(value: str, allowed: tuple[str, ...] | list[str], flag: str) -> str:
    if value not in allowed:
        raise fail(f"{flag} {value!r}: choose from {', '.join(allowed)}")
    return value


def backtest(
    dataset: Annotated[str, typer.Argument(help="The dataset format: deu3.")],
    file: Annotated[Path, typer.Argument(help="A DEU III file (tab-separated).")],
    model: Annotated[
        str,
        typer.Option(
            help="An engine (compromise, condorcet, eum, exchange, nash, procedural, smp), "
            "median, status-quo, blend, best, or all."
        ),
    ] = "compromise",
    capabilities: Annotated[
        str, typer.Option(help="equal, gdp or council-votes (by the treaty in force).")
    ] = "council-votes",
    institutions: Annotated[
        str,
        typer.Option(
            help="Commission and Parliament: largest, largest-present, none or procedure."
        ),
    ] = "largest",
    lisbon: Annotated[
        str, typer.Option(help="Council weights after Nov 2014: banzhaf or population.")
    ] = "banzhaf",
    missing_salience: Annotated[
        str, typer.Option(help="A position without salience gets: mean, fifty or zero.")
    ] = "mean",
    reference: Annotated[
        str, typer.Option(help="The reference point: ignore, or actor (a weighted actor).")
    ] = "ignore",
    reference_weight: Annotated[
        float, typer.Option(min=0.0, help="With --reference actor: its share of capability.")
    ] = 0.1,
    predictions: Annotated[
        Path | None, typer.Option(help="Write predictions as CSV (isnr, prediction, ...).")
    ] = None,
    draws: Annotated[
        int,
        typer.Option(min=1, help="Draws of noisy inputs: adds the input band (sensitivity)."),
    ] = 1,
    interval: Annotated[
        bool,
        typer.Option(help="The 80% predictive interval, conformal on residuals (low80, high80)."),
    ] = True,
    calibrate_by: Annotated[
        str,
        typer.Option(help="Calibrate the interval per Council voting rule (rule) or pooled (all)."),
    ] = "rule",
    seed: Annotated[int, typer.Option(min=0, help="Seed of draws, folds and bootstrap.")] = 0,
    train: Annotated[
        Path | None,
        typer.Option(
            help="Fit the blend and the best model and calibrate the interval on this file "
            "(default: "
            "cross-validate within FILE if it has outcomes, else deu3-dev.tsv beside it)."
        ),
    ] = None,
    folds: Annotated[int, typer.Option(min=2, help="Folds of cross-validation.")] = DEFAULT_FOLDS,
    against: Annotated[
        str | None, typer.Option(help="Compare with this model (paired bootstrap of MAE).")
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=100, help="Bootstrap replicates.")] = 2000,
    markdown: Annotated[bool, typer.Option(help="Print the scores as a Markdown table.")] = False,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Predict every issue of a DEU III file with a model; score where outcomes are known."""
    from ..backtest.run import model_names
    from ..backtest.run import write_predictions as _write_predictions

    _choice(dataset, ("deu3",), "dataset")
    names = model_names()
    models = names if model == "all" else [_choice(model, [*names, "all"], "--model")]
    if against is not None:
        _choice(against, names, "--against")
    setup, data, train_data = _read_backtest(
        file, train, models, interval, calibrate_by, capabilities=capabilities,
        institutions=institutions, lisbon=lisbon, missing_salience=missing_salience,
        reference=reference, reference_weight=reference_weight,
    )  # fmt: skip
    # the inputs: the dataset, the training file, and the default training file beside it
    inputs = [file, *([train] if train is not None else []), file.parent / "deu3-dev.tsv"]
    if predictions is not None:
        try:
            outputs.check(predictions, inputs)
        except outputs.OutputError as e:
            raise _write_failed(e) from None
    with cli_executor(backend, scheduler, workers) as executor:
        done, timing = _predict_models(
            models, data, setup, draws=draws, seed=seed, train=train_data, folds=folds,
            calibrate=interval, calibrate_by=calibrate_by, executor=executor,
        )  # fmt: skip
    if predictions is not None:
        try:
            _write_predictions(predictions, done, band=draws > 1, inputs=inputs)
        except outputs.OutputError as e:
            raise _write_failed(e) from None
    scored = len(data.scored)
    out.print(
        f"[bold]{safe(file)}[/bold]: {len(data.issues)} issues, {scored} with outcomes; "
        f"capabilities {capabilities}, institutions {institutions}, missing salience "
        f"{missing_salience}, reference {reference}"
    )
    for p in done:
        for note in p.notes:
            out.print(f"  {note}")
    if not scored:
        out.print("No outcomes in this file: predictions only.")
        if predictions is None:
            err.print("warning: no --predictions file given; nothing written")
        return
    baseline = next((p for p in done if p.model == (against or "compromise")), None)
    if against and baseline is None:
        from ..backtest.run import predict

        baseline = predict(against, data, setup, draws=1, seed=seed, train=train_data, folds=folds)
    _print_scores(done, baseline, bootstrap, seed, timing, markdown)


def _read_backtest(
    file: Path,
    train: Path | None,
    models: list[str],
    interval: bool,
    calibrate_by: str,
    **choices: Any,
) -> tuple[Setup, Dataset, Dataset | None]:
    """The setup the options choose (`choices`: capabilities, institutions, lisbon,
    missing_salience, reference and reference_weight), the dataset read, and the training data
    where a model or the interval needs it; a problem ends the command."""
    from ..backtest.capabilities import CAPABILITIES, INSTITUTIONS, LISBON_INDEX
    from ..backtest.deu3 import read_deu3
    from ..backtest.models import MISSING_SALIENCE, REFERENCE, Setup
    from ..backtest.run import CALIBRATE_BY
    from ..backtest.run import training_file as _training_file

    try:
        setup = Setup(
            capabilities=_choice(choices["capabilities"], CAPABILITIES, "--capabilities"),
            institutions=_choice(choices["institutions"], INSTITUTIONS, "--institutions"),
            lisbon=_choice(choices["lisbon"], LISBON_INDEX, "--lisbon"),
            missing_salience=_choice(
                choices["missing_salience"], MISSING_SALIENCE, "--missing-salience"
            ),
            reference=_choice(choices["reference"], REFERENCE, "--reference"),
            reference_weight=choices["reference_weight"],
        )
        data = read_deu3(file)
        _choice(calibrate_by, CALIBRATE_BY, "--calibrate-by")
        needs_train = "blend" in models or "best" in models or interval
        train_data = _training_file(data, train) if needs_train else None
    except CaseError as e:
        raise _fail(e) from None
    return setup, data, train_data


def _predict_models(
    models: list[str], data: Dataset, setup: Setup, **options: Any
) -> tuple[list[Prediction], dict[str, float]]:
    """Each model's predictions (`run.predict` with `options`) under a progress bar, and the
    seconds each took; a problem ends the command."""
    from ..backtest.run import predict

    done: list[Prediction] = []
    timing: dict[str, float] = {}
    with progress() as bar:
        task = bar.add_task("backtest", total=len(models))
        for n, name in enumerate(models):
            bar.update(task, description=f"backtest: {name}", completed=n)
            start = time.perf_counter()
            try:
                done.append(predict(name, data, setup, **options))
            except CaseError as e:
                raise _fail(e) from None
            timing[name] = time.perf_counter() - start
        bar.update(task, completed=len(models))
    return done, timing


def _print_scores(
    done: list[Prediction],
    baseline: Prediction | None,
    n_boot: int,
    seed: int,
    timing: dict[str, float],
    markdown: bool = False,
) -> None:
    from ..backtest.run import compare, scores

    sampled = any(p.samples is not None for p in done)
    calibrated = any(p.half_width is not None for p in done)
    table = Table(title="Scores (95% cluster-bootstrap intervals over proposals)",
                  title_justify="left")  # fmt: skip
    for col in ("model", "rule", "n", "MAE [95% CI]", "median AE", "RMSE", "within 10"):
        table.add_column(col, justify="left" if col in ("model", "rule") else "right")
    if calibrated:
        table.add_column("80% predictive (conformal) coverage", justify="right")
        table.add_column("predictive width", justify="right")
    if sampled:
        table.add_column("input band coverage", justify="right")
        table.add_column("input band width", justify="right")
        table.add_column("CRPS (input draws)", justify="right")
    if baseline is not None:
        table.add_column(f"MAE − {baseline.model} [95% CI]", justify="right")
    table.add_column("seconds", justify="right")
    for p in done:
        rows = scores(p, n_boot, seed)
        diffs = compare(p, baseline, n_boot, seed) if baseline is not None else {}
        for rule, row in rows.items():
            cells = [
                p.model, rule, str(row["n"]), str(row["mae_ci"]), f"{row['median_ae']:.2f}",
                f"{row['rmse']:.2f}", f"{row['within10']:.0%}",
            ]  # fmt: skip
            if calibrated:
                cells += (
                    [f"{row['pi_coverage']:.0%}", f"{row['pi_width']:.1f}"]
                    if "pi_coverage" in row
                    else ["", ""]
                )
            if sampled:
                cells += (
                    [f"{row['band_coverage']:.0%}", f"{row['band_width']:.1f}",
                     f"{row['crps']:.2f}"]
                    if "band_coverage" in row
                    else ["", "", ""]
                )  # fmt: skip
            if baseline is not None:
                cells.append("" if p is baseline else str(diffs[rule]))
            cells.append(f"{timing.get(p.model, np.nan):.1f}" if rule == "all" else "")
            table.add_row(*cells)
    if not markdown:
        out.print(table)
        return
    heads = [str(c.header) for c in table.columns]
    print("| " + " | ".join(heads) + " |")
    print("|" + "|".join("---" for _ in heads) + "|")
    for r in range(table.row_count):
        print("| " + " | ".join(str(c._cells[r]) for c in table.columns) + " |")


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _pair_json(forecast: Path, resolutions: Path, case: str | None, scored: list[Scored],
               pending: list[str], seen: list[str]) -> dict[str, Any]:  # fmt: skip
    """One pair's scores as JSON, in the shape of a record of `standoff ledger score --json`."""
    return {
        "forecast": str(forecast),
        "resolutions": str(resolutions),
        "case": case,
        **scored_json(scored),
        "unresolved": pending,
        "observed": seen,
    }


def _overall_json(scored: list[Scored], bins: int) -> dict[str, Any]:
    """The pooled scores: the questions' means and calibration table, the scenarios' means (the
    keys of `standoff ledger score --json`'s `overall`, with the mean RPS)."""
    questions = [s for s in scored if s.kind == "question"]
    scenarios = [s for s in scored if s.kind == "scenarios"]
    return {
        "n": len(questions),
        "brier": _mean([s.brier for s in questions]),
        "log": _mean([s.log for s in questions]),
        "rps": _mean([s.rps for s in questions if s.rps is not None]),
        "scenarios": {
            "n": len(scenarios),
            "brier": _mean([s.brier for s in scenarios]),
            "log": _mean([s.log for s in scenarios]),
        },
        "calibration": [
            {k: (_rounded(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in (calibration(scored, bins) if questions else [])
        ],
    }


def _print_json(data: dict[str, Any]) -> None:
    """JSON on stdout, text as written but what would act on a terminal escaped (as `standoff
    ledger ... --json` prints it)."""
    from ..controlchars import inert_json

    text = inert_json(json.dumps(data, indent=2, ensure_ascii=False))
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")


def score_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="FORECAST.json RESOLUTIONS.yaml, and more such pairs to pool."),
    ],
    bins: BinsOpt = 5,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")
    ] = False,
) -> None:
    """Score saved crisis forecasts against what happened: Brier, log score, RPS, calibration
    (`--json`: the same on stdout, as `standoff ledger score --json` prints its scores)."""
    if len(files) % 2:
        err.print("error: give files in pairs: FORECAST.json RESOLUTIONS.yaml [...]")
        raise typer.Exit(2)
    everything = []
    pairs: list[dict[str, Any]] = []
    try:
        for forecast_path, resolution_path in zip(files[::2], files[1::2], strict=True):
            _check_order(forecast_path, resolution_path)
            forecast = read_forecast(forecast_path)
            resolutions = read_resolutions(resolution_path)
            scored = score(forecast, resolutions)
            everything += scored
            pending = unresolved(forecast, resolutions)
            seen = observed(forecast)
            if json_out:
                pairs.append(_pair_json(forecast_path, resolution_path, forecast.case,
                                        scored, pending, seen))  # fmt: skip
                continue
            table = Table("id", "forecast", "happened", "Brier", "log", "RPS",
                          title=safe(f"{forecast_path} against {resolution_path}"),
                          title_justify="left")  # fmt: skip
            for s in scored:
                shown = (f"P(yes) {s.probabilities[1]:.0%}" if s.kind == "question"
                         else f"P({s.id}) {s.probabilities[s.outcome]:.0%}")  # fmt: skip
                happened = ("yes" if s.outcome else "no") if s.kind == "question" else s.id
                table.add_row(safe(f"{s.kind}: {s.id}" if s.kind != "question" else s.id),
                              safe(shown), safe(happened), f"{s.brier:.3f}", f"{s.log:.3f}",
                              "" if s.rps is None else f"{s.rps:.3f}")  # fmt: skip
            out.print(table)
            if pending:
                out.print(safe(f"Unresolved, not scored: {', '.join(pending)}"))
            if seen:
                out.print(safe(f"Decided by the observations, not scored: {', '.join(seen)}"))
    except CaseError as e:
        raise _fail(e) from None
    if json_out:
        _print_json({
            "brier": "two-category Brier score of each question, 2 (p - outcome)^2, in [0, 2]",
            "log": "-ln p(outcome), p floored at 1e-6",
            "rps": "ranked probability score (questions: no < yes; scenarios: in "
                   "scenario_order, where the resolutions give one)",
            "overall": _overall_json(everything, bins),
            "pairs": pairs,
        })  # fmt: skip
        return
    qs = [s for s in everything if s.kind == "question"]
    if qs:
        out.print(
            f"Questions: {len(qs)}; mean Brier {np.mean([s.brier for s in qs]):.3f}, "
            f"mean log score {np.mean([s.log for s in qs]):.3f}, "
            f"mean RPS {np.mean([s.rps for s in qs if s.rps is not None]):.3f}"
        )
        cal = Table("forecast bin", "n", "mean forecast", "observed",
                    title="Calibration (questions)", title_justify="left")  # fmt: skip
        for row in calibration(everything, bins):
            if row["n"]:
                cal.add_row(f"{row['low']:.0%}–{row['high']:.0%}", str(row["n"]),
                            f"{row['forecast']:.0%}", f"{row['observed']:.0%}")  # fmt: skip
        out.print(cal)


def _check_order(forecast: Path, resolutions: Path) -> None:
    """FORECAST.json first, then RESOLUTIONS.yaml: a pair given the other way round says so."""
    yaml_first = forecast.suffix.lower() in (".yaml", ".yml")
    json_second = resolutions.suffix.lower() == ".json"
    if yaml_first or json_second:
        from ..errors import Problem

        raise CaseError(
            [
                Problem(
                    str(forecast),
                    1,
                    "(arguments)",
                    f"the files look swapped: give the forecast JSON first, then the resolutions "
                    f"YAML: standoff score {resolutions if json_second else 'FORECAST.json'} "
                    f"{forecast if yaml_first else 'RESOLUTIONS.yaml'}",
                )
            ]
        )
