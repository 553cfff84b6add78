"""The `gcu-model` command line (issue 2, item 7).

Exit status: 0 all good, 1 an invariant violated or a goal not reached, 2 bad input
(a malformed spec, an unknown configuration, a bad option). No traceback for a user
mistake: InvalidSpec and usage errors are printed as one clear message.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..spec.errors import InvalidSpec
from .conform_cmd import conform_cmd
from .docs_cmd import docs_cmd
from .export_cmd import export_cmd
from .mutants_cmd import mutants_cmd
from .prove_cmd import print_proof_failures, prove_cmd, run_proofs
from .requirements_cmd import requirements_cmd
from .runbook_cmd import lint_cmd, plan_cmd, run_cmd, shell_cmd, trace_cmd
from .serve_cmd import serve_cmd
from .serve_sysfs_cmd import serve_sysfs_cmd
from .solve_cmd import solve_cmd
from .suite_cmd import suite_cmd

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageProblem, load, pick_configs, specs_option, system_for


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gcu-model", prog_name="gcu-model")
def cli():
    """gcu-model: a formal, executable model of the Enflame GCU kernel driver."""


@cli.command("configs")
@specs_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def configs_cmd(specs_dir, as_json):
    """List the embedded configurations."""
    spec = load(specs_dir)
    rows = []
    for c in spec.configs.values():
        values = {k: _plain(c.given(k)) for k in c.values}
        rows.append({"name": c.name, "description": c.description, "values": values,
                     "initial": {k if isinstance(k, str) else f"{k[0]}.{k[1]}": list(x)
                                 for k, x in c.initial.items()}})
    if as_json:
        click.echo(json.dumps({"configs": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(title="embedded configurations")
    for col in ("config", "product", "part", "cards", "VF slots", "VMs", "description"):
        table.add_column(col)
    for r in rows:
        v = r["values"]
        table.add_row(r["name"], *(_cell(v[k]) for k in ("product", "part_number", "cards", "vf_slots", "vms")),
                      r["description"])
    Console().print(table)


def _plain(value):
    """A configuration value for JSON: sets as sorted lists, per-card lists kept."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _cell(value) -> str:
    return "/".join(map(str, value)) if isinstance(value, list) else str(value)


def _progress_explore(system, graph, quiet, max_states=None, symmetric=False):
    from ..explore.explorer import explore
    from ..explore.symmetry import Canonicalizer
    symmetry = Canonicalizer(system) if symmetric else None
    if quiet or not sys.stderr.isatty():
        return explore(system, graph=graph, max_states=max_states, symmetry=symmetry)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True,
                  console=_stderr_console()) as bar:
        task = bar.add_task(f"exploring {system.config.name}")

        def report(done, seen):
            bar.update(task, description=f"exploring {system.config.name}: {done:,} of {seen:,} states expanded")
        return explore(system, graph=graph, progress=report, max_states=max_states, symmetry=symmetry)


def _stderr_console():
    from rich.console import Console
    return Console(stderr=True)


@cli.command("check")
@specs_option
@click.option("--config", "config_names", multiple=True, metavar="NAME",
              help="Configuration or composed host to check (repeatable; default: all embedded ones).")
@click.option("--max-states", type=click.IntRange(min=1), default=None,
              help="Stop each exploration after this many states (then the check fails as truncated).")
@click.option("--prove/--no-prove", "with_proofs", default=True, show_default=True,
              help="After exploring, prove every invariant inductive with z3 (unbounded counters).")
