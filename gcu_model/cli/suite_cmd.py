"""`gcu-model suite generate`: conformance suites from the reachability graph (issue 6)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..conform.coverage import CRITERIA
from .common import EXIT_FAILED, UsageProblem, load, specs_option


@click.group("suite")
def suite_cmd():
    """Generate conformance suites from the spec."""


@suite_cmd.command("generate")
@specs_option
@click.option("--config", "config_names", multiple=True, metavar="NAME",
              help="Configuration (repeatable; default: every embedded one).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write DIR/<config>.json (default: conformance/suites).")
@click.option("--criteria", default=",".join(CRITERIA),
              show_default=True, help="Comma-separated coverage criteria.")
@click.option("--check", is_flag=True, help="Write nothing; fail when a file differs from what the spec gives.")
@click.option("--symmetry", "symmetric", is_flag=True,
              help="Targets up to renaming of interchangeable instances (fewer cases; runs keep concrete names).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
def generate_cmd(specs_dir, config_names, out_dir, criteria, check, symmetric, as_json):
    """Write one suite per configuration: cases that cover every target of the criteria."""
    from ..conform import default_suite_dir
    from ..conform.generate import GenerateError, generate, render
    from ..spec.loader import default_spec_dir
    from .common import pick_configs
    chosen = tuple(c.strip() for c in criteria.split(",") if c.strip())
    bad = [c for c in chosen if c not in CRITERIA]
    if bad or not chosen:
        raise UsageProblem(f"unknown criterion '{bad[0] if bad else criteria}'; the criteria are {', '.join(CRITERIA)}")
    chosen = tuple(c for c in CRITERIA if c in chosen)
    spec = load(specs_dir)
    names = pick_configs(spec, config_names)
    out_dir = out_dir or default_suite_dir()
    rows, stale = [], []
    for name in names:
        t0 = time.perf_counter()
        try:
            doc = generate(spec, specs_dir or default_spec_dir(), name, chosen, symmetric=symmetric)
        except GenerateError as exc:
            raise click.ClickException(f"{name}: {exc}") from None
        text = render(doc)
        path = out_dir / f"{name}.json"
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageProblem(f"cannot write {path}: {exc.strerror}") from None
        rows.append({"config": name, "file": str(path), "cases": len(doc["cases"]),
                     "steps": sum(len(c["steps"]) for c in doc["cases"]), "coverage": doc["coverage"],
                     "unreachable": doc["unreachable"], "seconds": round(time.perf_counter() - t0, 2)})
    if as_json:
        click.echo(json.dumps({"suites": rows, "stale": stale, "check": check}, indent=2))
    else:
        _table(rows, chosen)
        for path in stale:
            click.echo(f"stale: {path} (run gcu-model suite generate)", err=True)
    if stale:
        sys.exit(EXIT_FAILED)


def _table(rows, criteria):
    from rich.console import Console
    from rich.table import Table
    table = Table(title="conformance suites: targets covered (and how many)")
    for col in ("config", "cases", "steps", *criteria, "s"):
        table.add_column(col, justify="left" if col == "config" else "right", no_wrap=True)
    for r in rows:
        cov = r["coverage"]
        table.add_row(r["config"], str(r["cases"]), str(r["steps"]),
                      *(_percent(cov[c]) for c in criteria), f"{r['seconds']:.1f}")
    Console().print(table)
    for r in rows:
        un = r["unreachable"]
        if un["transitions"] or un["machine_states"]:
            Console().print(f"{r['config']}: never reachable here (the exploration is exhaustive): "
                            + ", ".join(un["transitions"] + un["machine_states"]), markup=False, highlight=False)


def _percent(c) -> str:
    if not c["targets"]:
        return "-"
    share = 100 * c["covered"] / c["targets"]
    return f"{share:.0f}% of {c['targets']}"
