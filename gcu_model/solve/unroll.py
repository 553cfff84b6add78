"""Set-ups as a bounded unrolling of the transition relation in z3 (issue 4, item 1).

States s0 ... sk, one z3 constant per slot each; s0 is an initial state; step i picks one
(ground action, rule) of the set-up alphabet, or stops (and then every later step stops
too). The rule's selection and effect are hard constraints; each of its checks (the
action's checks, then the guard's) is guarded by a literal named after the check, shared
by every step and every action it belongs to. With every literal assumed, a query is
unsat exactly when the spec's rules forbid it; the unsat core names the checks, and so
the requirement IDs, that do.
"""
from __future__ import annotations

from dataclasses import dataclass

import z3

from ..core.z3terms import Z3Encoder
from ..prove.relation import symbolic_steps


@dataclass
class Found:
    actions: list            # action texts, in order
    state: tuple             # the final state


class Unrolling:
    def __init__(self, system, alphabet, k: int):
        self.system, self.k = system, k
        enc0 = Z3Encoder(system.layout, prefix="s0")
        self.encs = [enc0] + [Z3Encoder(system.layout, prefix=f"s{i}") for i in range(1, k + 1)]
        names = set(alphabet)
        # the relation over each step's own state constants (cheaper than z3.substitute)
        self.relation = [list(symbolic_steps(system, enc, names)) for enc in self.encs[:k]] or \
            [list(symbolic_steps(system, enc0, names))]
        self.steps = self.relation[0]
        self.stop = len(self.steps)
        self.choice = [z3.Int(f"a{i}") for i in range(k)]
        self.literals = {}                                  # check name -> z3 Bool
        self.checks_of = {}                                 # check name -> Refusal
        self.solver = z3.Solver()
        self.solver.set("timeout", 30000)
        self._build(enc0)

    def _literal(self, refusal_id):
        refusal = self.system.refusals[refusal_id]
        name = refusal.rule
        if name not in self.literals:
            self.literals[name] = z3.Bool(f"check:{name}")
            self.checks_of[name] = refusal
        return self.literals[name]

    def _build(self, enc0):
        add = self.solver.add
        initial = [z3.And(*[v == _z3val(v, x) for v, x in zip(enc0.vars, state)]) for state in self.system.initial]
        add(z3.Or(*initial))
        for i in range(self.k):
            a = self.choice[i]
            add(a >= 0, a <= self.stop)
            if i > 0:
                add(z3.Implies(self.choice[i - 1] == self.stop, a == self.stop))
            now, nxt = self.encs[i], self.encs[i + 1]
            add(*nxt.domain())          # a step that would leave a variable's bounds is no step (OutOfBounds)
            add(z3.Implies(a == self.stop, z3.And(*[x == y for x, y in zip(nxt.vars, now.vars)])))
            for j, st in enumerate(self.relation[i]):
                frame = [nxt.vars[slot] == st.post.get(slot, now.vars[slot]) for slot in range(len(now.vars))]
                add(z3.Implies(a == j, z3.And(st.selected, *frame)))
                for term, rid in st.checks:
                    add(z3.Implies(z3.And(a == j, self._literal(rid)), term))

    def choose(self, i, action_text):
        """Step i must be this action (any of its rules)."""
        js = [j for j, st in enumerate(self.steps) if st.text == action_text]
        return z3.Or(*[self.choice[i] == j for j in js]) if js else z3.BoolVal(False)

    def at_end(self, term):
        """A ground term of the system, over the last state."""
        return z3.substitute(self.encs[0].term(term), *zip(self.encs[0].vars, self.encs[self.k].vars))

    def solve(self, *constraints):
        """Found, or the minimal unsat core as a sorted list of check names, or None when
        z3 gave up."""
        self.solver.push()
        self.solver.add(*constraints)
        try:
            result = self.solver.check(*self.literals.values())
            if result == z3.sat:
                return self._decode(self.solver.model())
            if result == z3.unsat:
                return self._minimal(list(self.solver.unsat_core()))
            return None
        finally:
            self.solver.pop()

    def _minimal(self, core):
        """Deletion-based: drop a literal whenever the others still forbid the query."""
        k = 0
        while k < len(core):
            rest = core[:k] + core[k + 1:]
            if self.solver.check(*rest) == z3.unsat:
                core = rest
            else:
                k += 1
        names = {str(v): name for name, v in self.literals.items()}
        return sorted(names[str(c)] for c in core)

    def _decode(self, model):
        actions = []
        for a in self.choice:
            j = model.eval(a, model_completion=True).as_long()
            if j == self.stop:
                break
            actions.append(self.steps[j].text)
        enc = self.encs[len(actions)]
        state = tuple(_py(model.eval(v, model_completion=True)) for v in enc.vars)
        return Found(actions, state)


def _z3val(var, x):
    if z3.is_bool(var):
        return z3.BoolVal(bool(x))
    if z3.is_bv(var):
        return z3.BitVecVal(x, var.size())
    return z3.IntVal(x)


def _py(v):
    return z3.is_true(v) if z3.is_bool(v) else v.as_long()
