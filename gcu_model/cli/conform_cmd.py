"""`gcu-model conform`: run the generated suites, or lockstep property tests, against a
target (issue 6)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .common import EXIT_FAILED, UsageProblem, load, specs_option


@click.command("conform")
@specs_option
@click.option("--target", "target_desc", required=True, metavar="TARGET",
              help="reference, python:MODULE:FACTORY, exec:COMMAND or sysfs:ROOT.")
@click.option("--suite", "suites", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="Suite file or directory (repeatable; default: conformance/suites).")
@click.option("--config", "config_names", multiple=True, metavar="NAME",
              help="Only these configurations (repeatable).")
@click.option("--explore", "examples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Instead of the suites, run N lockstep property-test examples per configuration.")
@click.option("--steps", "max_steps", type=click.IntRange(min=1), default=30, show_default=True,
              help="Lockstep: at most this many steps per example.")
@click.option("--seed", type=int, default=None, help="Lockstep: a fixed seed (reproducible runs).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds an exec: target may take to answer one request.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write JUnit XML here.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-v", "--verbose", is_flag=True, help="List every case, passed ones too.")
def conform_cmd(specs_dir, target_desc, suites, config_names, examples, max_steps, seed, timeout, junit_file,
                as_json, verbose):
    """Check a target against the model: every case of the suites, or random lockstep runs."""
    from ..adapters.targets import TargetError, UsageError, open_target
    spec = load(specs_dir)
    try:
        target = open_target(target_desc, spec, timeout=timeout)
    except UsageError as exc:
        raise UsageProblem(str(exc)) from None
    except TargetError as exc:
        raise UsageProblem(f"target {target_desc}: {exc}") from None
    try:
        if examples is not None:
            from .common import pick_configs
            names = pick_configs(spec, config_names)
            ok = _lockstep(spec, target, names, examples, max_steps, seed, as_json)
        else:
            ok = _suites(spec, target, suites, config_names, junit_file, as_json, verbose)
    finally:
        target.close()
    if not ok:
        sys.exit(EXIT_FAILED)


def _suites(spec, target, suites, config_names, junit_file, as_json, verbose) -> bool:
    from ..conform import default_suite_dir
    from ..conform.runner import Runner, describe_failure, junit_xml, requirement_table
    from ..conform.suite import SuiteError, load_suite, suite_files
    try:
        files = suite_files(suites or [default_suite_dir()])
        loaded = [load_suite(f) for f in files]
    except SuiteError as exc:
        raise UsageProblem(str(exc)) from None
    if config_names:
        unknown = sorted(set(config_names) - {s.config for s in loaded})
        if unknown:
            raise UsageProblem(f"no suite for configuration '{unknown[0]}'; suites: "
                               f"{', '.join(s.config for s in loaded)}")
        loaded = [s for s in loaded if s.config in config_names]
    for s in loaded:
        if s.config not in spec.configs:
            raise UsageProblem(f"{s.path}: configuration '{s.config}' is not in the spec")
    runner = Runner(target)
    results, per_config = [], []
    start = time.perf_counter()
    progress = _progress(sum(len(s.cases) for s in loaded), quiet=as_json)
    for s in loaded:
        t0 = time.perf_counter()
        rs = []
        for case in s.cases:
            rs.append(runner.run_case(case))
            progress.advance()
        results.extend(rs)
        per_config.append({"config": s.config, "file": str(s.path), "cases": len(rs),
                           "passed": sum(r.passed for r in rs), "failed": sum(not r.passed for r in rs),
                           "steps": sum(r.steps for r in rs), "seconds": round(time.perf_counter() - t0, 3)})
    progress.stop()
    seconds = time.perf_counter() - start
    table = requirement_table(results)
    ok = all(r.passed for r in results)
    if junit_file is not None:
        junit_file.write_text(junit_xml(results, target.name), encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"target": target.name, "ok": ok, "seconds": round(seconds, 3),
                               "observations_compared": bool(runner.can_observe),
                               "configs": per_config, "requirements": table,
                               "cases": [r.as_dict() for r in results]}, indent=2))
        return ok
    from rich.console import Console
    from rich.table import Table
    console = Console()
    if runner.can_observe is False:
        console.print(f"[yellow]note:[/] {target.name} does not answer observe ({runner.observe_note}); "
                      "only outcomes were compared")
    if verbose:
        for r in results:
            console.print(f"{'PASS' if r.passed else 'FAIL'} {r.case_id} ({r.steps} steps)", markup=False)
    t = Table(title=f"conformance of {target.name}")
    for col in ("config", "cases", "passed", "failed", "steps", "s"):
        t.add_column(col, justify="left" if col == "config" else "right")
    for row in per_config:
        t.add_row(row["config"], str(row["cases"]), str(row["passed"]),
                  f"[red]{row['failed']}[/]" if row["failed"] else "0", str(row["steps"]), f"{row['seconds']:.2f}")
    console.print(t)
    rt = Table(title="by requirement")
    for col in ("requirement", "cases", "passed", "failed"):
        rt.add_column(col, justify="left" if col == "requirement" else "right")
    for req, row in table.items():
        rt.add_row(req, str(row["cases"]), str(row["passed"]), f"[red]{row['failed']}[/]" if row["failed"] else "0")
    console.print(rt)
    for r in results:
        if not r.passed:
            click.echo(describe_failure(r))
    failed = sum(not r.passed for r in results)
    console.print(f"{len(results) - failed} of {len(results)} cases passed in {seconds:.1f} s", markup=False)
    return ok


class _progress:
    """A rich progress bar on a terminal, nothing elsewhere."""

    def __init__(self, total, quiet):
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
            self.bar = Progress(BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                                console=Console(stderr=True))
            self.task = self.bar.add_task("cases", total=total)
            self.bar.start()

    def advance(self):
        if self.bar is not None:
            self.bar.advance(self.task)

    def stop(self):
        if self.bar is not None:
            self.bar.stop()


def _lockstep(spec, target, names, examples, max_steps, seed, as_json) -> bool:
    from ..conform.lockstep import run_lockstep
    from ..conform.runner import describe_failure
    results = [run_lockstep(spec, name, target, examples=examples, max_steps=max_steps, seed=seed)
               for name in names]
    ok = all(r.passed for r in results)
    if as_json:
        click.echo(json.dumps({"target": target.name, "ok": ok, "lockstep": [r.as_dict() for r in results]},
                              indent=2))
        return ok
    for r in results:
        if r.passed:
            click.echo(f"PASS {r.config}: {r.examples} examples, {r.steps} steps, {r.seconds:.1f} s")
        else:
            click.echo(f"FAIL {r.config}: after {r.examples} examples; shrunk to {len(r.failure.prefix)} steps")
            click.echo(describe_failure(r.failure))
    return ok
