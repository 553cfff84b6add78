"""Remove and rescan, the warm reset of guide §11.1 (RST-7, RST-8): the card leaves the bus
with its driver data, a rescan finds it again and the loaded KMD probes it afresh."""
from __future__ import annotations

import pytest

from conftest import refused_with, run_actions

CONFIG = "t20-reset"
INSTALL = "install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"


run = run_actions
refused = refused_with


@pytest.fixture(scope="module")
def system(systems):
    return systems[CONFIG]


@pytest.mark.reqs("RST-7", "RST-8")
def test_rescan_probes_a_removed_card_again(system):
    removed = run(system, [INSTALL, "pci_remove(card=card0)"])
    d = system.describe(removed)
    assert d["card0.binding"] == "removed" and not d["card0.ih_thread"]
    refused(system, removed, "open_pf(card=card0)", "ENOENT")          # no /dev/gcu0 while it is gone
    refused(system, removed, "pci_remove(card=card0)", "ENOENT")       # nor a remove file
    back = system.describe(run(system, ["pci_rescan()"], removed))
    assert (back["card0.binding"], back["card0.ih_thread"]) == ("enflame", True)


@pytest.mark.reqs("RST-7")
def test_without_the_kmd_the_card_comes_back_unbound(system):
    state = run(system, [INSTALL, "rmmod()", "pci_remove(card=card0)", "pci_rescan()"])
    assert system.describe(state)["card0.binding"] == "unbound"


@pytest.mark.reqs("RST-7", "UNLD-3")
def test_a_card_in_use_is_not_removed(system):
    state = run(system, [INSTALL, "open_pf(card=card0)"])
    outcome = refused(system, state, "pci_remove(card=card0)", "EBUSY")
    assert outcome.state == state


@pytest.mark.reqs("RST-7", "RST-3")
def test_warm_reset_recovers_a_card_a_failed_hot_reset_left_dead(system):
    dead = run(system, [INSTALL, "efsmi_hot_reset(card=card0)", "reset_completes(card=card0, ok=false)"])
    assert system.describe(dead)["card0.reset"] == "dead"
    back = system.describe(run(system, ["pci_remove(card=card0)", "pci_rescan()"], dead))
    assert (back["card0.reset"], back["card0.binding"]) == ("idle", "enflame")


@pytest.mark.reqs("RST-7", "UNLD-4")
def test_a_card_held_by_a_vm_is_not_removed(system):
    state = run(system, [INSTALL, "bind_pf_vfio(card=card0)"])
    actions = {str(a.action) for a in system.actions}
    start = next(a for a in sorted(actions) if a.startswith("start_vm_pf(") and "card0" in a)
    held = run(system, [start], state)
    assert system.describe(held)["card0.binding"] == "assigned"
    refused(system, held, "pci_remove(card=card0)", "EBUSY")
