"""Symmetry reduction (issue 8, item 1): interchangeable cards, VFs, VMs and containers are
folded into one state per orbit, and nothing the explorer reports changes: the same orbits
are reached, the same invariants hold or fail, the same goals are reached, and every path
it prints is a run of the concrete host."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import edit, host_with_cards
from gcu_model.core.system import System
from gcu_model.explore.explorer import explore, replay
from gcu_model.explore.symmetry import Canonicalizer
from gcu_model.spec.errors import InvalidSpec
from gcu_model.spec.loader import load_spec
from test_planted_violations import PLANTED

SMALL = ["s60-2card", "s60-sriov-4vf", "t20-2card", "i20-mdev", "t20-vgcu", "s60-reset"]


def orbit(system, state) -> tuple:
    """The least renaming of a state, found by trying every renaming of its instance labels
    in `describe` (not through the canonicalizer's slot arithmetic, which it checks): cards
    of one product and part, VMs and containers in any order, each card's first `numvfs` VFs
    in any order (as families.yaml declares). Exponential: small hosts only."""
    from itertools import permutations, product
    view = system.describe(state)
    insts = system.layout.instances
    config = system.config
    cards = [i.label for i in insts.get("card", [])]
    per = len(insts.get("vf", [])) // max(1, len(cards))

    def kind(f, i):
        """Instances are interchangeable when they are of one product and part (cards) and
        start alike (a configuration may narrow one instance's initial values)."""
        label = insts[f][i].label
        narrowed = sorted((k.split(".", 1)[1], v) for k, v in config.initial.items()
                          if isinstance(k, str) and k.startswith(label + "."))
        facts = (config.value_of("product", i), config.value_of("part_number", i)) if f == "card" else ()
        return facts, tuple(narrowed)
    classes = []
    for f in ("card", "vm", "ctr"):
        by_kind = {}
        for i in range(len(insts.get(f, []))):
            by_kind.setdefault(kind(f, i), []).append(i)
        classes += [(f, members) for members in by_kind.values() if len(members) > 1]
    best = None
    for chosen in product(*[permutations(members) for _, members in classes]):
        names = {}
        for (f, members), perm in zip(classes, chosen):
            names.update({insts[f][i].label: insts[f][j].label for i, j in zip(members, perm)})
        prefixes = [min(per, view.get(f"{c}.numvfs", 0)) for c in cards]
        for inner in product(*[permutations(range(n)) for n in prefixes]):
            full = dict(names)
            for c, local, n in zip(cards, inner, prefixes):
                to = names.get(c, c)
                full.update({f"{c}.vf{k}": f"{to}.vf{local[k] if k < n else k}" for k in range(per)})
            renamed = []
            for key, value in view.items():
                label, _, var = key.rpartition(".")
                renamed.append((f"{full.get(label, label)}.{var}",
                                repr(full.get(value, value) if isinstance(value, str) else value)))
            key = tuple(sorted(renamed))
            if best is None or key < best:
                best = key
    return best


@pytest.mark.parametrize("config", SMALL)
def test_reduced_and_full_exploration_reach_the_same_orbits_and_verdicts(systems, config):
    system = systems[config]
    canon = Canonicalizer(system)
    full = explore(system, graph=False)
    reduced = explore(system, graph=False, symmetry=canon)
    assert canon.active and len(reduced.states) < len(full.states)
    # the same set of reachable states up to renaming (orbit keys are exact: every renaming tried)
    orbits = {orbit(system, s) for s in full.states}
    assert orbits == {orbit(system, s) for s in reduced.states}
    assert len(reduced.states) == len(orbits)         # one representative per orbit, no more
    assert sorted(v.invariant for v in full.violations) == sorted(v.invariant for v in reduced.violations)
    assert ({g for g, node in full.goals.items() if node is not None}
            == {g for g, node in reduced.goals.items() if node is not None})
    assert full.never_fired() == reduced.never_fired() and full.unreached_states() == reduced.unreached_states()


def test_cards_of_one_product_are_renamed_among_themselves_only(spec):
    """Two S60 and a T20: the S60s (and their VFs) are interchangeable, the T20 is not; the
    reduced run still reaches every orbit once, with the same verdicts (issue 8)."""
    system = host_with_cards(spec, "s60-2card", ["S60", "T20", "S60"], ["EFB-0088800-00", "none", "EFB-0088800-00"])
    canon = Canonicalizer(system)
    assert canon.groups == {"card": [[0, 2]]} and "vf" in canon.reduced
    full = explore(system, graph=False)
    reduced = explore(system, graph=False, symmetry=canon)
    orbits = {orbit(system, s) for s in full.states}
    assert len(orbits) < len(full.states)
    assert orbits == {orbit(system, s) for s in reduced.states} and len(reduced.states) == len(orbits)
    assert ({g for g, node in full.goals.items() if node is not None}
            == {g for g, node in reduced.goals.items() if node is not None})


def test_cards_carry_their_vfs_even_when_vfs_are_not_renamed(spec):
    """Two cards of one VF slot each: the VFs are not renamed among themselves (one per
    card), yet renaming the cards must move each card's VF with it."""
    base = spec.configs["s60-server"]
    values = dict(base.values, cards=2, vf_slots=1, vf_modes=frozenset([1]), vf_num_options=frozenset([1]),
                  numvfs_writes=frozenset([0, 1]), vms=1)
    system = System(spec, spec.derive_config("two cards, one VF each", values, base.initial))
    canon = Canonicalizer(system)
    assert canon.reduced == ("card",) and "vf" in canon.moved
    full = explore(system, graph=False)
    reduced = explore(system, graph=False, symmetry=canon)
    orbits = {orbit(system, s) for s in full.states}
    assert orbits == {orbit(system, s) for s in reduced.states} and len(reduced.states) == len(orbits)


@pytest.mark.parametrize("config", ["s60-2card", "s60-sriov-4vf"])
def test_representatives_are_in_the_orbit_and_stable(systems, config):
    system = systems[config]
    canon = Canonicalizer(system)
    for s in explore(system, graph=False).states[::7]:
        c = canon.canon(s)
        assert orbit(system, c) == orbit(system, s)
        assert canon.canon(c) == c


@pytest.mark.parametrize("invariant", ["vf_count_matches_numvfs", "open_vf_only_bound_to_enflame",
                                       "jobs_run_in_running_vms", "device_ids_are_distinct",
                                       "stopped_containers_hold_nothing"])
def test_counterexamples_found_among_representatives_replay_with_concrete_names(spec_copy, invariant):
    config, file, old, new = PLANTED[invariant]
    edit(spec_copy / file, old, new)
    system = System(load_spec(spec_copy), config)
    canon = Canonicalizer(system)
    assert canon.active
    reduced = explore(system, graph=False, symmetry=canon, max_states=60_000)
    full = explore(system, graph=False, max_states=60_000)
    found = {v.invariant: v for v in reduced.violations}
    assert invariant in found
    violation = found[invariant]
    steps = replay(system, violation.path, reduced.states[violation.initial])
    assert all(outcome.accepted for _, outcome in steps), [(str(a), o) for a, o in steps]
    final = steps[-1][1].state if steps else reduced.states[violation.initial]
    assert invariant in system.check_invariants(final)
    # orbits are as far from the initial states as their members: still a shortest path
    assert len(violation.path) == len(next(v for v in full.violations if v.invariant == invariant).path)


def test_goal_witnesses_replay_with_concrete_names(systems):
    from gcu_model.core import closures
    system = systems["s60-sriov-4vf"]
    result = explore(system, graph=False, symmetry=Canonicalizer(system))
    for goal, term in zip(system.goals, system.goal_terms):
        node = result.goals[goal.name]
        steps = replay(system, result.concrete_path(node), result.states[result.root_of(node)])
        assert all(outcome.accepted for _, outcome in steps), goal.name
        final = steps[-1][1].state if steps else result.states[result.root_of(node)]
        assert closures.term(term)(final), goal.name


@pytest.mark.parametrize("file, old, new, message", [
    # a rule that tells cards apart by position
    ("machines/pf.yaml", "      - require: n in vf_modes", "      - require: n in vf_modes and self.index >= 0",
     "reads a card's index, but families.yaml declares card symmetric"),
    # a VF rule reading the index other than as the prefix bound
    ("machines/pf.yaml", "            if v.card == self and v.index < n:",
     "            if v.card == self and v.index <= n - 1:", "a read other than `x.index < E`"),
    # a property that reads a card's index without saying its verdict ignores names
    ("machines/pf.yaml", "    # holds exactly when the probe order is reversed on a host of several cards, whatever their names\n"
                         "    symmetric: true\n", "", "say `symmetric: true`"),
    ("families.yaml", "symmetric: numvfs", "symmetric: binding", "is not an int variable of card"),
])
def test_a_broken_symmetry_promise_is_a_spec_error_with_its_place(spec_copy, file, old, new, message):
    edit(spec_copy / file, old, new)
    with pytest.raises(InvalidSpec, match=message.replace("(", r"\(").replace("`", ".")) as info:
        load_spec(spec_copy)
    assert ".yaml:" in str(info.value)


def _check_json(*args):
    proc = subprocess.run([sys.executable, "-m", "gcu_model", "check", "--no-prove", "--json", *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["configs"][0]


def test_check_reduces_by_default_and_says_so():
    on = _check_json("--config", "s60-sriov-4vf")
    off = _check_json("--config", "s60-sriov-4vf", "--no-symmetry")
    assert on["symmetry"] == ["vm", "vf"] and off["symmetry"] == []
    assert on["states"] < off["states"]
    assert [i["held"] for i in on["invariants"]] == [i["held"] for i in off["invariants"]]


def test_a_suite_from_the_reduced_graph_is_smaller_and_still_sound(spec, tmp_path):
    """Suites generated among representatives take concrete runs: every case replays on the
    reference (generation checks each step) and a planted driver bug is still caught."""
    from gcu_model.adapters.targets import open_target
    from gcu_model.conform.generate import generate, write_suite
    from gcu_model.conform.runner import Runner
    from gcu_model.conform.suite import load_suite
    from gcu_model.spec.loader import default_spec_dir
    full = generate(spec, default_spec_dir(), "s60-server")
    reduced = generate(spec, default_spec_dir(), "s60-server", symmetric=True)
    assert reduced["symmetry"] == ["vm", "vf"] and "symmetry" not in full
    assert reduced["coverage"]["states"]["targets"] < full["coverage"]["states"]["targets"]
    assert sum(len(c["steps"]) for c in reduced["cases"]) < sum(len(c["steps"]) for c in full["cases"])
    assert all(v["covered"] == v["targets"] for v in reduced["coverage"].values())
    write_suite(reduced, tmp_path / "s60-server.json")
    suite = load_suite(tmp_path / "s60-server.json")
    assert all(r.passed for r in map(Runner(open_target("reference", spec)).run_case, suite.cases))
    caught = [r for r in map(Runner(open_target("mutant:vf-deleted-under-load", spec)).run_case, suite.cases)
              if not r.passed]
    assert caught


def test_one_instance_narrowed_keeps_its_family_unrenamed(spec_copy):
    """`initial: {card1.fw: [...]}` narrows one card (a host whose cards differ); renaming
    the cards would then map an initial state to one that is not, so they are left alone."""
    edit(spec_copy / "configs.yaml", "configs:\n", "configs:\n"
         "  i20-2card-mixed-fw:\n"
         "    description: two I20 cards, one whose firmware runs the firewall\n"
         "    values: {product: I20, cards: 2, vms: 0, max_opens: 1, explore_firewall: true}\n"
         "    initial: {card.fw: ['off', 'on'], card0.fw: ['on'], card1.fw: ['off']}\n")
    spec = load_spec(spec_copy)
    system = System(spec, "i20-2card-mixed-fw")
    assert {(system.describe(s)["card0.fw"], system.describe(s)["card1.fw"]) for s in system.initial} == {("on", "off")}
    canon = Canonicalizer(system)
    assert "card" not in canon.reduced and canon.notes


@pytest.mark.parametrize("key, message", [("card2.fw", "there is no card2 here"), ("cardx.fw", "names no instance"),
                                          ("card0.vf0.fw", "there is no vf0 here"), ("card0.nope", "unknown variable")])
def test_a_narrowed_instance_must_exist(spec_copy, key, message):
    edit(spec_copy / "configs.yaml", "    initial: {card.fw: [\"off\"]}\n  s60-asic:",
         f"    initial: {{card.fw: [\"off\"], {key}: [\"off\"]}}\n  s60-asic:")
    with pytest.raises(InvalidSpec, match=message):
        load_spec(spec_copy)
