"""Variables a configuration never changes are folded into the rules as constants and
left out of the state tuple (speed): the reachable behaviour must be exactly the same."""
from __future__ import annotations

import pytest

from gcu_model.core.system import System
from gcu_model.explore.explorer import explore


@pytest.mark.parametrize("config", ["t20-reset", "i20-mdev", "s60-rpm", "t20-2card"])
def test_freezing_changes_nothing_but_the_tuple_size(spec, config):
    full, frozen = System(spec, config, freeze=False), System(spec, config)
    assert frozen.layout.frozen and len(frozen.layout.slots) < len(full.layout.slots)
    a, b = explore(full), explore(frozen)
    assert (len(a.states), a.transitions, a.graph.number_of_edges()) == \
           (len(b.states), b.transitions, b.graph.number_of_edges())
    # the same states, described the same way (frozen variables still show their values)
    assert sorted(map(_key, (full.describe(s) for s in a.states))) == \
           sorted(map(_key, (frozen.describe(s) for s in b.states)))
    assert [v.invariant for v in a.violations] == [v.invariant for v in b.violations] == []
    assert {k: v is None for k, v in a.goals.items()} == {k: v is None for k, v in b.goals.items()}


def test_frozen_variables_are_those_no_step_changes(spec):
    system = System(spec, "t20-asic")
    frozen = {f"{system.layout.instances[f][i].label}.{v}" for (f, i, v) in system.layout.frozen}
    assert "card0.reset" in frozen and "card0.rpm_power" in frozen      # resets and RPM are not offered
    assert "host.kmd" not in frozen and "card0.binding" not in frozen and "card0.opens" not in frozen


def _key(described):
    return tuple(sorted((k, str(v)) for k, v in described.items()))


def test_counter_bounds_decide_comparisons(spec):
    # S60 offers no mdev: `mdev_used < mdev_count` is `mdev_used < 0`, false for every
    # value mdev_used may take, so starting a VM on an mdev only refuses and mdev_used freezes
    system = System(spec, "s60-pn0088800")
    assert ("card", 0, "mdev_used") in system.layout.frozen
    outcome = system.step(system.initial[0], "start_vm_mdev(vm=vm0, card=card0)")
    assert not outcome.accepted and outcome.errno == "ENODEV"
    # where mdevs exist the comparison stays a real guard
    assert ("card", 0, "mdev_used") not in System(spec, "i20-mdev").layout.frozen
