"""One configuration of the spec, ground and ready to run (issue 2, item 4).

`System` holds the closed set of actions of a configuration and, for each, its ground
rules: action-level checks, then the candidate transitions (source states, selector,
ordered guard checks with their errno, effect, destination). `step` interprets them with
Python closures; `gcu_model.core.codegen` generates the explorer's fast successor
function from the very same ground rules.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ..spec.errors import InvalidSpec
from ..spec.model import Config, PerInstance, Spec
from ..spec.types import EnumT, IntT
from . import closures
from .ground import TRUE, Grounder, assigned_slots, is_lit
from .layout import Layout
from ..spec.ruleref import RuleRef
from .outcome import Accepted, Action, OutOfBounds, Refused, action_name


@dataclass
class Refusal:
    """One way an action can be refused: errno, message, the rule and its requirement IDs."""
    id: int
    errno: str
    message: str         # may still contain {state}
    ref: RuleRef         # the check that refuses
    reqs: tuple
    template: str = ""   # the spec's message, before the parameters were put in
    fmt: dict = field(default_factory=dict, compare=False)   # the values put in

    @property
    def rule(self) -> str:
        return str(self.ref)

    def text(self, state_name: str) -> str:
        return self.message.replace("{state}", state_name) if "{state}" in self.message else self.message

    def text_with(self, state_name: str, values: dict) -> str:
        """The message with some parameters shown otherwise (an open enum's real value)."""
        return _format(self.template, {**self.fmt, **values, "state": state_name})


@dataclass
class GroundRule:
    transition: object   # spec Transition
    sources: tuple       # state indexes
    when: tuple          # ground term
    checks: tuple        # ((term, refusal id), ...)
    effect: tuple        # ground statements
    dest: int | None
    observations: tuple
    label: int           # edge label id: (action, transition) pair
    bounded: tuple       # ((slot, lo, hi), ...) int slots the effect assigns


@dataclass
class GroundAction:
    id: int
    action: Action
    decl: object         # spec ActionDecl
    target: int          # instance index of the machine's family
    control: int         # slot of the target machine's control state
    states: tuple        # the machine's state names
    checks: tuple        # ((term, refusal id), ...)
    rules: tuple         # GroundRule, in spec order
    otherwise: int       # refusal id when no rule applies


class System:
    def __init__(self, spec: Spec, config: Config | str, freeze: bool = True, unbounded_counters: bool = False):
        if isinstance(config, str):
            if config not in spec.configs:
                raise KeyError(config)
            config = spec.configs[config]
        self.spec = spec
        self.config = config
        self.unbounded_counters = unbounded_counters   # for proofs only: see Layout
        self._ground(Layout(spec, config, unbounded_counters=unbounded_counters))
        # Variables that no step of this configuration changes are constants here: they are
        # folded into the rules and left out of the state tuple, which keeps states small.
        # Freezing folds constants, which can show more variables to be constant: repeat
        # until nothing more freezes.
        frozen: dict = {}
        while freeze:
            more = self._unchanging_variables()
            if not more:
                break
            frozen.update(more)
            self._ground(Layout(spec, config, frozen, unbounded_counters))
        self.by_text = {str(a.action): a for a in self.actions}
        self.initial = self.layout.initial_states()
        self.properties = [p for p in spec.properties if self.applies(p.when)]
        self.invariants = [p for p in self.properties if p.kind == "invariant"]
        self.goals = [p for p in self.properties if p.kind == "goal"]
        env = {"params": {}, "self": None, "bound": {}}
        self.invariant_terms = [self.grounder.term(p.expr, env) for p in self.invariants]
        self.goal_terms = [self.grounder.term(p.expr, env) for p in self.goals]
        self._step_fns = {}
        self.quantity_terms = {}        # "card0.l3_per_vf_mb" -> ground term
        for (family, qname), q in sorted(spec.quantities.items()):
            for inst in self.layout.instances[family]:
                self.quantity_terms[f"{inst.label}.{qname}"] = self.grounder.term(
                    q.expr, {"params": {}, "self": inst.index, "bound": {}})

    def _ground(self, layout):
        self.layout = layout
        self.grounder = Grounder(layout)
        self.refusals: list[Refusal] = []
        self._refusal_ids: dict = {}
        self.labels: list[tuple] = []            # label id -> (action id, transition id)
        self.actions: list[GroundAction] = []
        self._build_actions()

    def _unchanging_variables(self) -> dict:
        """(family, instance, var) -> value for every variable with one initial value that
        no ground rule sets to anything else."""
        layout = self.layout
        single = {}
        initial = layout.initial_states()
        for k, slot in enumerate(layout.slots):
            values = {state[k] for state in initial}
            if len(values) == 1:
                single[k] = next(iter(values))
        # the control state of a machine this configuration drives stays in the tuple, so
        # every action can test its source state
        changed = {ga.control for ga in self.actions}

        def walk(stmts):
            for st in stmts:
                if st[0] == "set":
                    if not (st[2][0] == "lit" and single.get(st[1], object()) == st[2][1]):
                        changed.add(st[1])
                else:
                    walk(st[2])
                    walk(st[3])
        for ga in self.actions:
            if any(t == ("lit", False) for t, _ in ga.checks):
                continue                          # always refused: changes nothing
            for rule in ga.rules:
                if any(t == ("lit", False) for t, _ in rule.checks):
                    continue                      # a rule that only ever refuses
                walk(rule.effect)
                if rule.dest is not None and single.get(ga.control) != rule.dest:
                    changed.add(ga.control)
        return {(layout.slots[k].family, layout.slots[k].instance, layout.slots[k].var): v
                for k, v in single.items() if k not in changed}

    def applies(self, when) -> bool:
        if when is None:
            return True
        t = self.grounder.term(when, {"params": {}, "self": None, "bound": {}})
        return bool(t[1])

    # ------------------------------------------------------------ building
    def refusal(self, errno, message, ref: RuleRef, reqs, params_fmt) -> int:
        msg = _format(message, params_fmt)
        key = (errno, msg, ref)
        rid = self._refusal_ids.get(key)
        if rid is None:
            rid = len(self.refusals)
            self.refusals.append(Refusal(rid, errno, msg, ref, tuple(reqs), message, dict(params_fmt)))
            self._refusal_ids[key] = rid
        return rid

    def _param_domain(self, p):
        if p.is_instance:
            return [(i.index, i.label) for i in self.layout.instances[p.type]]
        kind = p.domain[0]
        if kind == "range":
            lo = self.layout.int_value(p.domain[1], p.where)
            hi = self.layout.int_value(p.domain[2], p.where)
            return [(v, str(v)) for v in range(lo, hi + 1)]
        values = p.domain[1]
        if kind == "constant":                  # a set constant: the configuration's choice
            values = sorted(self.config.values[values], key=lambda v: p.type.values.index(v)
                            if isinstance(p.type, EnumT) else v)
        if isinstance(p.type, EnumT):
            return [(p.type.values.index(v), v) for v in values]
        return [(v, str(v).lower() if isinstance(v, bool) else str(v)) for v in values]

    def _build_actions(self):
        spec = self.spec
        by_trigger = {}
        for t in spec.transitions:
            by_trigger.setdefault(t.trigger, []).append(t)
        # a per-card constant reads as the action's own card's value, else as the host's values
        fmt_consts = {k: v.display(_display) if isinstance(v, PerInstance) else _display(v)
                      for k, v in self.config.values.items()}
        for decl in spec.actions.values():
            if not self.applies(decl.when):
                continue
            machine = spec.machines[decl.machine]
            domains = [self._param_domain(p) for p in decl.params]
            for combo in itertools.product(*domains):
                params = {p.name: v for p, (v, _) in zip(decl.params, combo)}
                shown = tuple((p.name, label) for p, (_, label) in zip(decl.params, combo))
                action = Action(decl.name, shown)
                if isinstance(decl.target, str):
                    target = params[decl.target]
                elif decl.target is not None:           # `target:` expression, e.g. vf.card
                    target = self.grounder.term(decl.target, {"params": params, "self": None, "bound": {}})[1]
                else:
                    target = 0
                env = {"params": params, "self": target, "bound": {}}
                fmt = dict(fmt_consts)
                fmt.update({k: _display(v) for k, v in self.layout.facts_of(machine.family, target).items()})
                fmt.update({k: v for k, v in shown})
                aid = len(self.actions)
                checks = tuple((self.grounder.term(c.expr, env),
                                self.refusal(c.errno, c.message, RuleRef.check(decl.name, i + 1), c.reqs or decl.reqs, fmt))
                               for i, c in enumerate(decl.checks))
                rules = []
                for t in by_trigger.get(decl.name, []):
                    when = self.grounder.term(t.when, env) if t.when is not None else TRUE
                    if is_lit(when) and not when[1]:
                        continue
                    tchecks = tuple((self.grounder.term(c.expr, env),
                                     self.refusal(c.errno, c.message, RuleRef.guard(t.id, i + 1), c.reqs or t.reqs, fmt))
                                    for i, c in enumerate(t.checks))
                    effect = self.grounder.stmts(t.effect, env)
                    bounded = []
                    for slot in sorted(assigned_slots(effect)):
                        s = self.layout.slots[slot]
                        if isinstance(s.type, IntT):
                            bounded.append((slot, s.lo, s.hi))
                    label = len(self.labels)
                    self.labels.append((aid, t.id))
                    rules.append(GroundRule(
                        t, tuple(machine.states.index(s) for s in t.sources), when, tchecks, effect,
                        machine.states.index(t.dest) if t.dest is not None else None,
                        tuple(_format(e, fmt) for e in t.emit), label, tuple(bounded)))
                control = self.layout.slot_of[(machine.family, target, machine.control)]
                otherwise = self.refusal(decl.otherwise_errno, decl.otherwise_message, RuleRef.otherwise(decl.name),
                                         decl.reqs, {**fmt, "state": "{state}"})
                self.actions.append(GroundAction(aid, action, decl, target, control, machine.states, checks,
                                                 tuple(rules), otherwise))

    # ------------------------------------------------------------ running
    def action(self, text_or_action) -> GroundAction:
        """Look an action up by its text, e.g. 'write_sriov_numvfs(card=card0, n=4)'."""
        key = str(text_or_action)
        ga = self.by_text.get(key)
        if ga is None:
            parsed = Action.parse(key)
            if parsed is not None:
                name, params = parsed.name, parsed.kwargs
                decl = self.spec.actions.get(name)
                if decl is not None:
                    order = [p.name for p in decl.params]
                    if set(params) == set(order):
                        canon = Action(name, tuple((k, params[k]) for k in order))
                        ga = self.by_text.get(str(canon))
            if ga is None:
                raise UnknownAction(key, self)
        return ga

    def _compiled(self, ga: GroundAction):
        fn = self._step_fns.get(ga.id)
        if fn is None:
            fn = closures.compile_action(self, ga)
            self._step_fns[ga.id] = fn
        return fn

    def step(self, state: tuple, action) -> object:
        """Apply one action: Accepted (new state, observations), Refused (errno) or OutOfBounds."""
        ga = action if isinstance(action, GroundAction) else self.action(action)
        kind, a, b = self._compiled(ga)(state)
        if kind == "ok":
            rule = a
            return Accepted(b, rule.observations, rule.transition.id)
        if kind == "refused":
            r = self.refusals[a]
            return Refused(state, r.errno, r.text(ga.states[state[ga.control]]), r.rule, r.reqs, r.id)
        return OutOfBounds(state, a)

    def enabled(self, state: tuple) -> list:
        """The actions accepted in `state`."""
        return [ga.action for ga in self.actions if self.step(state, ga).accepted]

    def check_invariants(self, state) -> list:
        """Names of the invariants that `state` violates."""
        if not hasattr(self, "_invariant_fns"):
            self._invariant_fns = [closures.term(t) for t in self.invariant_terms]
        return [p.name for p, fn in zip(self.invariants, self._invariant_fns) if not fn(state)]

    def rule_closures(self, ga) -> tuple:
        """(pre-checks, [(condition, guard checks, effect) per rule]) of one ground action,
        compiled once per System: a Runtime (every reference host) runs these, and they read
        and write only the value list they are given."""
        if not hasattr(self, "_rule_fns"):
            self._rule_fns = {}
        hit = self._rule_fns.get(ga.id)
        if hit is None:
            hit = self._rule_fns[ga.id] = ([(closures.term(t), rid) for t, rid in ga.checks],
                                           [closures.compile_rule(rule) for rule in ga.rules])
        return hit

    def describe(self, state) -> dict:
        return self.layout.describe(state)

    def quantities(self, state) -> dict:
        """Every quantity of every instance in `state`, e.g. {'card0.l3_per_vf_mb': 23552}."""
        if not hasattr(self, "_quantity_fns"):
            self._quantity_fns = {k: closures.term(t) for k, t in self.quantity_terms.items()}
        return {k: fn(state) for k, fn in self._quantity_fns.items()}

    def state_summary(self, state) -> str:
        """The slots that differ from the first initial state, as one line."""
        base = self.initial[0]
        parts = [f"{s.label}={self.layout.decode(v, s.type)}" for s, v, b in zip(self.layout.slots, state, base) if v != b]
        return ", ".join(parts) if parts else "(initial values)"


class UnknownAction(Exception):
    def __init__(self, text, system):
        import difflib
        names = sorted({a.action.name for a in system.actions})
        name = action_name(text)
        if name in names:
            examples = [str(a.action) for a in system.actions if a.action.name == name][:3]
            msg = (f"action '{text}' is not one of this configuration's actions; "
                   f"{name} takes e.g. {', '.join(examples)}")
        else:
            close = difflib.get_close_matches(name, names, n=1)
            msg = f"unknown action '{name}'" + (f" (did you mean '{close[0]}'?)" if close else "")
        super().__init__(msg)


def _display(v):
    if isinstance(v, frozenset):
        return ",".join(str(x) for x in sorted(v)) if v else "none"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


_FIELD = re.compile(r"\{(\w+)\}")


def _format(template: str, values: dict) -> str:
    """The spec's message with {name} put in; a name not given stays as written."""
    if "{" not in template:
        return template
    return _FIELD.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def build(spec: Spec, config_name: str) -> System:
    if config_name not in spec.configs:
        raise InvalidSpec(f"unknown configuration '{config_name}' (known: {', '.join(spec.configs)})",
                          culprit=config_name)
    return System(spec, spec.configs[config_name])
