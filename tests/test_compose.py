"""Big hosts checked in parts (issue 8, item 2): a `composed:` host is its base
configuration with more cards. The two-card host is explored whole, every invariant is
proven over the whole host, and z3 shows that no step outside the host's own machines
changes two cards; a planted step that does is caught and named."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import edit
from gcu_model.core.system import System
from gcu_model.explore.compose import check_composed
from gcu_model.explore.interaction import interaction_points
from gcu_model.spec.errors import InvalidSpec
from gcu_model.spec.loader import load_spec


def _small(spec, count=3):
    """The embedded s60x8-4vf with fewer cards: the same check, quicker."""
    from dataclasses import replace
    host = spec.composed["s60x8-4vf"]
    base = spec.configs[host.base]
    values = dict(base.values)
    values["cards"] = count
    return replace(host, count=count, config=spec.derive_config(host.name, values, base.initial))


def test_the_server_host_is_checked_in_parts(spec):
    host = spec.composed["s60x8-4vf"]
    assert host.count == 8 and host.config.values["cards"] == 8 and host.base in spec.configs
    result = check_composed(spec, _small(spec))
    assert result.ok, result.as_dict()
    assert result.pair["symmetry"] and result.pair["states"] > 1000
    assert all(i["held"] for i in result.pair["invariants"]) and all(g["reached"] for g in result.pair["goals"])
    assert len(result.proof.invariants) == len(System(spec, host.config).invariants)
    assert all(p.status == "proven" for p in result.proof.invariants)
    assert result.steps_checked > 0 and result.interference == []


def test_a_step_that_changes_two_cards_is_caught(spec_copy):
    # a VF's FLR that also wakes every card's runtime PM: a VF step reaching into other cards
    edit(spec_copy / "machines" / "pf.yaml",
         "  - trigger: bind_pf_vfio\n    source: unbound\n    dest: vfio\n",
         "  - trigger: bind_pf_vfio\n    source: unbound\n    dest: vfio\n"
         "    effect: |\n      for c in card:\n          c.power_stock = False\n")
    spec = load_spec(spec_copy)
    result = check_composed(spec, _small(spec, 2))
    assert not result.ok
    found = {i.transition for i in result.interference}
    assert "pf.bind_pf_vfio#2" in found, result.as_dict()["interference"]
    assert all(len(i.instances) == 2 and i.status == "changes two instances"
               for i in result.interference if i.transition == "pf.bind_pf_vfio#2")


def test_interaction_points_are_host_steps_or_follow_a_reference(systems):
    """The static view: which rules mention two cards at all (reads or writes)."""
    host_machines = {"kmd", "peermem", "virtpkg"}
    points = {(t.machine, t.transition) for t in interaction_points(systems["s60-2card"], "card")}
    assert any(m in host_machines for m, _ in points)             # the KMD's life cycle touches every card
    assert {t for m, t in points if m not in host_machines} <= {
        "pf.bind_pf_vfio#1", "container.docker_stop#1", "vm.stop_vm#1"}, points


@pytest.mark.parametrize("body, message", [
    ("  big:\n    base: nowhere\n    family: card\n    count: 4\n", "unknown configuration 'nowhere'"),
    ("  big:\n    base: s60-server\n    family: vf\n    count: 4\n", "not a top-level family"),
    ("  big:\n    base: s60-server\n    family: card\n    count: 1\n", "count must be an int of at least 2"),
])
def test_bad_composed_hosts_are_spec_errors(spec_copy, body, message):
    edit(spec_copy / "configs.yaml", "composed:\n", "composed:\n" + body)
    with pytest.raises(InvalidSpec, match=message):
        load_spec(spec_copy)


def test_check_names_a_composed_host():
    proc = subprocess.run([sys.executable, "-m", "gcu_model", "check", "--config", "s60x8-4vf", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["configs"] == [] and [h["name"] for h in data["composed"]] == ["s60x8-4vf"]
    host = data["composed"][0]
    assert host["ok"] and host["count"] == 8 and host["proof"]["ok"] and host["interference"] == []


def test_a_composed_host_without_proofs_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "gcu_model", "check", "--config", "s60x8-4vf", "--no-prove"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "checked by proofs" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["export", "s60x8-4vf", "--format", "promela"], ["explore", "s60x8-4vf"],
                                  ["prove", "--config", "s60x8-4vf"]])
def test_commands_that_explore_or_export_whole_say_a_composed_host_is_checked_in_parts(argv):
    proc = subprocess.run([sys.executable, "-m", "gcu_model", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "'s60x8-4vf' is a composed host" in proc.stderr and "gcu-model check --config s60x8-4vf" in proc.stderr
