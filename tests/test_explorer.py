"""The explorer: pinned counts, shortest counterexamples, refusals, reports (issue 2, item 6)."""
from __future__ import annotations

import pytest

from gcu_model.core.system import System
from gcu_model.explore.explorer import count_states, explore, replay
from gcu_model.spec.loader import load_spec

from conftest import edit

# Pinned so that every model change shows up in review (Stateright's habit): states,
# labelled transitions (one per accepted state/action pair) and distinct graph edges.
PINNED = {
    "t20-asic": (35424, 605664, 416124),
    "s60-asic": (7992, 131184, 81321),
    "s60-sriov-1vf": (24, 154, 104),
    "s60-sriov-2vf": (92, 728, 526),
    "s60-sriov-4vf": (6002, 64982, 52853),
    "s60-pn0088800": (46368, 855576, 547865),
    "s60-2card": (2764, 32240, 23926),
    "s60-server": (3556, 39674, 32550),
    "mixed-host": (131428, 1727420, 1463826),
    "t20-reset": (5672, 92136, 57202),
    "s60-reset": (10668, 152440, 92665),
    "i20-asic": (4388, 103486, 66201),        # proc_name has `other` (open_enums)
    "i20-vgcu-spatial": (114, 882, 637),
    "i20-vgcu-time": (114, 882, 637),
    "t20-vgcu": (406, 3920, 2967),
    "i20-mdev": (1036, 10528, 8419),
    "t20-mdev": (812, 7826, 6197),
    "t20-2card": (5040, 67248, 51192),
    "i20-firewall": (154, 1502, 1056),
    "t20-rpm": (2020, 32254, 22454),
    "s60-rpm": (5956, 114044, 70328),
}


def test_every_embedded_config_is_pinned(spec):
    assert set(PINNED) == set(spec.configs)


@pytest.mark.parametrize("config", sorted(PINNED))
def test_pinned_counts(systems, config):
    result = explore(systems[config])
    states, transitions, edges = PINNED[config]
    assert (len(result.states), result.transitions, result.graph.number_of_edges()) == (states, transitions, edges)
    assert result.graph.number_of_nodes() == states
    assert result.violations == []
    assert all(node is not None for node in result.goals.values()), result.goals
    # the counting search and the graph search see the same state space
    assert count_states(systems[config]) == states


def test_graph_nodes_are_ints_and_edges_carry_actions(systems):
    result = explore(systems["s60-2card"])
    system = result.system
    assert all(isinstance(n, int) for n in result.graph.nodes)
    for u, v, data in list(result.graph.edges(data=True))[:200]:
        for label in data["labels"]:
            aid, _ = system.labels[label]
            outcome = system.step(result.states[u], system.actions[aid])
            assert outcome.accepted and outcome.state == result.states[v]


def test_refusals_are_recorded_per_state_with_errno(systems):
    result = explore(systems["s60-sriov-4vf"])
    system = result.system
    # the initial state: nothing installed, so rmmod is refused with ENOENT
    refused = {str(a): (errno, msg) for a, errno, msg in result.refused(result.initial[0])}
    assert refused["rmmod()"][0] == "ENOENT"
    assert "not currently loaded" in refused["rmmod()"][1]
    # every recorded refusal is what step() says, in a sample of states
    for node in range(0, len(result.states), 97):
        for action, errno, message in result.refused(node):
            outcome = system.step(result.states[node], action)
            assert not outcome.accepted and (outcome.errno, outcome.message) == (errno, message)
    kinds = result.refusal_kinds()
    assert ("write_sriov_numvfs", "EBUSY") in kinds
    assert ("write_sriov_numvfs", "ERANGE") in kinds
    assert ("rmmod", "EBUSY") in kinds


@pytest.mark.reqs("SRIOV-6")
def test_planted_bug_gives_shortest_replayable_counterexample(spec_copy):
    # drop the SR-IOV-6 check: VFs may now be deleted while a process holds one
    edit(spec_copy / "machines" / "pf.yaml",
         "      - require: all(v.opens == 0 for v in vf if v.card == self)\n",
         "      - require: all(v.opens >= 0 for v in vf if v.card == self)\n")
    system = System(load_spec(spec_copy), "s60-sriov-4vf")
    result = explore(system)
    names = {v.invariant for v in result.violations}
    assert "open_vf_only_bound_to_enflame" in names
    violation = next(v for v in result.violations if v.invariant == "open_vf_only_bound_to_enflame")
    # install in virt_host mode, open a VF, delete the VFs: three steps, no shorter path exists
    assert [a.name for a in violation.path] == ["install_base", "open_vf", "write_sriov_numvfs"]
    steps = replay(system, violation.path, result.states[violation.initial])
    assert all(outcome.accepted for _, outcome in steps)
    final = steps[-1][1].state
    assert "open_vf_only_bound_to_enflame" in system.check_invariants(final)


def test_unreached_goal_and_never_fired_rules_are_reported(spec_copy):
    # forbid opening VFs: the goal workload_on_vf becomes unreachable and open_vf never fires
    edit(spec_copy / "machines" / "vf.yaml",
         "  - trigger: open_vf\n    source: enflame\n",
         "  - trigger: open_vf\n    source: enflame\n    guard: [{require: 'False', errno: EPERM, message: no}]\n")
    result = explore(System(load_spec(spec_copy), "s60-sriov-4vf"))
    assert result.goals["workload_on_vf"] is None
    assert result.goals["vf_in_vm"] is not None
    assert "vf.close_vf#1" not in result.never_fired()   # selected, and refused by its guard
    assert result.violations == []


def test_max_states_truncates(systems):
    result = explore(systems["t20-asic"], max_states=1000)
    assert result.truncated and len(result.states) == 1000
