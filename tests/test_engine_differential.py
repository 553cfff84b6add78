"""The three back ends compiled from one spec agree step by step (issue 2, item 5).

`System.step` (closures), the `transitions` machines (`Runtime.apply`) and the explorer's
generated successor function must give identical outcomes for thousands of random steps
in every embedded configuration, accepted and refused alike.
"""
from __future__ import annotations

import random

import pytest

from gcu_model.core.outcome import Accepted, OutOfBounds, Refused
from gcu_model.explore.explorer import compiled_for
from gcu_model.runtime.machines import Runtime

from conftest import embedded_config_names

STEPS = 3000


def generated_outcome(system, expand, state, ga):
    """What the generated successor function says about action `ga` in `state`."""
    succ, refused, bound = expand(state)
    for label, t in succ:
        if system.labels[label][0] == ga.id:
            return ("accepted", t, system.labels[label][1])
    for aid, rid in refused:
        if aid == ga.id:
            return ("refused", system.refusals[rid].errno, system.refusals[rid].rule)
    for label in bound:
        if system.labels[label][0] == ga.id:
            return ("bound",)
    raise AssertionError(f"generated code says nothing about {ga.action}")


def as_tuple(outcome):
    if isinstance(outcome, Accepted):
        return ("accepted", outcome.state, outcome.transition)
    if isinstance(outcome, Refused):
        return ("refused", outcome.errno, outcome.rule)
    assert isinstance(outcome, OutOfBounds)
    return ("bound",)


@pytest.mark.parametrize("config", embedded_config_names())
def test_closures_transitions_and_generated_code_agree(systems, config):
    system = systems[config]
    expand = compiled_for(system).expand
    runtime = Runtime(system)
    rng = random.Random(config)
    kinds = {"accepted": 0, "refused": 0, "bound": 0}
    state = rng.choice(system.initial)
    runtime.reset(state)
    for step in range(STEPS):
        if rng.random() < 0.5:
            # bias towards accepted actions so the walk gets deep into the state space
            succ, _, _ = expand(state)
            ga = system.actions[system.labels[rng.choice(succ)[0]][0]] if succ else rng.choice(system.actions)
        else:
            ga = rng.choice(system.actions)
        ours = system.step(state, ga)
        theirs = runtime.apply(ga)
        assert ours == theirs, f"step {step}: {ga.action}: closures {ours} != transitions {theirs}"
        gen = generated_outcome(system, expand, state, ga)
        assert as_tuple(ours) == gen, f"step {step}: {ga.action}: closures {as_tuple(ours)} != generated {gen}"
        kinds[gen[0]] += 1
        if ours.accepted:
            state = ours.state
        assert runtime.state == state
        if rng.random() < 0.01:
            state = rng.choice(system.initial)
            runtime.reset(state)
    # the walk must have exercised both kinds of outcome substantially
    assert kinds["accepted"] > STEPS // 4
    assert kinds["refused"] > STEPS // 10
