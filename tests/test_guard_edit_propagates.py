"""One guard edited in a copy of the spec changes the explorer's graph, the transitions
machine and the z3 term together, with no second edit (issue 2, Done when; design.md
"One source of truth").

The edit: the Linux rule that sriov_numvfs must go through 0 between two non-zero
counts (pf.yaml, `numvfs == 0`, EBUSY) is replaced by a check that always holds, so the
edited model lets 2 VFs become 4 directly.
"""
from __future__ import annotations

import pytest
import z3

from gcu_model.core.system import System
from gcu_model.core.z3terms import Z3Encoder
from gcu_model.explore.explorer import explore
from gcu_model.runtime.machines import Runtime
from gcu_model.spec.loader import load_spec

from conftest import edit

CONFIG = "s60-sriov-4vf"
SETUP = ["install_base(opt_mode=virt_host, opt_vf_num=2, opt_auto_load=true)"]
DIRECT = "write_sriov_numvfs(card=card0, n=4)"


def busy_check(system):
    """The ground term of the 'numvfs == 0' guard of the create-VFs transition."""
    ga = system.action(DIRECT)
    rule = next(r for r in ga.rules if r.transition.id == "pf.write_sriov_numvfs#2")
    return next(t for t, rid in rule.checks if "already has VFs" in system.refusals[rid].message)


def direct_edges(result):
    """Edges on which a sriov_numvfs write takes a card from 2 VFs straight to 4."""
    system = result.system
    slot = system.layout.slot_of[("card", 0, "numvfs")]
    return [(u, v) for u, v, data in result.graph.edges(data=True)
            if result.states[u][slot] == 2 and result.states[v][slot] == 4
            and any(system.actions[system.labels[lab][0]].action.name == "write_sriov_numvfs"
                    for lab in data["labels"])]


@pytest.mark.reqs("SRIOV-7")
def test_one_guard_edit_changes_explorer_runtime_and_z3(spec, spec_copy):
    edit(spec_copy / "machines" / "pf.yaml",
         "      - require: numvfs == 0\n        errno: EBUSY",
         "      - require: numvfs <= vf_slots\n        errno: EBUSY")
    edited = load_spec(spec_copy)
    before, after = System(spec, CONFIG), System(edited, CONFIG)

    # explorer: the edited model has edges 2 -> 4 VFs; the original has none
    # the edited model's state space is far larger; its first 20,000 states hold the new edges
    g_before, g_after = explore(before), explore(after, max_states=20000)
    assert direct_edges(g_before) == []
    assert len(direct_edges(g_after)) > 0

    # transitions machines: the same command is refused, then accepted
    for system, expect in ((before, False), (after, True)):
        runtime = Runtime(system)
        for text in SETUP:
            assert runtime.apply(text).accepted
        outcome = runtime.apply(DIRECT)
        assert outcome.accepted is expect
        if not expect:
            assert outcome.errno == "EBUSY"

    # z3: the compiled guard differs, and only the original forces numvfs == 0
    enc_b, enc_a = Z3Encoder(before.layout), Z3Encoder(after.layout)
    t_before, t_after = enc_b.term(busy_check(before)), enc_a.term(busy_check(after))
    assert str(t_before) != str(t_after)
    numvfs = before.layout.slot_of[("card", 0, "numvfs")]
    for enc, term, expect in ((enc_b, t_before, z3.unsat), (enc_a, t_after, z3.sat)):
        solver = z3.Solver()
        solver.add(*enc.domain(), term, enc.vars[numvfs] == 2)
        assert solver.check() == expect
