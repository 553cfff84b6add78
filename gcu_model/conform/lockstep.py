"""Lockstep property tests (issue 6, item 3).

A Hypothesis `RuleBasedStateMachine` built from the spec, not written action by action.
Each run starts from a state of the configuration's reachability graph that witnesses a
transition or a refusal (reached by its shortest path; drawn about uniformly, so that
each is visited many times in a few hundred runs), probes there every action a guard check refuses, takes the
transition the state witnesses; then its
one rule draws an action: mostly one the model accepts in the current state (so runs go
deep), otherwise one it refuses there (so every refusal is put to the test), the action's name first
and then its parameters, so that no action weighs more for having many variants. Every
step of the path and of the run is compared. The oracle is the reference host on the unchanged spec, the model's decisions plus
the device model; the target takes the same action, and after every step the outcome and
the observation must agree. The first difference is shrunk by delta debugging to a
1-minimal sequence, which the result keeps as a replayable prefix.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, rule

from ..adapters.targets import TargetError
from ..core.system import System
from ..explore.explorer import compiled_for, explore
from ..reference.host import ReferenceHost, outcome_dict
from .observe import differences, flatten, outcome_of
from .runner import CaseResult, Divergence

SWARM = 4                      # a run favours at most this many action names


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
    expand = compiled_for(system).expand
    by_name: dict = {}
    for ga in system.actions:
        by_name.setdefault(ga.action.name, []).append(str(ga.action))
    aid_text = [str(ga.action) for ga in system.actions]
    all_names = sorted(by_name)
    graph, starts = _graph(spec, config)
    ref_views = [system.describe(s) for s in system.initial]
    varying = sorted(k for k in ref_views[0] if len({repr(v[k]) for v in ref_views}) > 1)
    enabled_cache: dict = {}
    guarded = {r.id for r in system.refusals if " guard " in r.rule or ": check " in r.rule}
    stats = {"examples": 0, "steps": 0}
    found: dict = {}

    def options(state):
        """(accepted, refused, probes): name -> [action texts] the model accepts / refuses in
        `state`, and the actions a guard check (not the source state) refuses there."""
        hit = enabled_cache.get(state)
        if hit is None:
            succ, refused, _ = expand(state)
            hit = enabled_cache[state] = (_group(aid_text[system.labels[label][0]] for label, _ in succ),
                                          _group(aid_text[aid] for aid, _ in refused),
                                          sorted(aid_text[aid] for aid, rid in refused if rid in guarded))
        return hit

    class Lockstep(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.trace = []
            self.choose = {}
            self.focus = set()

        @initialize(data=st.data())
        def begin(self, data):
            stats["examples"] += 1
            # Hypothesis draws values far from uniformly (some start states would never be
            # drawn in hundreds of runs); each run takes a seeded uniform generator instead,
            # drawn from Hypothesis so that a run replays exactly
            self.rng = data.draw(st.randoms(use_true_random=True), label="seed")
            node, witnessed = self.rng.choice(starts)
            # swarm testing: each run favours a few actions, so that pairs such as
            # (modprobe_peermem, rmmod) meet far more often than among all of them
            self.focus = set(self.rng.sample(all_names, min(len(all_names), self.rng.randint(1, SWARM))))
            root = graph.system.describe(graph.states[graph.root_of(node)])
            self.choose = {k: root[k] for k in varying if k in root}
            oracle.reset_to(self.choose)
            try:
                reply = target.request({"op": "reset", "config": config, "initial": self.choose})
            except TargetError as exc:
                target.restart()
                self._fail("(reset)", "target", {}, {}, str(exc))
            if not reply.get("ok"):
                self._fail("(reset)", "reset", {"config": config}, {}, reply.get("error", ""))
            for action in graph.path_to(node):
                self._step(str(action))
            # first, every action a guard check refuses here: each must be refused with the
            # same errno and change nothing (a driver that skips a check accepts one)
            probes = options(oracle.state)[2]
            for k, action in enumerate(probes):
                self._step(action, record=False, observe=k == len(probes) - 1)
            if witnessed:                                # then the transition this state witnesses
                self._step(self.rng.choice(witnessed))

        @rule()
        def act(self):
            accepted, refused, _ = options(oracle.state)
            rng = self.rng
            mode = rng.randrange(5)
            pool = accepted if accepted and mode < 3 else refused or by_name
            focused = sorted(n for n in pool if n in self.focus) if pool is accepted else []
            names = focused if focused and rng.randrange(4) > 0 else sorted(pool)
            self._step(rng.choice(pool[rng.choice(names)]))

        def _step(self, action, record=True, observe=True):
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
                observed = target.request({"op": "observe"}) if observe else {}
            except TargetError as exc:
                target.restart()
                self._fail(action, "target", {}, {}, str(exc))
            if observed.get("ok"):
                diff = differences(flatten(oracle.observation()), flatten(observed))
                if diff:
                    self._fail(action, "observation", {k: e for k, (e, _) in sorted(diff.items())},
                               {k: o for k, (_, o) in sorted(diff.items())})
            if not record:                 # a refused probe changes nothing: the replay needs it not
                self.trace.pop()

        def _fail(self, action, what, expected, observed, message=""):
            result = CaseResult(f"{config}/lockstep", config, False, len(self.trace), 0.0, [], choose=self.choose)
            result.divergence = Divergence(len(self.trace), action, expected, observed, what, message)
            result.prefix = list(self.trace)
            found.setdefault("first", result)
            raise _Found(f"step {len(self.trace)} {action}: {what} differs")

    # Hypothesis generates; the first difference is shrunk by delta debugging below, which
    # replays candidates directly and ends 1-minimal (Hypothesis' own shrinker replays the
    # whole run, probes included, hundreds of times, and may keep filler steps)
    test = get_state_machine_test(Lockstep, settings=settings(
        max_examples=examples, stateful_step_count=max_steps, deadline=None, database=None,
        derandomize=seed is None, verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate]))
    if seed is not None:
        test._hypothesis_internal_use_seed = seed
    start = time.perf_counter()
    try:
        test()
    except BaseException:
        # a difference raises _Found; Hypothesis then replays the run to report it, which
        # starts elsewhere (the start states go round) and may call it flaky: the first
        # difference is what counts, and delta debugging below makes it replayable
        if "first" not in found:
            raise
    passed = "first" not in found
    failure = None
    if not passed:
        first = found["first"]
        failure = shrink(oracle, target, config, first.choose, first.prefix) or first
    return LockstepResult(config, passed, stats["examples"], stats["steps"], time.perf_counter() - start, failure)


def replay(oracle, target, config, choose, actions):
    """The first difference of the target from the oracle along `actions`, or None."""
    oracle.reset_to(choose)
    try:
        reply = target.request({"op": "reset", "config": config, "initial": choose})
        if not reply.get("ok"):
            return _result(config, choose, actions, 0, "(reset)", "reset", {}, {}, reply.get("error", ""))
        for n, action in enumerate(actions, 1):
            want = outcome_of(outcome_dict(oracle.apply(action).outcome))
            reply = target.request({"op": "apply", "action": action})
            if not reply.get("ok"):
                raise TargetError(f"apply {action}: {reply.get('error', 'not ok')}")
            got = outcome_of(reply.get("outcome") or {})
            if got != want:
                return _result(config, choose, actions[:n], n, action, "outcome", want, got,
                               (reply.get("outcome") or {}).get("message", ""))
            observed = target.request({"op": "observe"})
            if observed.get("ok"):
                diff = differences(flatten(oracle.observation()), flatten(observed))
                if diff:
                    return _result(config, choose, actions[:n], n, action, "observation",
                                   {k: e for k, (e, _) in sorted(diff.items())},
                                   {k: o for k, (_, o) in sorted(diff.items())})
    except TargetError as exc:
        target.restart()
        return _result(config, choose, actions, len(actions), actions[-1] if actions else "(reset)", "target",
                       {}, {}, str(exc))
    return None


def shrink(oracle, target, config, choose, actions, budget: int = 2000):
    """Delta debugging (ddmin) over the actions: the shortest failing subsequence found,
    1-minimal (dropping any one more step makes the difference go away)."""
    best = replay(oracle, target, config, choose, list(actions))
    if best is None:
        return None
    current, n, tries = list(best.prefix), 2, 0
    while len(current) >= 2 and tries < budget:
        chunk = max(1, len(current) // n)
        reduced = False
        for start in range(0, len(current), chunk):
            candidate = current[:start] + current[start + chunk:]
            tries += 1
            result = replay(oracle, target, config, choose, candidate)
            if result is not None:
                best, current = result, list(result.prefix)
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(current), n * 2)
    return best


def _result(config, choose, prefix, step, action, what, expected, observed, message=""):
    result = CaseResult(f"{config}/lockstep", config, False, step, 0.0, [], choose=choose)
    result.divergence = Divergence(step, action, expected, observed, what, message)
    result.prefix = list(prefix)
    return result


_GRAPHS: dict = {}


def _graph(spec, config):
    """The configuration's explored graph and start nodes, once per spec object."""
    key = (id(spec), config)
    hit = _GRAPHS.get(key)
    if hit is None or hit[0] is not spec:
        if len(_GRAPHS) > 32:
            _GRAPHS.clear()
        graph = explore(System(spec, config), graph=True)
        hit = _GRAPHS[key] = (spec, graph, _start_nodes(graph))
    return hit[1], hit[2]


def _start_nodes(graph) -> list:
    """Where runs start: [(node, actions it witnesses)] for the states that witness a
    transition or a refusal of the configuration (coverage.py), each the shallowest with
    it. A refusal's witness is a state where that check alone is likely what refuses, so
    a driver that skips it shows there; a transition's witness is where it fires first,
    and a run from there takes it first."""
    from .coverage import Go, Graph, find_targets
    g = Graph(graph)
    targets = find_targets(g, ("transitions", "refusals"))
    nodes: dict = {}
    system = graph.system
    for (criterion, _), w in targets.witness.items():
        node = w.start
        for step in w.steps[:-1]:
            node = step.node
        witnessed = nodes.setdefault(node, set())
        last = w.steps[-1] if w.steps else None
        if criterion == "transitions" and isinstance(last, Go):
            witnessed.add(str(system.actions[system.labels[last.label][0]].action))
    return [(node, sorted(actions)) for node, actions in sorted(nodes.items())]


def _group(texts) -> dict:
    out: dict = {}
    for text in texts:
        out.setdefault(text.split("(")[0], set()).add(text)
    return {k: sorted(v) for k, v in sorted(out.items())}
