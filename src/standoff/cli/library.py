"""`standoff library score`: every case of the library forecast with fixed draws and seed, and
scored against its resolution beside the baselines (registered in cli.py, loaded when named)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import Table, check_output, err, fail, out, safe, write_output
from ..defaults import DEFAULT_SEED
from .backend_options import BackendOpt, SchedulerOpt, WorkersOpt, cli_executor

if TYPE_CHECKING:
    from ..library.forecasts import LibraryCase

library_app = typer.Typer(
    name="library",
    help=(
        "The library of history: cases written as of a date before their outcome, forecast "
        "and scored against what happened.\n\n"
        "Examples:\n\n"
        "  standoff library score\n\n"
        "  standoff library score cases/library --json scores.json --figure reliability.svg"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LIBRARY_DRAWS = 4000
LIBRARY_SEED = DEFAULT_SEED  # the seed of a forecast


def default_folders() -> list[Path]:
    """The built-in cases and the built-in library."""
    from ..case.loader import builtin_dir

    root = builtin_dir()
    return [root, root / "library"]


FoldersArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Folders of cases with resolutions/ beside them (default: the built-in cases and "
        "the built-in library)."
    ),
]
SeedOpt = Annotated[int, typer.Option(min=0, help="Seed (the same for every case).")]


def _inputs(found: list[LibraryCase]) -> list[Path | str]:
    """Every file the command reads: the cases, their resolutions and the ICB tables (read by a
    case with a reference class); no output may name one."""
    from ..outside import icb

    return [
        *(c.path for c in found),
        *(c.resolution for c in found if c.resolution is not None),
        *icb.files(),
    ]


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or x != x else f"{x:.{digits}f}"


@library_app.command("score")
def score_cmd(
    folders: FoldersArg = None,
    draws: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Monte Carlo draws per case.")
    ] = LIBRARY_DRAWS,
    seed: SeedOpt = LIBRARY_SEED,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores here.")] = None,
    figure: Annotated[
        Path | None, typer.Option(help="Write the reliability diagram here (SVG).")
    ] = None,
    bins: Annotated[int, typer.Option(min=2, max=20, help="Bins of the reliability table.")] = 5,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Forecast every case of the library and score each question (Brier on the 0-1 scale, log
    score) and each case's scenarios (multi-category Brier) against what happened, beside the
    authors' rates alone (every model term frozen at its mean), the outside view and 50%."""
    from ..errors import CaseError
    from ..library.forecasts import find_cases, forecast_case
    from ..library.report import library_json, reliability_figure
    from ..library.score import score_library

    chosen = folders or default_folders()
    found = find_cases(chosen)
    inputs = _inputs(found)
    check_output(json_out, inputs)
    check_output(figure, inputs)
    resolved = [c for c in found if c.resolution is not None]
    unscored = [str(c.path) for c in found if c.resolution is None]
    if not resolved:
        raise fail(f"no case with a resolution file in {', '.join(map(str, chosen))}")
    forecasts = []
    problems = []
    with cli_executor(backend, scheduler, workers) as executor:
        for n, item in enumerate(resolved, 1):
            err.print(f"[{n}/{len(resolved)}] {safe(item.path.name)}", highlight=False)
            try:
                forecasts.append(forecast_case(item, draws, seed, executor=executor))
            except CaseError as e:
                problems.extend(e.problems)
    if problems:
        raise CaseError(problems)
    scores = score_library(
        [q for f in forecasts for q in f.questions],
        [s for f in forecasts for s in f.scenarios],
        bins=bins,
    )
    _print(scores, len(forecasts), draws, seed)
    if unscored:
        err.print(f"not scored (no resolution file): {safe(', '.join(unscored))}")
    if json_out is not None:
        import json

        data = library_json(scores, forecasts, unscored, draws, seed)
        write_output(json_out, json.dumps(data, indent=2) + "\n", inputs)
    if figure is not None:
        title = f"Library: {len(scores.questions)} questions, {len(forecasts)} cases"
        write_output(figure, reliability_figure(scores, title), inputs)


