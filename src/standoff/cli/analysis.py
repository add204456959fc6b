"""`standoff sensitivity` and `standoff ablate`: what drives a crisis forecast, by the method of
Morris over the uncertain inputs, and by the model-derived terms of its formulas frozen at their
means."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import Table, check_output, fail, out, safe
from .app import app
from .backend_options import BackendOpt, SchedulerOpt, WorkersOpt, cli_executor
from .common import (
    ProgressBar,
    input_files,
    load_case,
    observations_of,
    refuse_too_big,
    write_json,
)
from .options import (
    DEFAULT_CASE,
    DEFAULT_DRAWS,
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    DEFAULT_TRAJECTORIES,
    CaseArg,
)


@app.command()
def sensitivity(
    case: CaseArg = DEFAULT_CASE,
    trajectories: Annotated[
        int, typer.Option(min=2, help="Morris trajectories.")
    ] = DEFAULT_TRAJECTORIES,
    replicates: Annotated[
        int, typer.Option(min=1, help="Histories per design point.")
    ] = DEFAULT_REPLICATES,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = DEFAULT_SEED,
    top: Annotated[int, typer.Option(min=1, help="Drivers shown per scenario.")] = 5,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write all drivers here.")] = None,
    observed: Annotated[
        Path | None,
        typer.Option(help="Screen the forecast conditioned on these observations (YAML)."),
    ] = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """The drivers of each scenario's probability (method of Morris, SALib), for quick checks."""
    from ..pipeline.sensitivity import morris
    from ..serialize import drivers_json

    compiled = load_case(case)
    if compiled.crisis is None:
        raise fail(f"{case}: sensitivity needs a crisis case (scenarios with rules)")
    seen = observations_of(observed)
    inputs = input_files(compiled, case, observed)
    check_output(json_out, inputs)
    refuse_too_big(compiled, trajectories=trajectories, replicates=replicates)
    with cli_executor(backend, scheduler, workers) as executor, ProgressBar(True) as progress:
        result = morris(
            compiled, trajectories, replicates, seed, executor=executor, progress=progress,
            observed=seen,
        )  # fmt: skip
    if json_out:
        write_json(json_out, drivers_json(result), inputs)
    table = Table(title=f"Drivers ({result.evaluations} design points x {replicates} histories)",
                  title_justify="left")  # fmt: skip
    for column in ("scenario", "input", "μ* (points)", "μ (points)"):
        table.add_column(column)
    for rule in compiled.crisis.scenarios:
        for n, d in enumerate(result.for_target(rule.id)[:top]):
            table.add_row(safe(rule.id) if n == 0 else "", safe(d.label),
                          f"{100 * d.mu_star:.1f}", f"{100 * d.mu:+.1f}")  # fmt: skip
    out.print(table)


@app.command()
def ablate(
    case: CaseArg = DEFAULT_CASE,
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws.")] = DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = DEFAULT_SEED,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the ablation here.")
    ] = None,
    each: Annotated[
        bool, typer.Option("--each", help="Also freeze each term alone (one more run a term).")
    ] = False,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """How much the models drive a crisis: each scenario with every model-derived term of the
    formulas (sees, eu, threat, prevails, gap, position, game) replaced by its mean."""
    from ..pipeline.ablation import ablation
    from ..serialize import num

    compiled = load_case(case)
    if compiled.crisis is None:
        raise fail(f"{case}: an ablation needs a crisis case (events with formulas)")
    inputs = input_files(compiled, case)
    check_output(json_out, inputs)
    refuse_too_big(compiled, draws=draws, runs=2)
    with cli_executor(backend, scheduler, workers) as executor, ProgressBar(True) as progress:
        result = ablation(compiled, draws, seed, executor=executor, progress=progress, each=each)
    table = Table(title=f"Ablation ({draws:,} draws, seed {seed}): model-derived terms at their "
                  "means", title_justify="left")  # fmt: skip
    for column in ("scenario", "as forecast", "terms at their means", "change (points)",
                   "across input draws: as forecast", "terms at their means"):  # fmt: skip
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for base, flat in zip(result.baseline, result.ablated, strict=True):
        b, f = base.probability, flat.probability
        table.add_row(safe(base.id), f"{b.p:.1%}", f"{f.p:.1%}", change(f.p - b.p),
                      f"{b.low:.0%} – {b.high:.0%}", f"{f.low:.0%} – {f.high:.0%}")  # fmt: skip
    out.print(table)
    terms = Table("term", "mean", "range", title="Model-derived terms", title_justify="left")
    for term in result.terms:
        terms.add_row(safe(term.call), f"{term.mean:.3g}", f"{term.low:.3g} – {term.high:.3g}")
    out.print(terms)
    if each:
        alone = Table("term", title="Each term alone at its mean: change (points)",
                      title_justify="left")  # fmt: skip
        for scenario in result.baseline:
            alone.add_column(safe(scenario.id), justify="right")
        for term in result.terms:
            alone.add_row(safe(term.call), *(change(a.probability.p - b.probability.p)
                          for a, b in zip(term.alone, result.baseline, strict=True)))  # fmt: skip
        out.print(alone)
    if json_out:
        data = {
            "case": compiled.case.id, "draws": draws, "seed": seed,
            "scenarios": {
                base.id: {
                    "p": num(base.probability.p), "ablated": num(flat.probability.p),
                    "interval": [num(base.probability.low), num(base.probability.high)],
                    "ablated_interval": [num(flat.probability.low), num(flat.probability.high)],
                }
                for base, flat in zip(result.baseline, result.ablated, strict=True)
            },
            "terms": {t.call: {"mean": num(t.mean), "low": num(t.low), "high": num(t.high),
                               **({"alone": {s.id: num(s.probability.p) for s in t.alone}}
                                  if each else {})}
                      for t in result.terms},
        }  # fmt: skip
        write_json(json_out, data, inputs)


def change(x: float) -> str:
    """A change in probability in points, signed, a rounded zero without a sign's minus: +0.0."""
    return f"{round(100 * x, 1) + 0.0:+.1f}"
