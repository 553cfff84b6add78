"""The Promela export and the SPIN cross-check (issue 8, item 3): SPIN, run on the model
`gcu-model export` writes, stores as many states as the explorer finds (one more when the
configuration has several initial states: SPIN's start state before the choice), and
finds a planted invariant violation through the exported assertions. Skipped, with the
reason printed, where SPIN or a C compiler is not installed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import edit, host_with_cards
from gcu_model.core.system import System
from gcu_model.explore import spin
from gcu_model.explore.explorer import count_states
from gcu_model.explore.promela import MARK, export
from gcu_model.spec.loader import load_spec
from test_planted_violations import PLANTED

needs_spin = pytest.mark.skipif(spin.missing() is not None, reason=f"SPIN cross-check: {spin.missing()}")


@needs_spin
@pytest.mark.parametrize("config", ["i20-firewall", "t20-2card", "i20-vgcu-time", "s60-sriov-1vf"])
def test_spin_stores_the_explorers_states(systems, config, tmp_path):
    system = systems[config]
    source, extra = export(system)
    assert extra == (1 if len(system.initial) > 1 else 0)
    result = spin.run(source, tmp_path)
    assert result.errors == 0, result.output                    # every exported invariant holds
    assert result.states == count_states(system) + extra


@needs_spin
def test_spin_stores_the_explorers_states_on_a_host_mixing_products(spec, tmp_path):
    """Per-card constants fold per card in the export as in the explorer (issue 8)."""
    system = host_with_cards(spec, "s60-2card", ["S60", "T20", "S60"], ["EFB-0088800-00", "none", "EFB-0088800-00"])
    source, extra = export(system)
    result = spin.run(source, tmp_path)
    assert result.errors == 0, result.output
    assert result.states == count_states(system) + extra


@needs_spin
def test_spin_finds_a_planted_violation_through_the_assertions(spec_copy, tmp_path):
    config, file, old, new = PLANTED["secured_registers_never_change_behind_the_firewall"]
    edit(spec_copy / file, old, new)
    source, _ = export(System(load_spec(spec_copy), config))
    result = spin.run(source, tmp_path)
    assert result.errors >= 1 and "assertion violated" in result.output


def test_export_is_marked_generated_and_follows_the_rules(systems):
    system = systems["s60-sriov-2vf"]
    source, _ = export(system)
    assert source.startswith(MARK + "\n")
    # one d_step per accepted (action, rule) pair that can fire in this configuration
    assert source.count(":: d_step {") == sum(
        1 for ga in system.actions if all(t != ("lit", False) for t, _ in ga.checks)
        for rule in ga.rules if all(t != ("lit", False) for t, _ in rule.checks))
    assert "write_sriov_numvfs(card=card0, n=2): pf.write_sriov_numvfs#2" in source
    assert source.count("assert(") == source.count(":: d_step {") * len(system.invariants)


def test_export_cli_writes_a_file_and_refuses_bad_input(tmp_path):
    out = tmp_path / "m.pml"
    run = lambda *a: subprocess.run([sys.executable, "-m", "gcu_model", "export", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    r = run("i20-firewall", "--format", "promela", "--output", str(out))
    assert r.returncode == 0 and out.read_text().startswith(MARK) and "1 state(s) more" in r.stderr
    r = run("i20-firewal", "--format", "promela")
    assert r.returncode == 2 and "did you mean 'i20-firewall'" in r.stderr and "Traceback" not in r.stderr
    r = run("i20-firewall", "--format", "tla")
    assert r.returncode == 2 and "Traceback" not in r.stderr
