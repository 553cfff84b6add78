"""Lockstep property tests (issue 6, item 3).

A Hypothesis `RuleBasedStateMachine` built from the spec, not written action by action:
its one rule draws an action of the configuration, mostly among those the model accepts
in the current state (so runs go deep), otherwise any action at all (so refusals are tried
too). The oracle is the reference host on the unchanged spec, the model's decisions plus
the device model; the target takes the same action, and after every step the outcome and
the observation must agree. On a difference Hypothesis shrinks the run to a minimal
sequence, which the result keeps as a replayable prefix.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, rule

from ..adapters.targets import TargetError
from ..core.outcome import Accepted
from ..reference.host import ReferenceHost, outcome_dict
from .observe import differences, flatten, outcome_of
from .runner import CaseResult, Divergence

ACCEPTED_BIAS = 4              # of 5 draws, 4 pick among the actions the model accepts


@dataclass
class LockstepResult:
    config: str
    passed: bool
    examples: int
    steps: int
    seconds: float
    failure: CaseResult | None = None

    def as_dict(self) -> dict:
        d = {"config": self.config, "passed": self.passed, "examples": self.examples, "steps": self.steps,
             "seconds": round(self.seconds, 3)}
        if self.failure is not None:
            d["failure"] = self.failure.as_dict()["failure"]
            d["shrunk_steps"] = len(self.failure.prefix)
        return d


class _Found(AssertionError):
    """A step where the target and the oracle differ."""


def run_lockstep(spec, config: str, target, examples: int = 100, max_steps: int = 30,
                 seed: int | None = None) -> LockstepResult:
    oracle = ReferenceHost(spec, config)
    system = oracle.system
    actions = [str(ga.action) for ga in system.actions]
    views = [system.describe(s) for s in system.initial]
    varying = sorted(k for k in views[0] if len({repr(v[k]) for v in views}) > 1)
    starts = [{k: v[k] for k in varying} for v in views]
    enabled_cache: dict = {}
    stats = {"examples": 0, "steps": 0}
    found: dict = {}

    def enabled(state):
        hit = enabled_cache.get(state)
        if hit is None:
            hit = enabled_cache[state] = [a for a in actions if isinstance(system.step(state, a), Accepted)]
        return hit

    class Lockstep(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.trace = []
            self.choose = {}

        @initialize(start=st.integers(0, len(starts) - 1))
        def begin(self, start):
            stats["examples"] += 1
            self.choose = starts[start]
            oracle.reset_to(self.choose)
            try:
                reply = target.request({"op": "reset", "config": config, "initial": self.choose})
            except TargetError as exc:
                target.restart()
                self._fail("(reset)", "target", {}, {}, str(exc))
            if not reply.get("ok"):
                self._fail("(reset)", "reset", {"config": config}, {}, reply.get("error", ""))

        @rule(data=st.data())
        def act(self, data):
            choices = enabled(oracle.state)
            pool = choices if choices and data.draw(st.integers(0, ACCEPTED_BIAS)) > 0 else actions
            action = data.draw(st.sampled_from(pool), label="action")
            self.trace.append(action)
            stats["steps"] += 1
            want = outcome_of(outcome_dict(oracle.apply(action).outcome))
            try:
                reply = target.request({"op": "apply", "action": action})
                if not reply.get("ok"):
                    raise TargetError(f"apply {action}: {reply.get('error', 'not ok')}")
                got = outcome_of(reply.get("outcome") or {})
                if got != want:
                    self._fail(action, "outcome", want, got, (reply.get("outcome") or {}).get("message", ""))
                observed = target.request({"op": "observe"})
            except TargetError as exc:
                target.restart()
                self._fail(action, "target", {}, {}, str(exc))
            if observed.get("ok"):
                diff = differences(flatten(oracle.observation()), flatten(observed))
                if diff:
                    self._fail(action, "observation", {k: e for k, (e, _) in sorted(diff.items())},
                               {k: o for k, (_, o) in sorted(diff.items())})

        def _fail(self, action, what, expected, observed, message=""):
            result = CaseResult(f"{config}/lockstep", config, False, len(self.trace), 0.0, [], choose=self.choose)
            result.divergence = Divergence(len(self.trace), action, expected, observed, what, message)
            result.prefix = list(self.trace)
            found["last"] = result                     # the last failing run is the shrunk one
            raise _Found(f"step {len(self.trace)} {action}: {what} differs")

    test = get_state_machine_test(Lockstep, settings=settings(
        max_examples=examples, stateful_step_count=max_steps, deadline=None, database=None,
        derandomize=seed is None, verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck)))
    if seed is not None:
        test._hypothesis_internal_use_seed = seed
    start = time.perf_counter()
    try:
        test()
        passed = True
    except _Found:
        passed = False
    except BaseException as exc:                    # hypothesis wraps several failures in a group
        if not found or not _is_found(exc):
            raise
        passed = False
    return LockstepResult(config, passed, stats["examples"], stats["steps"], time.perf_counter() - start,
                          None if passed else found["last"])


def _is_found(exc) -> bool:
    if isinstance(exc, _Found):
        return True
    return any(_is_found(e) for e in getattr(exc, "exceptions", ()))
