"""`gcu-model prove`: the invariants proven inductive with z3, per configuration (issue 4)."""
from __future__ import annotations

import difflib
import json
import sys

import click

from .common import EXIT_FAILED, EXIT_OK, UsageProblem, load, specs_option


def run_proofs(spec, names, invariants=None) -> list:
    from ..prove.induction import prove
    from ..spec.errors import InvalidSpec
    try:
        return [prove(spec, name, invariants) for name in names]
    except InvalidSpec as exc:
        raise UsageProblem(f"invalid spec: {exc}") from None


def check_invariant_names(spec, names):
    known = sorted({p.name for p in spec.properties if p.kind == "invariant"})
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageProblem(f"unknown invariant '{name}'{hint}")


def print_proofs(proofs, console=None):
    from rich.console import Console
    from rich.table import Table
    console = console or Console()
    table = Table(title="gcu-model prove (z3, induction)")
    for col in ("config", "proven", "bit facts", "steps", "z3 queries", "seconds"):
        table.add_column(col, justify="left" if col == "config" else "right")
    for p in proofs:
        proven = sum(i.status == "proven" for i in p.invariants)
        bits = sum(b.status == "proven" for b in p.bit_facts)
        table.add_row(p.config, f"{proven}/{len(p.invariants)}", f"{bits}/{len(p.bit_facts)}" if p.bit_facts else "-",
                      str(p.steps), str(p.queries), f"{p.seconds:.2f}")
    console.print(table)
    print_proof_failures(proofs, console)


def print_proof_failures(proofs, console):
    for p in proofs:
        for fact in p.bit_facts:
            if fact.status in ("refuted", "unknown"):
                cx = fact.counterexample or {}
                where = f" at BAR0 offset {cx['address']} (secured register {cx['other']})" if cx else ""
                console.print(f"[bold red]{fact.status.upper()}[/] {p.config}: bit-level fact '{fact.name}' "
                              f"({', '.join(fact.reqs)}){where}", highlight=False)
        for inv in p.invariants + [p.domain] + [f for f in p.bit_facts if hasattr(f, "cti")]:
            if inv.status == "proven":
                continue
            reqs = f" ({', '.join(inv.reqs)})" if inv.reqs else ""
            if inv.status == "violated":
                console.print(f"[bold red]VIOLATED[/] {p.config}: {inv.name}{reqs}: reachable in "
                              f"{len(inv.trace['actions'])} step(s):", highlight=False)
                for k, a in enumerate(inv.trace["actions"], 1):
                    console.print(f"  {k}. {a}", highlight=False, markup=False)
            elif inv.status == "not_inductive":
                console.print(f"[bold yellow]NOT INDUCTIVE[/] {p.config}: {inv.name}{reqs}: the bounded check "
                              "finds no violation; strengthen it (or add a lemma). Counterexample to induction:",
                              highlight=False)
            else:
                console.print(f"[bold red]UNKNOWN[/] {p.config}: {inv.name}: z3 gave no answer in time",
                              highlight=False)
            if inv.cti is not None:
                changed = ", ".join(f"{k}: {a} -> {b}" for k, (a, b) in inv.cti.changes.items())
                console.print(f"  from a state where the invariants hold, {inv.cti.action} "
                              f"({inv.cti.rule}) changes {changed or 'nothing'}", highlight=False, markup=False)


@click.command("prove")
@specs_option
@click.option("--config", "config_names", multiple=True, metavar="NAME",
              help="Configuration to prove (repeatable; default: all embedded ones).")
@click.option("--invariant", "invariants", multiple=True, metavar="NAME",
              help="Prove only this invariant (repeatable); the others are still assumed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def prove_cmd(specs_dir, config_names, invariants, as_json):
    """Prove every invariant inductive with z3; tell real violations from weak invariants."""
    from .common import pick_configs
    spec = load(specs_dir)
    names = pick_configs(spec, config_names)
    check_invariant_names(spec, invariants)
    proofs = run_proofs(spec, names, list(invariants) or None)
    ok = all(p.ok for p in proofs)
    if as_json:
        click.echo(json.dumps({"ok": ok, "configs": [p.as_dict() for p in proofs]}, indent=2))
    else:
        print_proofs(proofs)
    sys.exit(EXIT_OK if ok else EXIT_FAILED)
