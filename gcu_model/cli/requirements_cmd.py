"""`gcu-model requirements`: the traceability matrix and the ASSUMPTION list (issue 3).

Every requirement ID with the transitions, checks, actions, invariants, goals, quantities
and tests that name it; `--uncovered` keeps the IDs of kinds B, C and Q nothing covers
(and exits 1 when there are any, for CI); `--assumptions` lists every ASSUMPTION note.
"""
from __future__ import annotations

import json
import sys

import click

from ..trace import USE_KINDS, covered, default_tests_dir, requirement_uses
from .common import EXIT_FAILED, EXIT_OK, load, specs_option

MODELLED_KINDS = ("B", "C", "Q")


@click.command("requirements")
@specs_option
@click.option("--uncovered", is_flag=True, help="Only the B, C and Q requirements nothing covers (exit 1 if any).")
@click.option("--assumptions", is_flag=True, help="List every ASSUMPTION the spec makes instead.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def requirements_cmd(specs_dir, uncovered, assumptions, as_json):
    """Print the requirement traceability matrix."""
    spec = load(specs_dir)
    if assumptions:
        _assumptions(spec, as_json)
        return
    uses = requirement_uses(spec, default_tests_dir(spec))
    rows = []
    for rid, req in spec.requirements.items():
        use = uses[rid]
        row = {"id": rid, "kind": req.kind, "section": req.section, "summary": req.summary,
               "covered": covered(use)}
        row.update({k: use[k] for k in USE_KINDS})
        rows.append(row)
    if uncovered:
        rows = [r for r in rows if not r["covered"] and r["kind"] in MODELLED_KINDS]
    if as_json:
        click.echo(json.dumps({"requirements": rows}, indent=2))
    else:
        _print(rows, uncovered)
    sys.exit(EXIT_FAILED if uncovered and rows else EXIT_OK)


def _print(rows, uncovered):
    if uncovered and not rows:
        return                          # nothing left to cover: print nothing (issue 3, Done when)
    from rich.console import Console
    from rich.table import Table
    table = Table(title="requirements not covered" if uncovered else "requirement traceability")
    for col in ("ID", "kind", "covered by"):
        table.add_column(col, overflow="fold")
    for r in rows:
        parts = [f"{k}: {', '.join(r[k])}" for k in USE_KINDS if r[k] and k != "machines"]
        table.add_row(r["id"], r["kind"], "\n".join(parts) if parts else "[red]nothing[/]")
    Console().print(table)


def _assumptions(spec, as_json):
    from ..docs.generate import assumption_owners
    owners = assumption_owners(spec)
    notes = sorted({(w.file, w.line, text) for w, text in spec.assumptions})
    rows = [{"file": f, "line": line, "attached_to": owners.get((f, line), ""), "assumption": text}
            for f, line, text in notes]
    if as_json:
        click.echo(json.dumps({"assumptions": rows}, indent=2))
        return
    for r in rows:
        click.echo(f"{r['file']}:{r['line']}: {r['attached_to']}: {r['assumption']}")
