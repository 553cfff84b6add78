"""Property-based checks of the engine with Hypothesis: any sequence of actions, in any
embedded configuration, keeps every invariant and gives the same outcomes through the
closures and the transitions machines; a failure shrinks to the shortest sequence."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gcu_model.runtime.machines import Runtime

from conftest import embedded_config_names

CONFIGS = embedded_config_names()


@st.composite
def walks(draw, systems):
    system = systems[draw(st.sampled_from(CONFIGS))]
    initial = draw(st.sampled_from(system.initial))
    actions = draw(st.lists(st.sampled_from(system.actions), max_size=40))
    return system, initial, actions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_action_sequence_keeps_the_invariants(systems, data):
    system, state, actions = data.draw(walks(systems))
    runtime = Runtime(system, state)
    for ga in actions:
        ours = system.step(state, ga)
        assert runtime.apply(ga) == ours
        if ours.accepted:
            state = ours.state
            assert system.check_invariants(state) == [], f"after {ga.action}"
        else:
            assert ours.state == state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_refusals_change_nothing_and_name_a_known_errno(systems, data):
    import errno
    system, state, actions = data.draw(walks(systems))
    for ga in actions:
        outcome = system.step(state, ga)
        if not outcome.accepted and outcome.errno is not None:
            assert hasattr(errno, outcome.errno)
            assert outcome.message and "{" not in outcome.message
        if outcome.accepted:
            state = outcome.state
