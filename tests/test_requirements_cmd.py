"""`gcu-model requirements`: the traceability matrix, --uncovered and --assumptions (issue 3)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gcu_model.trace import test_requirements as marked_tests

pytestmark = pytest.mark.reqs("SRIOV-7")


def run(*args):
    result = subprocess.run([sys.executable, "-m", "gcu_model", "requirements", *args], capture_output=True,
                            text=True, timeout=120)
    assert "Traceback" not in result.stderr
    return result


def test_matrix_lists_every_id_with_what_covers_it(spec):
    result = run("--json")
    assert result.returncode == 0
    rows = {r["id"]: r for r in json.loads(result.stdout)["requirements"]}
    assert set(rows) == set(spec.requirements)
    sriov6 = rows["SRIOV-6"]
    assert sriov6["covered"] and "pf.write_sriov_numvfs#3 guard 2" in sriov6["checks"]
    assert "open_vf_only_bound_to_enflame" in sriov6["invariants"]
    assert "test_explorer.py::test_planted_bug_gives_shortest_replayable_counterexample" in sriov6["tests"]
    # a machine's own reqs do not count as coverage
    assert all(r["covered"] == any(r[k] for k in ("transitions", "checks", "actions", "invariants", "goals",
                                                   "quantities", "tests")) for r in rows.values())


def test_uncovered_keeps_modelled_kinds_and_sets_the_exit_code():
    result = run("--uncovered", "--json")
    rows = json.loads(result.stdout)["requirements"]
    assert all(r["kind"] in ("B", "C", "Q") and not r["covered"] for r in rows)
    assert result.returncode == (1 if rows else 0)
    human = run("--uncovered")
    assert human.returncode == result.returncode
    assert (human.stdout.strip() == "") == (not rows)


def test_assumptions_lists_every_note(spec):
    result = run("--assumptions", "--json")
    notes = json.loads(result.stdout)["assumptions"]
    assert len(notes) == len({(w.file, w.line) for w, _ in spec.assumptions})
    assert all(n["file"].startswith("specs/") and n["line"] > 0 and n["assumption"] for n in notes)
    assert any("sriov_numvfs" in n["assumption"] for n in notes)


def test_marks_are_read_without_importing_the_tests(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\n@pytest.mark.reqs('RST-1', 'RST-4')\ndef test_one():\n    raise SystemExit\n\n"
        "def test_two():\n    pass\n", encoding="utf-8")
    assert marked_tests(tmp_path) == [("test_x.py::test_one", ["RST-1", "RST-4"])]
