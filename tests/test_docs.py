"""Generated docs: current, complete, and moved by a one-guard edit (design.md "Layout": CI
checks that the generated pages are up to date; "One source of truth": a change to one
guard changes the docs with no second edit). Also: docs/json-output.md keeps up with the
keys `check --json` prints.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcu_model.cli.docs_cmd import docs_cmd
from gcu_model.trace import test_requirements as marked_tests
from gcu_model.cli.main import cli
from gcu_model.docs.generate import MARK, PAGES, generate, write
from gcu_model.spec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "generated"
JSON_DOC = ROOT / "docs" / "json-output.md"


@pytest.fixture(scope="module")
def pages(spec):
    return generate(spec)


def run_docs(args):
    """`gcu-model docs ARGS` in process: (exit status, output)."""
    result = CliRunner().invoke(docs_cmd, args)
    return result.exit_code, result.output


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| ")]


# ------------------------------------------------------------ (a) committed pages are current
def test_committed_pages_are_what_the_spec_generates(pages, tmp_path):
    write(pages, tmp_path)
    for name in PAGES:
        assert (COMMITTED / name).is_file(), f"docs/generated/{name} is missing: run `gcu-model docs`"
        assert (COMMITTED / name).read_bytes() == (tmp_path / name).read_bytes(), \
            f"docs/generated/{name} is out of date: run `gcu-model docs`"


def test_docs_check_passes_on_the_committed_tree():
    if "docs" in cli.commands:      # registered in cli/main.py: run it as a user would
        proc = subprocess.run([sys.executable, "-m", "gcu_model", "docs", "--check", "--out", str(COMMITTED)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        status, output = proc.returncode, proc.stdout + proc.stderr
    else:
        status, output = run_docs(["--check", "--out", str(COMMITTED)])
    assert status == 0, output
    assert "up to date" in output


def test_pages_are_deterministic_and_marked(spec, pages):
    again = generate(load_spec(spec.root))
    assert again == pages
    from gcu_model.docs.operations import DOT_MARK
    for name, text in pages.items():
        assert text.startswith((DOT_MARK if name.endswith(".dot") else MARK) + "\n"), name
        assert text.endswith("\n") and not text.endswith("\n\n"), name


# ------------------------------------------------------------ (b) assumptions
def test_every_assumption_is_listed_once_with_its_owner(spec, pages):
    rows = table_rows(pages["assumptions.md"])[1:]          # past the header row
    notes = {(w.file, w.line, text) for w, text in spec.assumptions}
    assert len(rows) == len(notes)                          # a guard block used twice is listed once
    for file, line, text in notes:
        hits = [r for r in rows if r.startswith(f"| {file}:{line} |")]
        assert len(hits) == 1, f"{file}:{line} not listed"
        where, owner, shown = (c.strip() for c in hits[0].strip("|").split(" | "))
        assert shown == " ".join(text.split()).replace("|", "\\|")
        assert owner, f"{file}:{line}: no owner found for the assumption"


def test_assumption_owners_name_the_rule(spec, pages):
    rows = table_rows(pages["assumptions.md"])
    for t in spec.transitions:
        if t.assumption:
            assert any(f"| transition {t.id} |" in r for r in rows), t.id


# ------------------------------------------------------------ (c) traceability
def test_every_requirement_has_a_row(spec, pages):
    rows = table_rows(pages["traceability.md"])
    for rid, r in spec.requirements.items():
        assert sum(row.startswith(f"| {rid} | {r.kind} |") for row in rows) == 1, rid


def test_every_named_guard_check_is_traced_to_its_ids(spec, pages):
    rows = {row.split(" | ")[0][2:]: row for row in table_rows(pages["traceability.md"])}
    for t in spec.transitions:
        for k, c in enumerate(t.checks, 1):
            for rid in c.reqs:
                assert f"{t.id} guard {k}" in rows[rid], (rid, t.id, k)
        for rid in t.reqs:
            assert t.id in rows[rid], (rid, t.id)


def test_uncovered_behaviour_ids_are_exactly_those_nothing_names(spec, pages):
    named = set()
    for t in spec.transitions:
        named.update(t.reqs, *(c.reqs for c in t.checks))
    for a in spec.actions.values():
        named.update(a.reqs, *(c.reqs for c in a.checks))
    for p in spec.properties:
        named.update(p.reqs)
    for q in spec.quantities.values():
        named.update(q.reqs)
    for _, reqs in marked_tests(Path(__file__).parent):
        named.update(reqs)
    expected = [rid for rid, r in spec.requirements.items() if r.kind == "B" and rid not in named]
    section = pages["traceability.md"].split("## Behaviour requirements not covered yet", 1)[1]
    assert re.findall(r"^- ([A-Z]+-\d+) ", section, re.M) == expected


# ------------------------------------------------------------ machines.md
def test_each_machine_has_a_clean_diagram_and_every_transition(spec, pages):
    text = pages["machines.md"]
    for m in spec.machines.values():
        section = text.split(f"\n## {m.name}\n", 1)[1].split("\n## ", 1)[0]
        diagram = section.split("```mermaid\n", 1)[1].split("```", 1)[0]
        assert diagram.startswith("stateDiagram-v2\n")
        assert "classDef" not in diagram and "Class " not in diagram and "---" not in diagram
        assert f"[*] --> {m.initial[0]}" in diagram
        for t in m.transitions:
            assert t.trigger in diagram, t.id
            assert f"| `{t.id}` |" in section, t.id


# ------------------------------------------------------------ (d) one guard edit
def test_editing_one_guard_errno_makes_check_report_machines_md(spec, spec_copy, tmp_path):
    old = tmp_path / "old"
    write(generate(load_spec(spec_copy)), old)     # the copy has no tests/ beside it: same traceability
    check = next(c for t in spec.transitions for c in t.checks if c.errno != "EIO")
    path = spec_copy / "machines" / Path(check.where.file).name
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i in range(check.where.line - 1, len(lines)) if f"errno: {check.errno}" in lines[i])
    lines[at] = lines[at].replace(f"errno: {check.errno}", "errno: EIO", 1)
    path.write_text("\n".join(lines), encoding="utf-8")

    status, output = run_docs(["--specs", str(spec_copy), "--out", str(old), "--check"])
    assert status == 1, output
    reported = [line for line in output.splitlines() if ": " in line and line.split(": ")[0] in
                ("differs", "missing", "stale")]
    # the machine reference, the state-by-state operations and the protocol's action table show the errno
    assert reported == [f"differs: {old / 'machines.md'}", f"differs: {old / 'operations.md'}",
                        f"differs: {old / 'protocol.md'}"], reported
    assert "else EIO" in generate(load_spec(spec_copy))["machines.md"]


def test_check_reports_missing_and_stale_pages_and_write_fixes_them(spec, tmp_path):
    write(generate(spec), tmp_path)
    (tmp_path / "configs.md").unlink()
    (tmp_path / "old-page.md").write_text(MARK + "\nleft over\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("hand-written\n", encoding="utf-8")
    status, output = run_docs(["--out", str(tmp_path), "--check", "--json"])
    assert status == 1
    report = json.loads(output)
    assert report["ok"] is False
    statuses = {p["page"]: p["status"] for p in report["pages"]}
    assert {k: v for k, v in statuses.items() if not k.startswith("dot/")} == {
        "assumptions.md": "current", "traceability.md": "current", "machines.md": "current",
        "configs.md": "missing", "operations.md": "current", "resets.md": "current", "matrix.md": "current",
        "protocol.md": "current", "old-page.md": "stale"}
    assert {v for k, v in statuses.items() if k.startswith("dot/")} == {"current"}
    status, output = run_docs(["--out", str(tmp_path)])
    assert status == 0, output
    assert not (tmp_path / "old-page.md").exists() and (tmp_path / "notes.md").exists()
    assert run_docs(["--out", str(tmp_path), "--check"])[0] == 0


def test_bad_input_exits_2_with_one_line(tmp_path):
    not_a_dir = tmp_path / "file.md"
    not_a_dir.write_text("x", encoding="utf-8")
    for args in (["--specs", str(tmp_path / "nowhere")], ["--out", str(not_a_dir)]):
        status, output = run_docs(args)
        assert status == 2, output
        assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output


# ------------------------------------------------------------ (e) json-output.md
def _json(*args):
    proc = subprocess.run([sys.executable, "-m", "gcu_model", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_json_doc_names_every_key_check_prints():
    doc = JSON_DOC.read_text(encoding="utf-8")
    data = _json("check", "--json", "--config", "s60-2card")
    entry = data["configs"][0]
    keys = set(data) | set(entry) | set(entry["invariants"][0]) | set(entry["goals"][0])
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not missing, f"docs/json-output.md does not describe {missing}"


def test_json_doc_names_every_key_configs_and_explore_print():
    doc = JSON_DOC.read_text(encoding="utf-8")
    configs = _json("configs", "--json")
    explored = _json("explore", "s60-2card", "--json")
    keys = set(configs) | set(configs["configs"][0]) | set(explored)
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not missing, f"docs/json-output.md does not describe {missing}"


def test_operations_and_resets_pages_say_what_each_state_allows(pages):
    """Issue 7: per state, the allowed and refused operations with errno; the reset ladder;
    a DOT graph per machine."""
    ops = pages["operations.md"]
    installed = ops.split("### kmd in `installed`")[1].split("###")[0]
    loaded = ops.split("### kmd in `loaded`")[1].split("###")[0]
    assert "| `rmmod` | refused: ENOENT | rmmod: ERROR: Module enflame is not currently loaded |" in installed
    rmmod = next(line for line in loaded.splitlines() if line.startswith("| `rmmod` |"))
    assert "allowed: `kmd.rmmod#1` → installed" in rmmod and "EBUSY unless `host.peermem != 'loaded'`" in rmmod
    resets = pages["resets.md"]
    assert "vf_flr --> pf_flr: not ok and origin == 'host'" in resets and "hot --> dead: not ok" in resets
    assert '"idle" -> "vf_flr" [label="efsmi_vf_flr"];' in pages["dot/reset.dot"]


def test_matrix_page_lists_valid_and_forbidden_configurations(pages):
    matrix = pages["matrix.md"]
    assert "| S60 " in matrix and "virt_host" in matrix and "sudo ./enflame-xxx.run --virt-host" in matrix
    assert "enable Above 4G decoding in the BIOS (PROD-2)" in matrix


def test_protocol_page_is_the_vocabulary_an_implementation_must_understand(spec, pages):
    """Issue 7: the adapter protocol reference, generated: configurations and initial choices,
    every action with the errnos the spec may refuse it with, RAS blocks, labels, sysfs files."""
    from gcu_model.docs.protocol import refusal_errnos
    page = pages["protocol.md"]
    assert "| `i20-firewall` |" in page and "`card0.fw`: off, on" in page
    for action in spec.actions.values():
        assert f"| `{action.name}(" in page, action.name
    numvfs = next(line for line in page.splitlines() if line.startswith("| `write_sriov_numvfs(card, n)` |"))
    assert "EBUSY" in numvfs and "ERANGE" in numvfs and "SRIOV-6" in numvfs
    assert refusal_errnos(spec, spec.actions["write_sriov_numvfs"]) == sorted(
        {c.errno for t in spec.transitions if t.trigger == "write_sriov_numvfs" for c in t.checks}
        | {c.errno for c in spec.actions["write_sriov_numvfs"].checks} | {spec.actions["write_sriov_numvfs"].otherwise_errno})
    assert "| `vf_only` | SIP, SDTE, L1, CBF, L3, SP HWQ, SP task core |" in page
    assert "| `cardN.vfN.binding` |" in page and "| `cardN.l3_per_vf_mb` |" in page
    assert "| `/sys/bus/pci/devices/PF/sriov_numvfs` | S60 | `0`: the VFs enabled |" in page
    assert "| `/sys/class/enflame/gcuX/device/rpm/switch` | S60 |" in page


def test_every_sysfs_file_the_walk_finds_is_documented_and_every_entry_is_found(spec):
    from gcu_model.docs.generate import once_per_spec
    from gcu_model.docs.protocol import sysfs_walk
    found = once_per_spec(spec, "sysfs_walk", lambda: sysfs_walk(spec))
    describe = spec.surface.describe
    assert [p for p in sorted(found) if describe(p, spec) is None] == [], \
        "files the reference serves that surface.yaml does not declare"
    declared = {f.path for f in spec.surface.files}
    shown = {spec.surface.file_of(p)[0].path for p in found}
    assert sorted(declared - shown) == [], "surface.yaml entries no explored state shows"
    for pattern in found:
        read_doc, write_doc = describe(pattern, spec)
        assert bool(write_doc) == found[pattern]["write"], pattern         # a write is described iff it is taken
        assert bool(read_doc) == (found[pattern]["read"] is not None), pattern
    # the parameters kept as text come from constants.yaml, one per name given there
    for name in spec.device["module_parameters"]:
        assert f"/sys/module/enflame/parameters/{name}" in found, name
