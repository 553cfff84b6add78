"""Grounding: one checked expression, one configuration, fixed parameters -> a flat term.

With the configuration and the action's parameters fixed, every constant folds,
quantifiers unroll over the family's instances and `vf[i]` becomes a slot (or a chain of
slots when i is itself state-dependent). What remains is a small term language over
state slots that three back ends share: Python closures (the runtime machines), generated
Python (the explorer) and z3 (the proofs):

  ("lit", v)  ("slot", i)  ("not", x)  ("neg", x)  ("bin", op, a, b)  ("cmp", op, a, b)
  ("and", (x, ...))  ("or", (x, ...))  ("if", c, a, b)  ("call", fn, (a, ...))
statements:  ("set", slot, term)  ("when", cond, (stmts), (stmts))
"""
from __future__ import annotations

import operator

from ..spec import expr as E
from ..spec.types import EnumT, IntT, SetT
from .layout import Layout

TRUE = ("lit", True)
FALSE = ("lit", False)

def floor_div(a, b):
    """Floor division with x // 0 == 0: the one meaning of `//` in every back end."""
    return a // b if b else 0


_BIN = {"//": floor_div, "+": operator.add, "-": operator.sub, "*": operator.mul, "|": operator.or_, "&": operator.and_, "-set": lambda a, b: a & ~b}
_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}
_CALL = {"len": lambda m: bin(m).count("1") if isinstance(m, int) else len(m), "min": min, "max": max}


def is_lit(t):
    return t[0] == "lit"


def in_range(inst, insts) -> bool:
    """A literal instance index that names an instance (a ref of None is -1)."""
    return 0 <= inst[1] < len(insts)


