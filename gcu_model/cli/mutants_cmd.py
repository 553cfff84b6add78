"""`gcu-model mutants`: the mutation score of the conformance kit (issue 6)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .common import EXIT_FAILED, UsageProblem, load, specs_option


@click.command("mutants")
@specs_option
@click.option("--mutants", "mutants_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of mutant files (default: conformance/mutants).")
@click.option("--suite", "suites", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="Suite file or directory (repeatable; default: conformance/suites).")
@click.option("--only", "names", multiple=True, metavar="NAME", help="Run only these mutants (repeatable).")
@click.option("--explore", "examples", type=click.IntRange(min=1), default=200, show_default=True, metavar="N",
              help="Lockstep examples per configuration of a mutant.")
@click.option("--no-lockstep", is_flag=True, help="Run the suites only.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def mutants_cmd(specs_dir, mutants_dir, suites, names, examples, no_lockstep, as_json):
    """Run the suites and the lockstep tests against every mutant; print the mutation score."""
    from ..conform import default_suite_dir, kit_dir
    from ..conform.mutants import MutantError, load_mutants, run_mutant
    from ..conform.suite import SuiteError, load_suite, suite_files
    from ..spec.loader import default_spec_dir
    spec = load(specs_dir)
    kit = (mutants_dir.parent if mutants_dir else kit_dir())
    try:
        mutants = load_mutants(mutants_dir or kit / "mutants")
        loaded = [load_suite(f) for f in suite_files(suites or [default_suite_dir()])]
    except (MutantError, SuiteError) as exc:
        raise UsageProblem(str(exc)) from None
    if names:
        unknown = sorted(set(names) - {m.name for m in mutants})
        if unknown:
            raise UsageProblem(f"no mutant '{unknown[0]}'; mutants: {', '.join(m.name for m in mutants)}")
        mutants = [m for m in mutants if m.name in names]
    for m in mutants:
        bad = [c for c in m.configs if c not in spec.configs]
        if bad:
            raise UsageProblem(f"{m.path}: configuration '{bad[0]}' is not in the spec")
    start = time.perf_counter()
    results = []
    for m in mutants:
        if not as_json and sys.stderr.isatty():
            click.echo(f"running {m.name} ...", err=True)
        results.append(run_mutant(m, spec, specs_dir or default_spec_dir(), kit, loaded, examples=examples,
                                  lockstep=not no_lockstep))
    seconds = time.perf_counter() - start
    need = (lambda r: r.suite_caught) if no_lockstep else (lambda r: r.caught)
    caught = sum(1 for r in results if need(r))
    score = caught / len(results) if results else 0.0
    if as_json:
        click.echo(json.dumps({"score": round(score, 4), "caught": caught, "mutants": len(results),
                               "seconds": round(seconds, 2), "results": [r.as_dict() for r in results]}, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table
        t = Table(title="mutants")
        for col in ("mutant", "reqs", "observed", "suite: case (step)", "s", "lockstep: steps", "s"):
            t.add_column(col, overflow="fold")
        for r in results:
            suite = f"{r.suite_case} ({r.suite_step})" if r.suite_caught else "[red]missed[/]"
            lock = ("-" if no_lockstep else f"{r.lockstep_steps} on {r.lockstep_config}" if r.lockstep_caught
                    else "[red]missed[/]")
            if r.error:
                suite, lock = f"[red]error[/]", r.error
            t.add_row(r.name, ",".join(r.reqs), "model" if r.model_only else "visible", suite, f"{r.suite_seconds:.2f}", lock,
                      "-" if no_lockstep else f"{r.lockstep_seconds:.2f}")
        console = Console()
        console.print(t)
        console.print(f"mutation score: {caught} of {len(results)} caught ({100 * score:.0f}%) in {seconds:.1f} s; "
                      f"{sum(not r.model_only for r in results)} by what a user sees, "
                      f"{sum(r.model_only for r in results)} only with the model's labels (model_only)", markup=False)
    if caught < len(results):
        sys.exit(EXIT_FAILED)