@click.option("--symmetry/--no-symmetry", "symmetric", default=True, show_default=True,
              help="Keep one state per renaming of interchangeable cards, VFs, VMs and containers.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check_cmd(specs_dir, config_names, max_states, with_proofs, symmetric, as_json):
    """Explore each configuration, check every invariant and goal, then prove the invariants;
    check each composed host in parts (configs.yaml `composed:`)."""
    from ..explore.report import summary
    spec = load(specs_dir)
    composed = [n for n in config_names if n in spec.composed] if config_names else list(spec.composed)
    plain = [n for n in config_names if n not in spec.composed]
    if composed and not plain and config_names and not with_proofs:
        raise UsageProblem(f"{', '.join(composed)}: a composed host is checked by proofs; drop --no-prove")
    names = pick_configs(spec, plain, composed_too=True) if plain or not config_names else []
    systems = {name: system_for(spec, name) for name in names}
    static_fresh = _static_checks(spec, systems)
    results = []
    for name in names:
        system = systems[name]
        result = _progress_explore(system, graph=False, quiet=as_json, max_states=max_states, symmetric=symmetric)
        results.append(summary(result))
    proofs = run_proofs(spec, names) if with_proofs else []
    for entry, proof in zip(results, proofs):
        entry["proof"] = proof.as_dict()
        entry["ok"] = entry["ok"] and proof.ok
    hosts = _check_composed(spec, composed, as_json) if with_proofs else []
    ok = all(r["ok"] for r in results) and all(h.ok for h in hosts)
    if as_json:
        click.echo(json.dumps({"ok": ok, "static_checks": "passed" if static_fresh else "passed before (cached)",
                               "configs": results, "composed": [h.as_dict() for h in hosts]}, indent=2))
    else:
        if results:
            _print_check(results, proofs)
        _print_composed(hosts)
        if composed and not with_proofs:
            click.echo(f"note: composed host(s) {', '.join(composed)} not checked: their check is proofs (--prove)")
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


def _static_checks(spec, systems) -> bool:
    """Every configuration's static checks (ambiguous transitions, ones that never fire), unless
    this spec passed them before; a failure is the spec's error, exit 2."""
    from ..spec.static_checks import check_configurations
    try:
        return check_configurations(spec, systems)
    except InvalidSpec as exc:
        raise UsageProblem(f"invalid spec: {exc}") from None


def _check_composed(spec, names, quiet):
    from ..explore.compose import check_composed
    out = []
    for name in names:
        if not quiet and sys.stderr.isatty():
            click.echo(f"checking composed host {name} in parts ...", err=True)
        out.append(check_composed(spec, spec.composed[name]))
    return out


def _print_composed(hosts):
    """Composed hosts: the two-card exploration, the proofs over the whole host, the
    non-interference proof (explore/compose.py)."""
    if not hosts:
        return
    from rich.console import Console
    from rich.table import Table
    console = Console()
    table = Table(title="composed hosts (checked in parts)")
    for col in ("host", "grown to", "2-instance states", "held", "goals", "proven", "steps on 2", "interfere",
                "seconds"):
        table.add_column(col, justify="left" if col == "host" else "right")
    for h in hosts:
        d = h.as_dict()
        p = d["pair"]
        proven = sum(i["status"] == "proven" for i in d["proof"]["invariants"])
        table.add_row(h.name, f"{h.count} {h.family}s", f"{p['states']:,}", f"{p['invariants_held']}/{p['invariants']}",
                      f"{p['goals_reached']}/{p['goals']}", f"{proven}/{len(d['proof']['invariants'])}",
                      str(h.steps_checked), str(len(h.interference)), f"{h.seconds:.2f}")
    console.print(table)
    for h in hosts:
        for i in h.interference:
            console.print(f"[bold red]INTERFERES[/] {h.name}: {i.action} ({i.transition}) {i.status}"
                          + (f": {', '.join(i.instances)}" if i.instances else ""), highlight=False)
        if h.guards_reading_two:
            console.print(f"note {h.name}: rules that read two {h.family}s: " + ", ".join(h.guards_reading_two),
                          highlight=False, markup=False)


def _print_check(results, proofs=()):
    from rich.console import Console
    from rich.table import Table
    console = Console()
    table = Table(title="gcu-model check")
    columns = ["config", "states", "edges", "invariants held", "goals reached", "seconds"]
    if proofs:
        columns = ["config", "states", "edges", "held", "goals", "explore s", "proven", "prove s"]
    for col in columns:
        table.add_column(col, justify="right" if col != "config" else "left")
    for k, r in enumerate(results):
        held = sum(i["held"] for i in r["invariants"])
        reached = sum(g["reached"] for g in r["goals"])
        row = [r["config"], f"{r['states']:,}", f"{r['edges']:,}", f"{held}/{len(r['invariants'])}",
               f"{reached}/{len(r['goals'])}", f"{r['seconds']:.2f}"]
        if proofs:
            p = proofs[k]
            row += [f"{sum(i.status == 'proven' for i in p.invariants)}/{len(p.invariants)}", f"{p.seconds:.2f}"]
        table.add_row(*row)
    console.print(table)
    print_proof_failures(proofs, console)
    for r in results:
        for inv in r["invariants"]:
            if not inv["held"]:
                cx = inv["counterexample"]
                console.print(f"[bold red]VIOLATED[/] {r['config']}: invariant {inv['name']} "
                              f"({', '.join(inv['reqs'])}) after {len(cx['actions'])} step(s):", highlight=False)
                for k, a in enumerate(cx["actions"], 1):
                    console.print(f"  {k}. {a}", highlight=False, markup=False)
        for g in r["goals"]:
            if not g["reached"]:
                console.print(f"[bold red]UNREACHED[/] {r['config']}: goal {g['name']} ({', '.join(g['reqs'])})",
                              highlight=False)
        if r["truncated"]:
            console.print(f"[bold red]TRUNCATED[/] {r['config']}: exploration stopped at its state limit")
        if r["never_fired"]:
            console.print(f"note {r['config']}: {len(r['never_fired'])} rule(s) never fired: "
                          + ", ".join(r["never_fired"]), highlight=False, markup=False)
        if r["unreached_states"]:
            console.print(f"note {r['config']}: state(s) never entered: " + ", ".join(r["unreached_states"]),
                          highlight=False, markup=False)


@cli.command("explore")
@specs_option
@click.argument("name")
@click.option("--export", "fmt", type=click.Choice(["dot", "mermaid", "graphml", "json"]), default=None,
              help="Write the reachability graph in this format (needs --output).")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write the exported graph to.")
@click.option("--max-states", type=click.IntRange(min=1), default=None,
              help="Stop after this many states (the result is then marked truncated).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@click.option("--dump-code", "dump_code", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the generated successor function (for debugging the engine).")
@click.option("--symmetry/--no-symmetry", "symmetric", default=False, show_default=True,
              help="One node per renaming of interchangeable instances (the graph of orbit representatives).")
def explore_cmd(specs_dir, name, fmt, output, max_states, as_json, dump_code, symmetric):
    """Build the full reachability graph of one configuration."""
    from ..explore import export
    from ..explore.report import summary
    if (fmt is None) != (output is None):
        raise UsageProblem("--export and --output go together")
    spec = load(specs_dir)
    pick_configs(spec, [name])
    system = system_for(spec, name)
    result = _progress_explore(system, graph=True, quiet=as_json, max_states=max_states, symmetric=symmetric)
    data = summary(result)
    if fmt is not None:
        try:
            export.write(result, fmt, str(output))
        except OSError as exc:
            raise UsageProblem(f"cannot write {output}: {exc.strerror}") from None
        data["exported"] = {"format": fmt, "path": str(output)}
    if dump_code is not None:
        from ..explore.explorer import compiled_for
        try:
            dump_code.write_text(compiled_for(system).source, encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot write {dump_code}: {exc.strerror}") from None
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _print_check([data])
        click.echo(f"{data['graph_edges']:,} graph edges, {data['refusals']:,} refusals "
                   f"({data['refusal_kinds']} kinds), {data['deadlocks']} states with no way out, "
                   f"{data['bound_hits']:,} steps beyond the model's bounds")
        if fmt is not None:
            click.echo(f"wrote {fmt} to {output}")
    sys.exit(EXIT_OK if data["ok"] else EXIT_FAILED)


cli.add_command(docs_cmd)
cli.add_command(export_cmd)
cli.add_command(prove_cmd)
cli.add_command(solve_cmd)
cli.add_command(serve_cmd)
cli.add_command(serve_sysfs_cmd)
cli.add_command(requirements_cmd)
cli.add_command(suite_cmd)
cli.add_command(conform_cmd)
cli.add_command(mutants_cmd)
for _command in (run_cmd, lint_cmd, plan_cmd, shell_cmd, trace_cmd):
    cli.add_command(_command)


@cli.command("quantities")
@specs_option
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def quantities_cmd(specs_dir, name, as_json):
    """The values each quantity (L3 per VF, mdev and vgcu counts, ...) takes in a configuration."""
    spec = load(specs_dir)
    pick_configs(spec, [name])
    system = system_for(spec, name)
    result = _progress_explore(system, graph=False, quiet=as_json)
    seen: dict = {key: set() for key in system.quantity_terms}
    for state in result.states:
        for key, value in system.quantities(state).items():
            seen[key].add(value)
    rows = []
    for key, values in seen.items():
        family_label, qname = key.rsplit(".", 1)
        q = next(q for (f, n), q in spec.quantities.items() if n == qname)
        rows.append({"quantity": key, "values": sorted(values), "reqs": list(q.reqs), "doc": q.doc})
    if as_json:
        click.echo(json.dumps({"config": name, "states": len(result.states), "quantities": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"quantities over the {len(result.states):,} reachable states of {name}")
    for col in ("quantity", "values", "requirements", "meaning"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["quantity"], ", ".join(map(str, r["values"])), ", ".join(r["reqs"]), r["doc"])
    Console().print(table)


def entry():
    """Console-script entry: click usage errors exit 2; nothing else escapes as a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:       # usage errors, bad options, UsageProblem
        exc.show()
        sys.exit(EXIT_USAGE)
    except InvalidSpec as exc:
        click.echo(f"gcu-model: error: invalid spec: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    entry()
