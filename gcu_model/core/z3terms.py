"""Ground terms -> z3 terms, from the same trees the Python back ends use.

Slots become z3 constants: bools Bool, ints/enums/refs Int, sets BitVec (one bit per
element). `domain()` gives the constraints that keep each slot inside its type (and,
for counters, inside the configuration's bound unless `bounded=False`).
"""
from __future__ import annotations

import z3

from ..spec.types import BoolT, EnumT, IntT, RefT, SetT


class Z3Encoder:
    def __init__(self, layout, prefix: str = "s"):
        self.layout = layout
        self.vars = []
        for slot in layout.slots:
            name = f"{prefix}.{slot.label}"
            t = slot.type
            if isinstance(t, BoolT):
                v = z3.Bool(name)
            elif isinstance(t, SetT):
                v = z3.BitVec(name, max(1, len(t.elem.values)))
            else:
                v = z3.Int(name)
            self.vars.append(v)

    def domain(self, bounded: bool = True) -> list:
        out = []
        for slot, v in zip(self.layout.slots, self.vars):
            t = slot.type
            if isinstance(t, EnumT):
                out.append(z3.And(v >= 0, v < len(t.values)))
            elif isinstance(t, RefT):
                out.append(z3.And(v >= -1, v < len(self.layout.instances[t.family])))
            elif isinstance(t, IntT):
                out.append(v >= slot.lo)
                if bounded and slot.hi is not None:
                    out.append(v <= slot.hi)
        return out

    def term(self, t, env=None):
        """env: slot -> z3 term overriding the slot's constant (effects in progress)."""
        env = env or {}
        return self._t(t, env)

    def _t(self, t, env):
        kind = t[0]
        if kind == "lit":
            v = t[1]
            if isinstance(v, bool):
                return z3.BoolVal(v)
            if isinstance(v, int):
                return z3.IntVal(v)
            raise TypeError(f"literal {v!r} has no z3 form")
        if kind == "slot":
            return env.get(t[1], self.vars[t[1]])
        if kind == "not":
            return z3.Not(self._t(t[1], env))
        if kind == "neg":
            return -self._t(t[1], env)
        if kind == "bin":
            op = t[1]
            if op == "<<":          # 1 << e: a one-bit mask
                return ("shift", t[3])
            a, b = self._t(t[2], env), self._t(t[3], env)
            a, b = self._align(a, b, env)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "//":      # floor division, x // 0 == 0 (z3's / is Euclidean: floor for b > 0)
                return z3.If(b == 0, 0, z3.If(b > 0, a / b, (-a) / (-b)))
            if op == "|":
                return a | b
            if op == "&":
                return a & b
            if op == "-set":
                return a & ~b
        if kind == "cmp":
            a, b = self._t(t[2], env), self._t(t[3], env)
            a, b = self._align(a, b, env)
            op = t[1]
            return {"==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
                    ">": lambda: a > b, ">=": lambda: a >= b}[op]()
        if kind == "and":
            return z3.And(*[self._t(x, env) for x in t[1]])
        if kind == "or":
            return z3.Or(*[self._t(x, env) for x in t[1]])
        if kind == "if":
            c, a, b = self._t(t[1], env), self._t(t[2], env), self._t(t[3], env)
            a, b = self._align(a, b, env)
            return z3.If(c, a, b)
        if kind == "call":
            args = [self._t(x, env) for x in t[2]]
            if t[1] == "len":
                x = args[0]
                return z3.Sum([z3.ZeroExt(8, z3.Extract(i, i, x)) for i in range(x.size())]) if z3.is_bv(x) else x
            a, b = args
            return z3.If(a <= b, a, b) if t[1] == "min" else z3.If(a >= b, a, b)
        raise ValueError(f"unknown ground term {kind}")

    def _align(self, a, b, env):
        """Make a literal or a pending `1 << e` the width of the bit vector beside it."""
        def fix(x, other):
            if isinstance(x, tuple) and x[0] == "shift":
                width = other.size() if z3.is_bv(other) else 32
                return z3.BitVecVal(1, width) << z3.Int2BV(self._t(x[1], env), width)
            if z3.is_bv(other) and z3.is_int_value(x):
                return z3.BitVecVal(x.as_long(), other.size())
            return x
        a2 = fix(a, b)
        b2 = fix(b, a2)
        return a2, b2

    def statements(self, stmts, env):
        """Symbolically run ground statements; returns the new env (slot -> term)."""
        env = dict(env)
        for st in stmts:
            if st[0] == "set":
                value = self._t(st[2], env)
                target = env.get(st[1], self.vars[st[1]])
                if z3.is_bv(target) and z3.is_int_value(value):
                    value = z3.BitVecVal(value.as_long(), target.size())
                env[st[1]] = value
            else:
                c = self._t(st[1], env)
                then = self.statements(st[2], env)
                orelse = self.statements(st[3], env)
                for slot in set(then) | set(orelse):
                    a = then.get(slot, self.vars[slot])
                    b = orelse.get(slot, self.vars[slot])
                    env[slot] = a if a.eq(b) else z3.If(c, a, b)
        return env