class Grounder:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.config = layout.config.values

    # env: {"params": {name: value}, "self": instance index, "bound": {name: index}}
    def term(self, node, env):
        fn = getattr(self, "g_" + type(node).__name__)
        return fn(node, env)

    def g_Lit(self, n, env):
        return ("lit", self.encode_literal(n.value, n.type))

    def encode_literal(self, value, t):
        if value is None:
            return -1
        if isinstance(t, EnumT):
            return t.values.index(value)
        if isinstance(t, SetT):
            return Layout.encode(value, t)
        return value

    def g_ConstRef(self, n, env):
        return ("lit", Layout.encode(self.config[n.name], n.type))

    def g_FactRef(self, n, env):
        values = self.config[n.name]
        inst = self.term(n.inst, env)
        insts = self.layout.instances[n.family]

        def value(index):
            return ("lit", Layout.encode(values[index], n.type))
        if is_lit(inst) and in_range(inst, insts):
            return value(inst[1])
        if is_lit(inst):                      # None: what the chain below falls back to
            return value(insts[-1].index) if insts else ("lit", 0)
        return self._chain(inst, [(i.index, value(i.index)) for i in insts])

    def g_ParamRef(self, n, env):
        return ("lit", env["params"][n.name])

    def g_SelfRef(self, n, env):
        return ("lit", env["self"])

    def g_BoundRef(self, n, env):
        return ("lit", env["bound"][n.name])

    def g_ParentOf(self, n, env):
        inst = self.term(n.inst, env)
        family = n.inst.type.family
        insts = self.layout.instances[family]
        if is_lit(inst) and in_range(inst, insts):
            return ("lit", insts[inst[1]].parent)
        if is_lit(inst):                      # None: what the chain below falls back to
            return ("lit", insts[-1].parent if insts else -1)
        return self._chain(inst, [(i.index, ("lit", i.parent)) for i in insts])

    def g_IndexOf(self, n, env):
        inst = self.term(n.inst, env)
        family = n.inst.type.family
        insts = self.layout.instances[family]
        per = self.layout.count(family) if self.layout.spec.families[family].parent else len(insts) or 1
        if is_lit(inst):
            return ("lit", inst[1] % per if per else 0)
        return self._chain(inst, [(i.index, ("lit", i.index % per)) for i in insts])

    def g_QuantityRef(self, n, env):
        inst = self.term(n.inst, env)
        insts = self.layout.instances[n.family]

        def body(index):
            return self.term(n.body, {"params": {}, "self": index, "bound": {}})
        if is_lit(inst) and in_range(inst, insts):
            return body(inst[1])
        if is_lit(inst):
            return body(insts[-1].index) if insts else ("lit", 0)
        return self._chain(inst, [(i.index, body(i.index)) for i in insts])

    def read(self, family, index, var):
        """A variable of one instance: its slot, or its value when the configuration froze it."""
        key = (family, index, var)
        if key in self.layout.frozen:
            return ("lit", self.layout.frozen[key])
        return ("slot", self.layout.slot_of[key])

    def g_VarRef(self, n, env):
        insts = self.layout.instances[n.family]
        if n.inst is None:
            return self.read(n.family, 0, n.var)
        inst = self.term(n.inst, env)
        if is_lit(inst) and in_range(inst, insts):
            return self.read(n.family, inst[1], n.var)
        if is_lit(inst):                      # None: what the chain below falls back to
            return self.read(n.family, insts[-1].index, n.var) if insts else ("lit", 0)
        return self._chain(inst, [(i.index, self.read(n.family, i.index, n.var)) for i in insts])

    @staticmethod
    def _chain(selector, cases):
        """`selector == k` picks case k; the last case is the fallback."""
        if not cases:
            return ("lit", 0)
        out = cases[-1][1]
        for k, t in reversed(cases[:-1]):
            out = ("if", ("cmp", "==", selector, ("lit", k)), t, out)
        return out

    def g_Unary(self, n, env):
        x = self.term(n.operand, env)
        if n.op == "not":
            if is_lit(x):
                return ("lit", not x[1])
            if x[0] == "not":
                return x[1]
            return ("not", x)
        return ("lit", -x[1]) if is_lit(x) else ("neg", x)

    def g_Binary(self, n, env):
        a, b = self.term(n.left, env), self.term(n.right, env)
        if isinstance(n.type, SetT) and not isinstance(n.type.elem, EnumT):
            if is_lit(a) and is_lit(b):
                fs = {"|": frozenset.union, "&": frozenset.intersection, "-set": frozenset.difference}
                return ("lit", fs[n.op](a[1], b[1]))
            raise E.InvalidSpec("sets of ints can only combine constants")
        if is_lit(a) and is_lit(b):
            return ("lit", _BIN[n.op](a[1], b[1]))
        if n.op == "-set" and a == b:         # s - s: the empty set, whatever s holds
            return ("lit", 0)
        return ("bin", n.op, a, b)

    def g_Compare(self, n, env):
        a, b = self.term(n.left, env), self.term(n.right, env)
        if n.op in ("in", "notin"):
            rt = n.right.type
            if isinstance(rt.elem, EnumT):
                mask_hit = self._bit(a, b)
                return mask_hit if n.op == "in" else self._not(mask_hit)
            # a set of ints: a constant
            if not is_lit(b):
                raise E.InvalidSpec("sets of ints must be constants")
            if is_lit(a):
                hit = a[1] in b[1]
                return ("lit", hit if n.op == "in" else not hit)
            hit = self._or([("cmp", "==", a, ("lit", v)) for v in sorted(b[1])])
            return hit if n.op == "in" else self._not(hit)
        if is_lit(a) and is_lit(b):
            return ("lit", _CMP[n.op](a[1], b[1]))
        decided = self._decided_by_bounds(n.op, a, b)
        if decided is not None:
            return ("lit", decided)
        return ("cmp", n.op, a, b)

    def _decided_by_bounds(self, op, a, b):
        """An int slot compared with a literal, decided for every value the slot may hold
        (states never leave a counter's bounds: see OutOfBounds)."""
        if not (a[0] == "slot" and is_lit(b) and isinstance(b[1], int) and not isinstance(b[1], bool)):
            return None
        slot = self.layout.slots[a[1]]
        if slot.lo is None or slot.hi is None or slot.hi - slot.lo > 64:
            return None
        results = {_CMP[op](v, b[1]) for v in range(slot.lo, slot.hi + 1)}
        return results.pop() if len(results) == 1 else None

    def _bit(self, elem, mask):
        if is_lit(elem) and is_lit(mask):
            return ("lit", bool(mask[1] >> elem[1] & 1))
        if is_lit(mask):        # x in {'a', 'b'}: a plain disjunction of equalities
            bits = [i for i in range(mask[1].bit_length()) if mask[1] >> i & 1]
            return self._or([("cmp", "==", elem, ("lit", i)) for i in bits])
        if is_lit(elem):
            return ("cmp", "!=", ("bin", "&", mask, ("lit", 1 << elem[1])), ("lit", 0))
        return ("cmp", "!=", ("bin", "&", mask, ("bin", "<<", ("lit", 1), elem)), ("lit", 0))

    @staticmethod
    def _not(x):
        if is_lit(x):
            return ("lit", not x[1])
        return x[1] if x[0] == "not" else ("not", x)

    @staticmethod
    def _and(items):
        out = []
        for x in items:
            if is_lit(x):
                if not x[1]:
                    return FALSE
                continue
            out.extend(x[1] if x[0] == "and" else (x,))
        if not out:
            return TRUE
        return out[0] if len(out) == 1 else ("and", tuple(out))

    @staticmethod
    def _or(items):
        out = []
        for x in items:
            if is_lit(x):
                if x[1]:
                    return TRUE
                continue
            out.extend(x[1] if x[0] == "or" else (x,))
        if not out:
            return FALSE
        return out[0] if len(out) == 1 else ("or", tuple(out))

    def g_BoolOp(self, n, env):
        items = [self.term(i, env) for i in n.items]
        return self._and(items) if n.op == "and" else self._or(items)

    def g_Cond(self, n, env):
        c = self.term(n.test, env)
        if is_lit(c):
            return self.term(n.then if c[1] else n.orelse, env)
        a, b = self.term(n.then, env), self.term(n.orelse, env)
        if a == b:
            return a
        return ("if", c, a, b)

    def g_SetLit(self, n, env):
        items = [self.term(i, env) for i in n.items]
        if isinstance(n.type.elem, EnumT):
            mask, dyn = 0, []
            for it in items:
                if is_lit(it):
                    mask |= 1 << it[1]
                else:
                    dyn.append(("bin", "<<", ("lit", 1), it))
            out = ("lit", mask)
            for d in dyn:
                out = ("bin", "|", out, d)
            return out
        if all(is_lit(i) for i in items):
            return ("lit", frozenset(i[1] for i in items))
        raise E.InvalidSpec("sets of ints must be constants")

    def g_Call(self, n, env):
        args = [self.term(a, env) for a in n.args]
        if all(is_lit(a) for a in args):
            return ("lit", _CALL[n.fn](*[a[1] for a in args]))
        return ("call", n.fn, tuple(args))

    def g_Quant(self, n, env):
        parts = []
        for inst in self.layout.instances[n.family]:
            inner = dict(env)
            inner["bound"] = dict(env.get("bound", {}))
            inner["bound"][n.var] = inst.index
            f = self.term(n.filter, inner) if n.filter is not None else TRUE
            if is_lit(f) and not f[1]:
                continue
            body = self.term(n.body, inner)
            if n.kind == "all":
                parts.append(self._or([self._not(f), body]))
            elif n.kind == "any":
                parts.append(self._and([f, body]))
            else:
                parts.append(self._and([f, body]))
        if n.kind == "all":
            return self._and(parts)
        if n.kind == "any":
            return self._or(parts)
        total, dyn = 0, []
        for p in parts:
            if is_lit(p):
                total += 1 if p[1] else 0
            else:
                dyn.append(("if", p, ("lit", 1), ("lit", 0)))
        out = ("lit", total)
        for d in dyn:
            out = d if out == ("lit", 0) else ("bin", "+", out, d)
        return out

    # ---- statements
    def stmts(self, nodes, env):
        out = []
        for node in nodes:
            out.extend(self.stmt(node, env))
        return tuple(out)

    def write(self, family, index, var, value):
        """`var = value` on one instance; a frozen variable is only ever given its own value."""
        key = (family, index, var)
        if key in self.layout.frozen:
            return ()
        return (("set", self.layout.slot_of[key], value),)

    def stmt(self, node, env):
        if isinstance(node, E.Assign):
            value = self.term(node.value, env)
            target = node.target
            if target.inst is None:
                return list(self.write(target.family, 0, target.var, value))
            inst = self.term(target.inst, env)
            if is_lit(inst):                  # None names no instance: nothing is written
                insts = self.layout.instances[target.family]
                return list(self.write(target.family, inst[1], target.var, value)) if in_range(inst, insts) else []
            out = []
            for i in reversed(self.layout.instances[target.family]):
                here = self.write(target.family, i.index, target.var, value)
                out = [("when", ("cmp", "==", inst, ("lit", i.index)), here, tuple(out))]
            return out
        if isinstance(node, E.If):
            c = self.term(node.test, env)
            if is_lit(c):
                return list(self.stmts(node.body if c[1] else node.orelse, env))
            return [("when", c, self.stmts(node.body, env), self.stmts(node.orelse, env))]
        if isinstance(node, E.For):
            out = []
            for inst in self.layout.instances[node.family]:
                inner = dict(env)
                inner["bound"] = dict(env.get("bound", {}))
                inner["bound"][node.var] = inst.index
                out.extend(self.stmts(node.body, inner))
            return out
        raise TypeError(node)


def assigned_slots(stmts, acc=None):
    acc = set() if acc is None else acc
    for s in stmts:
        if s[0] == "set":
            acc.add(s[1])
        else:
            assigned_slots(s[2], acc)
            assigned_slots(s[3], acc)
    return acc


def slots_read(term, acc=None):
    acc = set() if acc is None else acc
    kind = term[0]
    if kind == "slot":
        acc.add(term[1])
    elif kind in ("not", "neg"):
        slots_read(term[1], acc)
    elif kind in ("bin", "cmp"):
        slots_read(term[2], acc)
        slots_read(term[3], acc)
    elif kind in ("and", "or"):
        for x in term[1]:
            slots_read(x, acc)
    elif kind == "if":
        for x in term[1:]:
            slots_read(x, acc)
    elif kind == "call":
        for x in term[2]:
            slots_read(x, acc)
    return acc


def is_int_type(t):
    return isinstance(t, IntT)
