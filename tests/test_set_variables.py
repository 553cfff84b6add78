"""Small-set variables (issue 2, item 2) through every back end: a whitelist of process
names, added to and deleted from, as STBY-2 and RPM-5 will need."""
from __future__ import annotations

import random

import pytest
import z3

from conftest import edit
from test_explorer import PINNED
from gcu_model.core.system import System
from gcu_model.core.z3terms import Z3Encoder
from gcu_model.explore.explorer import compiled_for, explore
from gcu_model.runtime.machines import Runtime
from gcu_model.spec.loader import load_spec

ACTIONS = '''
  whitelist_add:
    params: {vm: vm, name: {type: tool_name}}
    otherwise: {errno: ESRCH, message: "{vm} is not running"}
  whitelist_delete:
    params: {vm: vm, name: {type: tool_name}}
    otherwise: {errno: ESRCH, message: "{vm} is not running"}

transitions:
  - trigger: whitelist_add
    source: running
    guard:
      - require: name not in whitelist
        errno: EEXIST
        message: "{name} is already on the whitelist"
    effect: whitelist = whitelist | {name}
  - trigger: whitelist_delete
    source: running
    guard:
      - require: name in whitelist
        errno: ENOENT
        message: "{name} is not on the whitelist"
    effect: whitelist = whitelist - {name}
'''


@pytest.fixture
def system(spec_copy):
    edit(spec_copy / "constants.yaml", "  platform: [asic, emulation]",
         "  platform: [asic, emulation]\n  tool_name: [efvs, efsmi, top]")
    vm = spec_copy / "machines" / "vm.yaml"
    edit(vm, "  job: {type: bool, init: false, doc: \"a workload runs inside the VM\"}",
         "  job: {type: bool, init: false, doc: \"a workload runs inside the VM\"}\n"
         "  whitelist: {type: \"set[tool_name]\", init: [], doc: \"names left out of a count\"}")
    edit(vm, "\ntransitions:\n", ACTIONS)
    edit(vm, "      bar0_written = False\n    reqs: [UNLD-4, SRIOV-8]",
         "      bar0_written = False\n      whitelist = whitelist - whitelist\n    reqs: [UNLD-4, SRIOV-8]")
    edit(vm, "invariants:\n", "invariants:\n  - name: whitelist_only_while_running\n"
         "    expr: all(len(m.whitelist) == 0 or m.power == 'running' for m in vm)\n"
         "  - name: two_of_three_at_most_twice\n"
         "    expr: all(len(m.whitelist & {'efvs', 'top'}) <= 2 for m in vm)\n")
    return System(load_spec(spec_copy), "s60-2card")


def run(system, *texts):
    state = system.initial[0]
    outcome = None
    for text in texts:
        outcome = system.step(state, text)
        if outcome.accepted:
            state = outcome.state
    return state, outcome


SETUP = ("install_base(opt_mode=virt_host, opt_vf_num=0, opt_auto_load=true)",
         "bind_vf_vfio(vf=card0.vf0)", "start_vm_vf(vm=vm0, vf=card0.vf0)")


def test_add_delete_and_refusals(system):
    state, out = run(system, *SETUP, "whitelist_add(vm=vm0, name=top)", "whitelist_add(vm=vm0, name=efvs)")
    assert out.accepted and system.describe(state)["vm0.whitelist"] == ["efvs", "top"]
    _, out = run(system, *SETUP, "whitelist_add(vm=vm0, name=top)", "whitelist_add(vm=vm0, name=top)")
    assert out.errno == "EEXIST" and out.message == "top is already on the whitelist"
    _, out = run(system, *SETUP, "whitelist_delete(vm=vm0, name=efsmi)")
    assert out.errno == "ENOENT"
    state, out = run(system, *SETUP, "whitelist_add(vm=vm0, name=efsmi)", "whitelist_delete(vm=vm0, name=efsmi)")
    assert out.accepted and system.describe(state)["vm0.whitelist"] == []
    state, out = run(system, *SETUP, "whitelist_add(vm=vm0, name=efsmi)", "stop_vm(vm=vm0)")
    assert system.describe(state)["vm0.whitelist"] == []


def test_explorer_finds_the_reboot_that_keeps_the_whitelist(system):
    # stop_vm clears the whitelist, but a reboot (kmd.power_cycle) does not: the VM is off
    # with names still listed, three steps after a VM starts
    result = explore(system)
    (violation,) = result.violations
    assert violation.invariant == "whitelist_only_while_running"
    assert [a.name for a in violation.path][-2:] == ["whitelist_add", "reboot"]


def test_explored_with_every_subset(system, spec_copy):
    edit(spec_copy / "machines" / "kmd.yaml", "        m.job = False\n",
         "        m.job = False\n        m.whitelist = m.whitelist - m.whitelist\n")
    system = System(load_spec(spec_copy), "s60-2card")
    result = explore(system)
    assert result.violations == []
    slot = system.layout.slot_of[("vm", 0, "whitelist")]
    assert {s[slot] for s in result.states} == set(range(8))     # all subsets of three names
    assert len(result.states) > PINNED["s60-2card"][0]


def test_back_ends_agree_on_set_operations(system):
    expand = compiled_for(system).expand
    runtime = Runtime(system)
    rng = random.Random(7)
    state = system.initial[0]
    for _ in range(2000):
        succ, _, _ = expand(state)
        ga = system.actions[system.labels[rng.choice(succ)[0]][0]] if succ and rng.random() < 0.6 \
            else rng.choice(system.actions)
        runtime.reset(state)
        ours, theirs = system.step(state, ga), runtime.apply(ga)
        assert ours == theirs
        if ours.accepted:
            assert any(t == ours.state for label, t in succ if system.labels[label][0] == ga.id)
            state = ours.state


def test_z3_encodes_sets_as_bit_vectors(system):
    enc = Z3Encoder(system.layout)
    ga = system.action("whitelist_add(vm=vm0, name=efvs)")
    guard = enc.term(ga.rules[0].checks[0][0])
    after = enc.statements(ga.rules[0].effect, {})
    slot = system.layout.slot_of[("vm", 0, "whitelist")]
    wl = enc.vars[slot]
    assert z3.is_bv(wl) and wl.size() == 3
    solver = z3.Solver()
    solver.add(*enc.domain())
    # the guard refuses exactly when efvs (bit 0) is already there
    assert solver.check(guard, wl & 1 == 1) == z3.unsat
    # after the effect, efvs is always in the set and nothing else changed
    assert solver.check(z3.Not(after[slot] & 1 == 1)) == z3.unsat
    assert solver.check(after[slot] & 6 != wl & 6) == z3.unsat
