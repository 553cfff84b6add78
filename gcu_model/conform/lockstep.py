"""Lockstep property tests: random runs of one configuration, every step compared with the
reference host.

A Hypothesis `RuleBasedStateMachine` built from the spec, not written action by action.
Each run starts from a state of the configuration's reachability graph that witnesses a
transition or a refusal (reached by its shortest path; drawn about uniformly, so that each
is visited many times in a few hundred runs), probes there every action a guard check
refuses, and takes the transition the state witnesses; then its one rule draws an action:
mostly one the model accepts in the current state (so runs go deep), otherwise one it
refuses there (so every refusal is put to the test), the action's name first and then its
parameters, so that no action weighs more for having many variants. Only the
configuration's own actions are drawn: its instances and its parameter values, never the
extra slots or values the reference host offers for interactive use.

The oracle is the reference host on the unchanged spec; the target takes the same action,
and after every step the outcome (accepted, or the errno) and the observation (what a user
sees; the model's labels only on request) must agree. A run that diverges ends there and
the campaign goes on: every distinct divergence (what differs, at which action, in which
keys) is shrunk by delta debugging to a 1-minimal sequence, kept as a replayable prefix.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, rule

from ..adapters.targets import TargetError
from ..core.system import System
from ..explore.explorer import compiled_for, explore
from ..reference import visible
from ..reference.host import ReferenceHost, outcome_dict
from ..reference.shell import Shell
from ..reference.sysfs import Sysfs
from .observe import Observer, differences, flatten, outcome_of
from .by_hand import ByHand
from .runner import CaseResult, Divergence, send_command
from ..core.outcome import action_name

SWARM = 4                      # a run favours at most this many action names


MAX_REPORTED = 8               # distinct divergences a campaign shrinks and reports


@dataclass
class LockstepResult:
    config: str
    passed: bool
    examples: int
    steps: int
    seconds: float
    failures: list = field(default_factory=list)   # CaseResult per distinct divergence, shrunk
    distinct: int = 0                               # distinct divergences met (reported: the first MAX_REPORTED)
    via: str = "apply"
    by_command: int = 0                             # steps sent as the guide's command (via surface)

    @property
    def failure(self):
        return self.failures[0] if self.failures else None

    def as_dict(self) -> dict:
        d = {"config": self.config, "passed": self.passed, "examples": self.examples, "steps": self.steps,
             "seconds": round(self.seconds, 3), "via": self.via}
        if self.via == "surface":
            d["steps_by_command"] = self.by_command
        if self.failures:
            d["distinct_divergences"] = self.distinct
            d["failures"] = [f.as_dict()["failure"] | {"shrunk_steps": len(f.prefix)} for f in self.failures]
            d["failure"] = d["failures"][0]
            d["shrunk_steps"] = len(self.failure.prefix)
        return d


class _Found(AssertionError):
    """A step where the target and the oracle differ."""


class Oracle:
    """The reference host on the unchanged spec, seen as a target is: its outcomes, and its
    observation (what a user sees; with `model` the model's own labels too)."""

    def __init__(self, spec, config, model=False):
        self.host = ReferenceHost(spec, config)
        self.model = model
        self._attach()

    def _attach(self):
        self.fs = Sysfs(self.host)
        self.shell = Shell(self.host, self.fs)

    def reset_to(self, choose):
        self.host.reset_to(choose)

    def apply(self, action) -> dict:
        return outcome_of(outcome_dict(self.host.apply(action).outcome))

    def observation(self) -> dict:
        seen = flatten({"visible": visible.of_host(self.fs, self.shell)})
        return seen | flatten(self.host.observation()) if self.model else seen


class Comparer:
    """One step on both sides: the first difference of outcome or observation, as a
    Divergence, or None."""

    def __init__(self, oracle: Oracle, target, observer: Observer, via: str = "apply"):
        """`via`: "surface" sends a step as the guide's command where one is exactly that
        action (a second reference host plays it as an operator would, by_hand.py), as a
        sysfs write or a shell line; "apply" sends every step as `apply`."""
        if via not in ("apply", "surface"):
            raise ValueError(f"via: apply or surface, not {via!r}")
        self.oracle, self.target, self.observer = oracle, target, observer
        self.by_hand = ByHand(oracle.host.spec, oracle.host.config_name) if via == "surface" else None
        self.by_command = 0
        self.plan = None            # a replay's actions, known ahead: a line that waits may stand for several

    def reset(self, config, choose):
        self.oracle.reset_to(choose)
        if self.by_hand is not None:
            self.by_hand.ahead = self.plan is not None
            self.by_hand.start(choose)
        reply = self.target.request({"op": "reset", "config": config, "initial": choose})
        if not reply.get("ok"):
            return Divergence(0, "(reset)", {"config": config, "initial": choose}, {}, "reset",
                              reply.get("error", "refused"))
        return None

    def step(self, n, action, observe=True):
        done = self.oracle.host.apply(action)
        want = outcome_of(outcome_dict(done.outcome))
        by_hand = self.by_hand
        inside = by_hand.within(action, done, self.oracle.host) if by_hand is not None else None
        line = by_hand.command(action, done, self.oracle.host) if by_hand is not None and inside is None else None
        if line is not None and by_hand.pending and [a for a, _ in by_hand.pending] != (self.plan or [])[n:n + len(
                by_hand.pending)]:
            by_hand.live, by_hand.pending, line = False, [], None       # the replay goes another way: apply
        if inside:
            got, message = want, ""                    # done inside the line of an earlier step
        elif line is not None:
            self.by_command += 1
            got, message = send_command(self.target, line)
            if "errno" not in got:                     # a command line: its exit status alone says
                want = {"accepted": want["accepted"]}
            message = f"$ {line}" + (f": {message}" if message else "")
        else:
            reply = self.target.request({"op": "apply", "action": action})
            if not reply.get("ok"):
                raise TargetError(f"apply {action}: {reply.get('error', 'not ok')}")
            got, message = outcome_of(reply.get("outcome") or {}), (reply.get("outcome") or {}).get("message", "")
        if got != want:
            return Divergence(n, action, want, got, "outcome", message)
        if not observe or (by_hand is not None and by_hand.pending):
            return None                                # seen when the line has done its last step
        seen = self.observer.observe()
        if seen is None:
            return None
        diff = differences(self.oracle.observation(), seen, self.observer.model)
        if diff:
            return Divergence(n, action, {k: e for k, (e, _) in diff.items()}, {k: o for k, (_, o) in diff.items()},
                              "observation")
        return None


def signature(d: Divergence) -> tuple:
    """What tells two divergences apart: what differs, at which action, in which keys."""
    return (d.what, action_name(d.action), tuple(sorted(set(d.expected) | set(d.observed))))


def run_lockstep(spec, config: str, target, examples: int = 100, max_steps: int = 30,
                 seed: int | None = None, model: bool = False, first_only: bool = False,
                 via: str = "apply") -> LockstepResult:
    """Random runs of the configuration's own actions (its instances, its parameter values:
    nothing the configuration leaves out), every step compared; every distinct divergence
    met is shrunk and reported (`first_only`: the campaign ends at the first, as a mutation
    score needs)."""
    oracle = Oracle(spec, config, model)
    compare = Comparer(oracle, target, Observer(target, model), via)
    system = oracle.host.system
    expand = compiled_for(system).expand
    graph, starts = _graph(spec, config)
    own = {str(ga.action) for ga in graph.system.actions}       # the configuration's, not the host's
    by_name: dict = {}
    for ga in system.actions:
        if str(ga.action) in own:
            by_name.setdefault(ga.action.name, []).append(str(ga.action))
    aid_text = [str(ga.action) for ga in system.actions]
    all_names = sorted(by_name)
    ref_views = [system.describe(s) for s in system.initial]
    varying = sorted(k for k in ref_views[0] if len({repr(v[k]) for v in ref_views}) > 1)
    enabled_cache: dict = {}
    guarded = {r.id for r in system.refusals if r.ref.is_check}
    stats = {"examples": 0, "steps": 0}
    found: dict = {}                 # signature -> the first CaseResult with it

    def options(state):
        """(accepted, refused, probes): name -> [action texts] the model accepts / refuses in
        `state`, and the actions a guard check (not the source state) refuses there; all of
        them the configuration's own."""
        hit = enabled_cache.get(state)
        if hit is None:
            succ, refused, _ = expand(state)
            accepted = [aid_text[system.labels[label][0]] for label, _ in succ]
            refused_texts = [aid_text[aid] for aid, _ in refused]
            hit = enabled_cache[state] = (_group(a for a in accepted if a in own),
                                          _group(a for a in refused_texts if a in own),
                                          sorted(aid_text[aid] for aid, rid in refused
                                                 if rid in guarded and aid_text[aid] in own))
        return hit

    class Lockstep(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.trace = []
            self.choose = {}
            self.focus = set()
            self.done = False            # a divergence ended this run; the campaign goes on

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
            self._guarded(lambda: compare.reset(config, self.choose), "(reset)")
            for action in graph.path_to(node):
                self._step(str(action))
            # first, every action a guard check refuses here: each must be refused with the
            # same errno and change nothing (a driver that skips a check accepts one)
            probes = [] if self.done else options(oracle.host.state)[2]
            for k, action in enumerate(probes):
                self._step(action, record=False, observe=k == len(probes) - 1)
            if witnessed:                                # then the transition this state witnesses
                self._step(self.rng.choice(witnessed))

        @rule()
        def act(self):
            if self.done:
                return
            accepted, refused, _ = options(oracle.host.state)
            rng = self.rng
            mode = rng.randrange(5)
            pool = accepted if accepted and mode < 3 else refused or by_name
            focused = sorted(n for n in pool if n in self.focus) if pool is accepted else []
            names = focused if focused and rng.randrange(4) > 0 else sorted(pool)
            self._step(rng.choice(pool[rng.choice(names)]))

        def _step(self, action, record=True, observe=True):
            if self.done:
                return
            self.trace.append(action)
            stats["steps"] += 1
            self._guarded(lambda: compare.step(len(self.trace), action, observe), action)
            if not record and not self.done:     # a refused probe changes nothing: the replay needs it not
                self.trace.pop()

        def _guarded(self, run, action):
            try:
                d = run()
            except TargetError as exc:
                target.restart()
                d = Divergence(len(self.trace), action, {}, {}, "target", str(exc))
            if d is not None:
                result = CaseResult(f"{config}/lockstep", config, False, len(self.trace), 0.0, [],
                                    choose=self.choose)
                result.divergence = d
                result.prefix = list(self.trace)
                found.setdefault(signature(d), result)
                self.done = True
                if first_only:
                    raise _Found(f"step {len(self.trace)} {action}: {d.what} differs")

    # Hypothesis generates; each distinct difference is shrunk by delta debugging below,
    # which replays candidates directly and ends 1-minimal (Hypothesis' own shrinker replays
    # the whole run, probes included, hundreds of times, and may keep filler steps)
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
        # first_only: a difference raised _Found; Hypothesis then replays the run to report
        # it, which starts elsewhere and may call it flaky; what counts is what was found
        if not found:
            raise
    by_command = compare.by_command                  # the campaign's own steps, not the shrinker's
    failures, seen = [], set()
    for first in list(found.values())[:MAX_REPORTED]:
        shrunk = shrink(compare, config, first.choose, first.prefix) or first
        if signature(shrunk.divergence) not in seen:         # two may shrink to one
            seen.add(signature(shrunk.divergence))
            failures.append(shrunk)
    return LockstepResult(config, not found, stats["examples"], stats["steps"], time.perf_counter() - start,
                          failures, len(found), via, by_command)


def replay(compare: Comparer, config, choose, actions):
    """The first difference of the target from the oracle along `actions`, as a CaseResult
    (its prefix ends at the diverging step), or None."""
    compare.plan = list(actions)
    try:
        d = compare.reset(config, choose)
        if d is not None:
            return _result(config, choose, [], d)
        for n, action in enumerate(actions, 1):
            d = compare.step(n, action)
            if d is not None:
                return _result(config, choose, actions[:n], d)
        if compare.by_hand is not None and compare.by_hand.pending:    # ends inside a line that waits
            return None
    except TargetError as exc:
        compare.target.restart()
        return _result(config, choose, actions, Divergence(len(actions), actions[-1] if actions else "(reset)",
                                                           {}, {}, "target", str(exc)))
    finally:
        compare.plan = None
    return None


def shrink(compare: Comparer, config, choose, actions, budget: int = 2000):
    """Delta debugging (ddmin) over the actions: the shortest failing subsequence found,
    1-minimal (dropping any one more step makes the difference go away)."""
    best = replay(compare, config, choose, list(actions))
    if best is None:
        return None
    current, n, tries = list(best.prefix), 2, 0
    while len(current) >= 2 and tries < budget:
        chunk = max(1, len(current) // n)
        reduced = False
        for start in range(0, len(current), chunk):
            candidate = current[:start] + current[start + chunk:]
            tries += 1
            result = replay(compare, config, choose, candidate)
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


def comparer(spec, config, target, model=False, via="apply") -> Comparer:
    """A Comparer of `target` against the reference host, for replays and shrinking."""
    return Comparer(Oracle(spec, config, model), target, Observer(target, model), via)


def _result(config, choose, prefix, divergence):
    result = CaseResult(f"{config}/lockstep", config, False, divergence.step, 0.0, [], choose=choose)
    result.divergence = divergence
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
        out.setdefault(action_name(text), set()).add(text)
    return {k: sorted(v) for k, v in sorted(out.items())}