def _print(scores: object, n_cases: int, draws: int, seed: int) -> None:
    from ..library.score import LibraryScores

    assert isinstance(scores, LibraryScores)
    table = Table(
        title=f"Library: {n_cases} cases, {len(scores.questions)} questions ({draws:,} draws, "
        f"seed {seed}). Questions: Brier 0-1 (model; model terms frozen at their means; 50%; "
        "the outside view on the questions it maps). Scenarios (scen.): Brier 0-2 (model; "
        "frozen; uniform). Lower is better.",
        title_justify="left",
    )
    for column in ("case", "n", "model", "frozen", "50%", "outside", "scen.", "frozen",
                   "uniform"):  # fmt: skip
        table.add_column(column, justify="left" if column == "case" else "right",
                         overflow="fold")  # fmt: skip
    for c in scores.cases:
        qb, sb = c.question_brier, c.scenario_brier
        table.add_row(safe(c.case), str(c.questions), _f(qb.get("model")), _f(qb.get("frozen")),
                      _f(qb.get("half")), _f(qb.get("outside")), _f(sb.get("model")),
                      _f(sb.get("frozen")), _f(sb.get("uniform")))  # fmt: skip
    pb, ps = scores.pooled_question_brier, scores.pooled_scenario_brier
    table.add_row("pooled", str(len(scores.questions)), _f(pb["model"]), _f(pb["frozen"]),
                  _f(pb["half"]), "", _f(ps["model"]), _f(ps["frozen"]), _f(ps["uniform"]),
                  style="bold")  # fmt: skip
    out.print(table)
    diffs = Table(
        "score",
        "vs",
        "items",
        "model",
        "baseline",
        "difference",
        "90% interval",
        title="Paired differences, model minus baseline (90% bootstrap interval over "
        "cases; wholly below zero: the model is better)",
        title_justify="left",
    )
    for d in scores.differences:
        diffs.add_row(d.measure, d.baseline, str(d.n), _f(d.forecast_mean), _f(d.baseline_mean),
                      f"{d.mean:+.3f}", f"{d.low:+.3f} to {d.high:+.3f}")  # fmt: skip
    out.print(diffs)
    recal = scores.recalibration
    if recal is not None:
        verdict = "improves" if recal.improves else "does not improve"
        out.print(f"Logistic recalibration (logit p' = a + b logit p), fitted leave one case out: "
                  f"question Brier {recal.raw:.3f} -> {recal.brier:.3f} (90% interval of the "
                  f"difference {recal.difference.low:+.3f} to {recal.difference.high:+.3f}): it "
                  f"{verdict} the model's score. Fitted on every case: a = {recal.a:.2f}, "
                  f"b = {recal.b:.2f}.")  # fmt: skip
        frozen = scores.frozen_recalibration
        if frozen is not None:
            out.print(f"The same map fitted to the frozen forecasts: {frozen.raw:.3f} -> "
                      f"{frozen.brier:.3f}.")  # fmt: skip
        after = Table("recalibrated model vs", "items", "model", "baseline", "difference",
                      "90% interval", title="The recalibrated model against the baselines",
                      title_justify="left")  # fmt: skip
        for d in scores.recalibrated_differences:
            after.add_row(d.baseline, str(d.n), _f(d.forecast_mean), _f(d.baseline_mean),
                          f"{d.mean:+.3f}", f"{d.low:+.3f} to {d.high:+.3f}")  # fmt: skip
        out.print(after)
    rel = Table(
        "forecast bin",
        "questions",
        "mean forecast",
        "happened",
        title="Reliability of the model's question probabilities",
        title_justify="left",
    )
    for row in scores.reliability:
        rel.add_row(f"{row['low']:.0%}–{row['high']:.0%}", str(row["n"]), _f(row["forecast"], 2),
                    _f(row["observed"], 2))  # fmt: skip
    out.print(rel)


DEFAULT_PACES = "engine, 1 month, 3 months, 6 months, 1 year, every 2 months, every 3 months"
DEFAULT_ODDS = "1, 1.5, 2, 3, 4"


