"""z3 induction proofs (issue 4, item 2): every invariant is proven for every embedded
configuration; a planted bug is a violation the bounded check confirms with the
explorer's own trace; a true but non-inductive invariant is reported as such."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import edit, embedded_config_names
from gcu_model.core.outcome import Accepted
from gcu_model.core.system import System
from gcu_model.explore.explorer import explore
from gcu_model.prove.induction import DOMAIN, prove
from gcu_model.spec.loader import load_spec


@pytest.mark.parametrize("config", embedded_config_names())
def test_every_invariant_is_proven(spec, config):
    proof = prove(spec, config)
    assert proof.domain.status == "proven", proof.domain.cti
    unproven = {p.name: (p.status, p.cti and p.cti.as_dict()) for p in proof.invariants if p.status != "proven"}
    assert unproven == {}
    assert {p.name for p in proof.invariants} == {p.name for p in System(spec, config).invariants}


@pytest.mark.parametrize("config", ["s60-reset", "t20-vgcu"])
def test_what_z3_proves_holds_in_every_explored_state(spec, systems, config):
    proven = {p.name for p in prove(spec, config).invariants if p.status == "proven"}
    system = systems[config]
    result = explore(system)
    broken = {name for state in result.states for name in system.check_invariants(state)}
    assert proven and not (proven & broken)


def test_planted_bug_is_a_violation_with_the_explorers_trace(spec_copy):
    # SRIOV-6 dropped: VFs can be deleted while a workload runs on them
    edit(spec_copy / "machines" / "pf.yaml",
         "      - require: all(v.opens == 0 for v in vf if v.card == self)\n",
         "      - require: True\n")
    spec = load_spec(spec_copy)
    proof = prove(spec, "s60-sriov-4vf")
    bad = {p.name: p for p in proof.invariants if p.status != "proven"}
    target = bad["open_vf_only_bound_to_enflame"]
    assert target.status == "violated"
    # the counterexample to induction is the buggy step
    assert target.cti.action.startswith("write_sriov_numvfs(card=card0, n=0)")
    assert target.cti.rule == "pf.write_sriov_numvfs#3"
    # and the trace is the explorer's shortest one, which replays to the violation
    result = explore(System(spec, "s60-sriov-4vf"))
    found = {v.invariant: v for v in result.violations}["open_vf_only_bound_to_enflame"]
    assert target.trace["actions"] == [str(a) for a in found.path]
    system = result.system
    state = result.states[found.initial]
    for action in target.trace["actions"]:
        outcome = system.step(state, action)
        assert isinstance(outcome, Accepted)
        state = outcome.state
    assert "open_vf_only_bound_to_enflame" in system.check_invariants(state)


def test_true_but_not_inductive_invariant_is_reported_with_its_cti(spec_copy):
    # without the lemma jobs_run_in_running_vms, "no VF workload during a PF reset" is still
    # true in every reachable state but no longer inductive: a powered-off VM with a job
    # flag could start on a VF of a card in reset
    edit(spec_copy / "machines" / "vm.yaml",
         "  - name: jobs_run_in_running_vms\n    expr: all(not m.job or m.power == 'running' for m in vm)\n"
         "    reqs: [SRIOV-8]\n",
         "")
    spec = load_spec(spec_copy)
    proof = prove(spec, "s60-reset")
    statuses = {p.name: p for p in proof.invariants}
    target = statuses["no_vf_workload_during_pf_reset"]
    assert target.status == "not_inductive" and target.trace is None
    cti = target.cti
    assert cti.action.startswith("start_vm_vf(")
    assert cti.state["vm0.job"] is True and cti.state["vm0.power"] == "off"      # the unreachable premise
    assert cti.changes["vm0.power"] == ["off", "running"]
    assert cti.state["card0.reset"] in {"pf_flr", "hot"}
    # the explorer agrees it is never violated
    assert explore(System(spec, "s60-reset")).violations == []
    assert sum(p.status != "proven" for p in proof.invariants) == 1


def test_container_holds_are_not_closed_as_processes(spec_copy):
    # the bug the prover found while this was built: close_pf took a container's hold for a
    # process's, so a later docker stop took opens below zero (the explorer had only
    # counted that step among its bound hits)
    edit(spec_copy / "machines" / "pf.yaml",
         "      - require: opens > opens_efvs + container_opens\n", "      - require: opens > opens_efvs\n")
    proof = prove(load_spec(spec_copy), "t20-vgcu")
    target = {p.name: p for p in proof.invariants}["container_opens_are_opens"]
    assert target.status == "violated" and target.trace["actions"][-1] == "close_pf(card=card0)"


def test_domain_obligation_catches_a_counter_going_negative(spec_copy):
    edit(spec_copy / "machines" / "container.yaml",
         "              card[ctr_card].opens -= 1\n", "              card[ctr_card].opens -= 2\n")
    proof = prove(load_spec(spec_copy), "t20-vgcu")
    assert proof.domain.name == DOMAIN and proof.domain.status == "not_inductive"
    assert proof.domain.cti.action.startswith("docker_stop(")
    assert any(after < 0 for key, (before, after) in proof.domain.cti.changes.items() if key.endswith(".opens"))
    assert not proof.ok


def _run(*args):
    result = subprocess.run([sys.executable, "-m", "gcu_model", *map(str, args)], capture_output=True, text=True,
                            timeout=300)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_prove_cli_json_and_exit_codes(spec_copy):
    result = _run("prove", "--config", "t20-2card", "--invariant", "device_ids_are_distinct", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (entry,) = data["configs"]
    assert data["ok"] and [p["name"] for p in entry["invariants"]] == ["device_ids_are_distinct"]
    bad = _run("prove", "--invariant", "device_ids_are_distinkt")
    assert bad.returncode == 2 and "did you mean 'device_ids_are_distinct'" in bad.stderr
    edit(spec_copy / "machines" / "pf.yaml",
         "      - require: all(v.opens == 0 for v in vf if v.card == self)\n", "      - require: True\n")
    failed = _run("prove", "--specs", spec_copy, "--config", "s60-sriov-4vf")
    assert failed.returncode == 1
    assert "VIOLATED" in failed.stdout and "open_vf_only_bound_to_enflame" in failed.stdout


# ---------------------------------------------------------------- bit-level facts (item 3)
def _facts(proof):
    return {f.name: f for f in proof.bit_facts}


@pytest.mark.reqs("RST-9", "PARAM-4", "FW-3")
@pytest.mark.parametrize("config, names", [
    ("s60-reset", {"reset_kind_only_with_its_reset_enable_bit"}),
    ("t20-reset", {"reset_kind_only_with_its_reset_enable_bit"}),
    ("i20-firewall", {"card0: no write changes a secured register", "card0: a secured register reads 0xFFFFFFFF",
                      "card0: a plain register can be written"}),
])
def test_bit_level_facts_are_proven(spec, config, names):
    facts = _facts(prove(spec, config))
    assert set(facts) == names
    assert all(f.status == "proven" for f in facts.values())


def test_a_mask_without_the_hot_bit_is_refuted_with_a_trace(spec_copy):
    # the model's all-f word loses bit 2: a hot reset under it breaks the bit-level fact
    edit(spec_copy / "constants.yaml", "masks: {allf: 0xFFFFFFFF, zero: 0x0}", "masks: {allf: 0xFFFFFFFB, zero: 0x0}")
    proof = prove(load_spec(spec_copy), "t20-reset")
    fact = _facts(proof)["reset_kind_only_with_its_reset_enable_bit"]
    assert fact.status == "violated" and not proof.ok
    assert fact.trace["state"]["card0.reset"] == "hot"
    assert any(a.startswith(("efsmi_hot_reset", "pci_flr")) for a in fact.trace["actions"])
    assert all(p.status == "proven" for p in proof.invariants)     # only the bit-level view is wrong


def test_a_firewall_that_lets_secured_writes_through_is_refuted_at_an_address_in_range(spec, spec_copy):
    edit(spec_copy / "machines" / "firewall.yaml", "      if secured and has_firewall and fw == 'on':",
         "      if False:")
    facts = _facts(prove(load_spec(spec_copy), "i20-firewall"))
    broken = facts["card0: no write changes a secured register"]
    assert broken.status == "refuted"
    address = int(broken.counterexample["other"], 16)
    assert any(lo <= address <= hi for lo, hi in spec.bits["secured_ranges"]["I20"])
    assert broken.counterexample["state"]["card0.fw"] == "on"
    assert facts["card0: a secured register reads 0xFFFFFFFF"].status == "proven"


def test_a_leaking_secured_read_is_refuted(spec_copy):
    edit(spec_copy / "machines" / "firewall.yaml",
         "    effect: last_read_blocked = secured and has_firewall and fw == 'on'",
         "    effect: last_read_blocked = False")
    facts = _facts(prove(load_spec(spec_copy), "i20-firewall"))
    assert facts["card0: a secured register reads 0xFFFFFFFF"].status == "refuted"
    assert facts["card0: no write changes a secured register"].status == "proven"
