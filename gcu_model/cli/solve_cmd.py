"""`gcu-model solve`: the configuration solver (issue 4, item 1).

    gcu-model solve --check 'sudo ./enflame-xxx.run --with-vgcu' --product S60
    gcu-model solve --goal 'vgcu_count == 4' --product I20
    gcu-model solve --all

Exit status: 0 when the set-up is legal on every matching host (--check), possible on
some host (--goal), or always (--all); 1 otherwise; 2 for bad input.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .common import EXIT_FAILED, EXIT_OK, UsageProblem, load, specs_option


@click.command("solve")
@specs_option
@click.option("--check", "setup", metavar="SETUP",
              help="A set-up to judge: command lines (newline, ';' or '&&' separated), or @FILE.")
@click.option("--goal", "goal", metavar="EXPR",
              help="An expression over the host's state and quantities, e.g. 'vgcu_count == 4'.")
@click.option("--all", "list_all", is_flag=True, help="Every valid configuration, and the hosts with none.")
@click.option("--product", default=None, help="T20, I20 or S60 (default: every product).")
@click.option("--part-number", "part_number", default=None, help="S60 part number (default: both).")
@click.option("--fact", "facts", multiple=True, metavar="NAME=VALUE",
              help="Another fact of the host, e.g. platform=emulation, arch_64bit=false (repeatable).")
@click.option("--max-steps", type=click.IntRange(min=1, max=8), default=4, show_default=True,
              help="Longest set-up --goal searches.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def solve_cmd(specs_dir, setup, goal, list_all, product, part_number, facts, max_steps, as_json):
    """Judge a set-up, find one for a goal, or list every valid configuration (z3)."""
    from ..solve import queries
    from ..solve.space import SpaceError, parse_fact
    if sum(x is not None and x is not False for x in (setup, goal, list_all or None)) != 1:
        raise UsageProblem("give exactly one of --check SETUP, --goal EXPR, --all")
    spec = load(specs_dir)
    if spec.solver is None:
        raise UsageProblem("the spec has no 'solver:' section in configs.yaml")
    fixed = {}
    try:
        for name, value in (("product", product), ("part_number", part_number)):
            if value is not None:
                fixed[name] = parse_fact(spec, name, value)
        for item in facts:
            if "=" not in item:
                raise UsageProblem(f"--fact wants NAME=VALUE, got '{item}'")
            name, value = item.split("=", 1)
            fixed[name.strip()] = parse_fact(spec, name.strip(), value.strip())
        if setup is not None:
            answers = queries.check(spec, _read_setup(setup), fixed)
            ok = all(a.valid for a in answers)
            data = {"query": "check", "ok": ok, "hosts": [a.as_dict() for a in answers]}
        elif goal is not None:
            answers = queries.goal(spec, goal, fixed, max_steps)
            ok = any(a.possible for a in answers)
            data = {"query": "goal", "goal": goal, "ok": ok, "hosts": [a.as_dict() for a in answers]}
        else:
            data = {"query": "all", "ok": True} | queries.all_configs(spec, fixed)
            ok = True
    except (SpaceError, queries.QueryError) as exc:
        raise UsageProblem(str(exc)) from None
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _print(data)
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


def _read_setup(setup: str) -> str:
    if setup.startswith("@"):
        path = Path(setup[1:])
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot read {path}: {exc.strerror}") from None
    return setup


def _why(reason: dict) -> list:
    lines = []
    for c in reason.get("checks", []):
        lines.append(f"    {c['errno']} {c['message']}  [{', '.join(c['reqs'])}]  ({c['check']})")
    if reason.get("note"):
        lines.append(f"    {reason['note']}")
    return lines


def _print(data):
    out = []
    if data["query"] == "check":
        for h in data["hosts"]:
            out.append(f"{h['host']}: {'valid' if h['valid'] else 'INVALID'}")
            for s in h["steps"]:
                mark = {"accepted": "ok     ", "refused": "REFUSED", "not reached": "-      "}[s["outcome"]]
                out.append(f"  {mark} {s['command']}")
            if not h["valid"]:
                out.append(f"  forbidden by {', '.join(h['forbidden_by']['reqs']) or 'the model'}:")
                out.extend(_why(h["forbidden_by"]))
    elif data["query"] == "goal":
        for h in data["hosts"]:
            if h["possible"]:
                out.append(f"{h['host']}: {len(h['commands'])} command(s)")
                out.extend(f"  {c}" for c in h["commands"] or ["(already true)"])
            else:
                reqs = h["impossible_because"]["reqs"]
                out.append(f"{h['host']}: impossible" + (f" ({', '.join(reqs)})" if reqs else ""))
                out.extend(_why(h["impossible_because"]))
    else:
        out.append(f"{len(data['valid'])} valid configuration(s):")
        for v in data["valid"]:
            what = [f"mode {v['mode']}"] + ([f"vgcu_num {v['vgcu_num']}"] if v["vgcu_num"] else [])
            what += [f"{v['numvfs']} VF(s), {v['l3_per_vf_mb']} MB L3 each"] if v["numvfs"] else []
            what += [f"{v['vgcu_nodes']} vgcu node(s)"] if v["vgcu_nodes"] else []
            what += [f"{v['mdevs']} mdev(s)"] if v["mdevs"] else []
            out.append(f"  {v['host']}: {', '.join(what)}")
            out.extend(f"      {c}" for c in v["commands"])
        for inv in data["invalid"]:
            out.append(f"no valid set-up on {inv['host']}: {', '.join(inv['forbidden_by']['reqs'])}")
            out.extend(_why(inv["forbidden_by"]))
    click.echo("\n".join(out))