@library_app.command("tune")
def tune_cmd(
    folders: FoldersArg = None,
    paces: Annotated[
        str, typer.Option(help="The candidate paces of the crisis clock, separated by commas.")
    ] = DEFAULT_PACES,
    odds: Annotated[
        str, typer.Option(help="The candidate odds factors of the events, separated by commas.")
    ] = DEFAULT_ODDS,
    draws: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Monte Carlo draws per case and setting.")
    ] = LIBRARY_DRAWS,
    seed: SeedOpt = LIBRARY_SEED,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.")] = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Choose the crisis defaults (the clock's pace and the events' odds factor) leave one case
    out: each case that states neither is forecast under every candidate pair; each case is scored
    under the pair that scores best on the other cases (question Brier, 0-1); the pair best on
    every case is the one to make the default."""
    from ..compile.pace import PaceError, half_life_days
    from ..library.forecasts import Setting, find_cases, question_scores_at
    from ..library.loco import held_out, leave_one_case_out
    from ..library.report import difference_json
    from ..library.score import difference

    candidates = [p.strip() for p in paces.split(",") if p.strip()]
    for pace in candidates:
        try:
            half_life_days(pace)
        except PaceError as e:
            raise fail(f"--paces: {e}") from None
    factors = []
    for text in (t.strip() for t in odds.split(",") if t.strip()):
        try:
            value = float(text)
        except ValueError:
            raise fail(f"--odds: {text!r} is not a number") from None
        if not 0.01 <= value <= 100:
            raise fail(f"--odds: {text}: an odds factor is from 0.01 to 100")
        factors.append(value)
    if not candidates or not factors:
        raise fail("give at least one pace (--paces) and one odds factor (--odds)")
    settings = [Setting(p, f) for p in candidates for f in factors]
    chosen_folders = folders or default_folders()
    found = [c for c in find_cases(chosen_folders) if c.resolution is not None]
    inputs = _inputs(found)
    check_output(json_out, inputs)
    table: dict[str, dict[str, list[float]]] = {s.name: {} for s in settings}
    stated = []
    with cli_executor(backend, scheduler, workers) as executor:
        for n, item in enumerate(found, 1):
            err.print(f"[{n}/{len(found)}] {safe(item.path.name)}", highlight=False)
            got = question_scores_at(item, settings, draws, seed, executor)
            if got is None:
                stated.append(item.path.stem)
                continue
            for name, values in got.items():
                table[name][item.path.stem] = values
    first = settings[0].name
    if not table[first]:
        raise fail("no resolved case that leaves the defaults to the library")
    choice = leave_one_case_out(table)
    result = Table("pace", *(f"odds x{f:g}" for f in factors),
                   title=f"Question Brier on every case, in-sample ({len(table[first])} cases, "
                   f"{choice.questions} questions, {draws:,} draws)",
                   title_justify="left")  # fmt: skip
    for pace in candidates:
        result.add_row(pace, *(_f(choice.in_sample[Setting(pace, f).name]) for f in factors))
    out.print(result)
    out.print(
        f"Leave one case out: question Brier {choice.loco_brier:.3f} with each case under "
        f"the setting chosen on the others; chosen on every case: {choice.chosen}."
    )
    held, cases = held_out(table, choice)
    written = [v for c in choice.per_case for v in table[first][c]]
    differences = [
        difference(
            held, [0.25] * len(held), cases, ("question Brier", "leave one case out", "half")
        ),
        difference(held, written, cases, ("question Brier", "leave one case out", first)),
    ]
    diffs = Table("leave one case out vs", "items", "model", "baseline", "difference",
                  "90% interval", title="Paired differences, leave-one-case-out forecasts minus "
                  "baseline (90% bootstrap interval over cases)", title_justify="left")  # fmt: skip
    for d in differences:
        label = "50%" if d.baseline == "half" else f"{d.baseline} (the first candidate)"
        diffs.add_row(label, str(d.n), _f(d.forecast_mean), _f(d.baseline_mean),
                      f"{d.mean:+.3f}", f"{d.low:+.3f} to {d.high:+.3f}")  # fmt: skip
    out.print(diffs)
    picks = ", ".join(f"{safe(c)}: {p}" for c, p in choice.per_case.items())
    out.print(f"Chosen without each case: {picks}", highlight=False)
    if stated:
        out.print(f"Not used (they state their own pace or odds factor): {safe(', '.join(stated))}")
    if json_out is not None:
        import json

        data = {
            "draws": draws, "seed": seed, "paces": candidates, "odds_factors": factors,
            "in_sample_question_brier": {p: round(v, 4) for p, v in choice.in_sample.items()},
            "leave_one_case_out": {"question_brier": round(choice.loco_brier, 4),
                                   "per_case": dict(choice.per_case),
                                   "differences": [difference_json(d) for d in differences]},
            "chosen": choice.chosen, "questions": choice.questions,
            "per_case_question_brier": {p: {c: [round(v, 4) for v in vs]
                                            for c, vs in cs.items()} for p, cs in table.items()},
            "stated_own_setting": stated,
        }  # fmt: skip
        write_output(json_out, json.dumps(data, indent=2) + "\n", inputs)
