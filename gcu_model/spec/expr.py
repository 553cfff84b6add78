"""Guards, effects and properties: a restricted subset of Python, parsed with `ast`.

The text is never evaluated. It is parsed, every construct is checked against the
subset below and typed, and the result is a small typed tree (IR) that later stages
compile, per configuration, to Python closures, to generated Python and to z3 terms
(issue 2, item 2; design.md "One source of truth").

Expressions: literals (True, False, ints, 'enum value' strings, {set literals}), names
(own variables, action parameters, config constants, `self`, quantifier variables),
`family[i].var`, `singleton.var`, `v.var`, `v.parent`, `v.index`, not/and/or, + - *,
comparisons (chained), `x in s`, `a if c else b`, and the calls all(...)/any(...)/
count(...) over one family, len(set), min(a, b), max(a, b).
Effects: `var = e`, `inst.var = e`, `x += e` (and -=, |=), `if/elif/else`,
`for v in family: ...`, `pass`.
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

from .errors import InvalidSpec, Where
from .types import BOOL, INT, BoolT, EnumT, IntT, RefT, SetT, same_kind as _same_kind


# ---------------------------------------------------------------- IR ------------------
@dataclass(frozen=True)
class InstT:
    """The type of a reference to one instance of a family."""
    family: str

    def describe(self) -> str:
        return f"{self.family} instance"


class Node:
    __slots__ = ()


def same_kind(a, b) -> bool:
    """Instances and refs of one family compare and assign; otherwise types.same_kind."""
    fa = getattr(a, "family", None) if isinstance(a, (InstT, RefT)) else None
    fb = getattr(b, "family", None) if isinstance(b, (InstT, RefT)) else None
    if fa is not None or fb is not None:
        return fa == fb
    return _same_kind(a, b)


@dataclass(frozen=True)
class IndexOf(Node):
    """v.index: position of an instance among its parent's children (or in its family)."""
    inst: Node
    type: object = INT


@dataclass(frozen=True)
class Lit(Node):
    value: object
    type: object


@dataclass(frozen=True)
class ConstRef(Node):
    name: str
    type: object


@dataclass(frozen=True)
class FactRef(Node):
    """inst.name: a per-instance constant (constants.yaml `per: card`) of one instance; it
    folds to that instance's value in each configuration (issue 8: mixed hosts)."""
    family: str
    inst: Node
    name: str
    type: object


@dataclass(frozen=True)
class ParamRef(Node):
    name: str
    type: object


@dataclass(frozen=True)
class SelfRef(Node):
    type: object


@dataclass(frozen=True)
class BoundRef(Node):
    name: str
    type: object


@dataclass(frozen=True)
class ParentOf(Node):
    inst: Node
    type: object


@dataclass(frozen=True)
class VarRef(Node):
    """family[inst].var; inst is an instance-typed node, or None for a singleton."""
    family: str
    inst: object
    var: str
    type: object


@dataclass(frozen=True)
class QuantityRef(Node):
    """inst.q: a named quantity of a family (a `quantities:` entry), evaluated for inst."""
    family: str
    inst: Node
    name: str
    body: Node
    type: object


@dataclass(frozen=True)
class Unary(Node):
    op: str            # not, -
    operand: Node
    type: object


@dataclass(frozen=True)
class Binary(Node):
    op: str            # + - * // % | & -set
    left: Node
    right: Node
    type: object


@dataclass(frozen=True)
class Compare(Node):
    op: str            # == != < <= > >= in notin
    left: Node
    right: Node
    type: object = BOOL


@dataclass(frozen=True)
class BoolOp(Node):
    op: str            # and, or
    items: tuple
    type: object = BOOL


@dataclass(frozen=True)
class Cond(Node):
    test: Node
    then: Node
    orelse: Node
    type: object


@dataclass(frozen=True)
class Quant(Node):
    kind: str          # all, any, count
    var: str
    family: str
    filter: object     # Node or None
    body: Node
    type: object


@dataclass(frozen=True)
class SetLit(Node):
    items: tuple       # of Node
    type: object


@dataclass(frozen=True)
class Call(Node):
    fn: str            # len, min, max
    args: tuple
    type: object


# statements
@dataclass(frozen=True)
class Assign(Node):
    target: VarRef
    value: Node
    line: int


@dataclass(frozen=True)
class If(Node):
    test: Node
    body: tuple
    orelse: tuple


@dataclass(frozen=True)
class For(Node):
    var: str
    family: str
    body: tuple


# ------------------------------------------------------------ scope -------------------
class Scope:
    """What names mean where an expression is written."""

    def __init__(self, spec_view, self_family=None, params=None, own_control=None,
                 constants_only=False, target_param=None):
        self.spec = spec_view              # has .families, .vars, .constants
        self.self_family = self_family
        self.target_param = target_param   # the action parameter that names `self`
        self.params = params or {}
        self.own_control = own_control     # the machine's own control var (not assignable)
        self.constants_only = constants_only
        self.bound = {}                    # quantifier variable -> family

    def with_bound(self, name, family):
        child = Scope(self.spec, self.self_family, self.params, self.own_control, self.constants_only,
                      self.target_param)
        child.bound = dict(self.bound)
        child.bound[name] = family
        return child


_UNTYPED_STR = object()   # a string literal whose enum comes from the context
_UNTYPED_NONE = object()  # None, whose family comes from the context
_UNTYPED_SET = object()


class _Checker:
    def __init__(self, text: str, where: Where, scope: Scope):
        self.text = text
        self.where = where
        self.scope = scope

    # ---- errors
    def fail(self, node, message, culprit=None):
        offset = (getattr(node, "lineno", 1) or 1) - 1
        if culprit is None and hasattr(node, "lineno"):
            culprit = ast.get_source_segment(self.text, node) or None
        if culprit:
            message = f"{message}: '{culprit}'" if f"'{culprit}'" not in message else message
        raise self.where.error(message, culprit, line_offset=offset)

    def unknown(self, node, what, name, choices):
        close = difflib.get_close_matches(name, list(choices), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.fail(node, f"unknown {what} '{name}'{hint}", culprit=name)

    # ---- expressions
    def expr(self, node, scope=None):
        scope = scope or self.scope
        method = getattr(self, "e_" + type(node).__name__, None)
        if method is None:
            self.fail(node, f"{_describe(node)} is not allowed in a spec expression")
        return method(node, scope)

    def typed(self, node, scope, want=None):
        """Check `node`; an untyped string/set literal takes the type `want`."""
        ir = self.expr(node, scope)
        return self.settle(node, ir, want)

    def settle(self, node, ir, want):
        if isinstance(ir, Cond) and ir.type is _UNTYPED_STR:
            then = self.settle(node, ir.then, want)
            return Cond(ir.test, then, self.settle(node, ir.orelse, want), then.type)
        if isinstance(ir, Lit) and ir.type is _UNTYPED_STR:
            if isinstance(want, EnumT):
                if ir.value not in want.values:
                    self.fail(node, f"'{ir.value}' is not a value of {want.describe()}", culprit=ir.value)
                if ir.value == want.other:
                    self.fail(node, f"'{ir.value}' stands for every {want.name} the rules leave unnamed (an open "
                                    "enum, constants.yaml open_enums): a rule may not name it", culprit=ir.value)
                return Lit(ir.value, want)
            self.fail(node, "a string here must be compared with an enum value", culprit=repr(ir.value))
        if isinstance(ir, Lit) and ir.type is _UNTYPED_NONE:
            if isinstance(want, (RefT, InstT)):
                return Lit(None, RefT(want.family))
            self.fail(node, "None is only meaningful for ref variables")
        if isinstance(ir, SetLit) and ir.type is _UNTYPED_SET:
            elem = want.elem if isinstance(want, SetT) else None
            if elem is None:
                kinds = [self.settle(node, i, None) for i in ir.items] if ir.items else []
                if kinds and all(isinstance(k.type, IntT) for k in kinds):
                    if any(_reads_state(k) for k in kinds):
                        self.fail(node, "a set of ints may hold only constants and parameters, not state variables")
                    return SetLit(tuple(kinds), SetT(INT))
                self.fail(node, "cannot tell the element type of this set literal")
            items = tuple(self.settle(node, i, elem) for i in ir.items)
            for item in items:
                if not same_kind(item.type, elem):
                    self.fail(node, f"set element of type {item.type.describe()} where {elem.describe()} is expected")
                if isinstance(elem, IntT) and _reads_state(item):
                    self.fail(node, "a set of ints may hold only constants and parameters, not state variables")
            return SetLit(items, SetT(elem))
        return ir

    def e_Expression(self, node, scope):
        return self.expr(node.body, scope)

    def e_Constant(self, node, scope):
        value = node.value
        if value is None:
            return Lit(None, _UNTYPED_NONE)
        if isinstance(value, bool):
            return Lit(value, BOOL)
        if isinstance(value, int):
            return Lit(value, INT)
        if isinstance(value, str):
            return Lit(value, _UNTYPED_STR)
        self.fail(node, f"literal of type {type(value).__name__} is not allowed")

    def e_Name(self, node, scope):
        name = node.id
        if name.startswith("__"):
            self.fail(node, "names starting with '__' are not allowed", culprit=name)
        if name in scope.bound:
            return BoundRef(name, InstT(scope.bound[name]))
        if not scope.constants_only:
            if name == "self":
                if scope.self_family is None:
                    self.fail(node, "'self' is only meaningful inside a machine's transitions", culprit=name)
                return SelfRef(InstT(scope.self_family))
            if name in scope.params:
                p = scope.params[name]
                return ParamRef(name, InstT(p.type) if p.is_instance else p.type)
            if scope.self_family is not None and (scope.self_family, name) in getattr(scope.spec, "quantities", {}) \
                    and (scope.self_family, name) not in scope.spec.vars:
                return self._var_of(node, scope.self_family, SelfRef(InstT(scope.self_family)), name)
            if scope.self_family is not None and (scope.self_family, name) in scope.spec.vars:
                v = scope.spec.vars[(scope.self_family, name)]
                return VarRef(scope.self_family, SelfRef(InstT(scope.self_family)), name, v.type)
        if name in scope.spec.constants:
            c = scope.spec.constants[name]
            if getattr(c, "per", None) is not None:
                return self._own_fact(node, scope, c)
            return ConstRef(name, c.type)
        choices = set(scope.spec.constants)
        if not scope.constants_only:
            choices |= set(scope.params) | set(scope.bound)
            if scope.self_family:
                choices |= {v for (f, v) in scope.spec.vars if f == scope.self_family}
        if name in scope.spec.families:
            self.fail(node, f"'{name}' is a family; name one instance, as {name}[i].var"
                      + (" or {name}.var" if _singleton(scope.spec, name) else ""), culprit=name)
        if scope.constants_only and any(name == v for (_, v) in scope.spec.vars):
            self.fail(node, f"'{name}' is a state variable; only config constants may be used here", culprit=name)
        self.unknown(node, "name", name, choices)

    def e_Attribute(self, node, scope):
        attr = node.attr
        if attr.startswith("_"):
            self.fail(node, "attribute tricks are not allowed (names starting with '_')", culprit=attr)
        base = node.value
        if isinstance(base, ast.Subscript):          # family[i].var
            indexed = self.expr(base, scope)
            return self._var_of(node, indexed.type.family, indexed.index, attr)
        if (isinstance(base, ast.Name) and base.id in scope.spec.families and base.id not in scope.bound
                and base.id not in scope.params):    # a parameter may share its family's name
            if not _singleton(scope.spec, base.id):
                self.fail(node, f"family '{base.id}' has several instances; index it: {base.id}[i].{attr}")
            return self._var_of(node, base.id, None, attr)
        inst = self.expr(base, scope)
        if not isinstance(inst.type, (InstT, RefT)):
            self.fail(node, f"'.{attr}' applies to a family instance, not to a {_tdesc(inst.type)}")
        return self._var_of(node, inst.type.family, inst, attr)

    def _own_fact(self, node, scope, c):
        """A bare per-instance constant: the own instance's value, inside a machine of its
        family or of a child family (a VF's card); anywhere else the instance must be named."""
        family = None if scope.constants_only else scope.self_family
        if family is not None:
            inst = SelfRef(InstT(family))
            while family != c.per and scope.spec.families[family].parent is not None:
                parent = scope.spec.families[family].parent
                inst, family = ParentOf(inst, InstT(parent)), parent
        if family != c.per:
            self.fail(node, f"'{c.name}' has one value per {c.per}; name the {c.per}: "
                      f"{c.per}[i].{c.name}, or any({c.per[0]}.{c.name} for {c.per[0]} in {c.per})", culprit=c.name)
        return FactRef(c.per, inst, c.name, c.type)

    def _var_of(self, node, family, inst, attr):
        fam = self.scope.spec.families[family]
        c = self.scope.spec.constants.get(attr)
        if c is not None and getattr(c, "per", None) == family and (family, attr) not in self.scope.spec.vars:
            if inst is None:
                self.fail(node, f"'{attr}' needs an instance")
            if isinstance(c.type, SetT) and isinstance(c.type.elem, IntT) and _reads_state(inst):
                self.fail(node, f"'{attr}' is a set of ints: read it through a {family} the configuration fixes "
                          f"(a parameter or a quantifier), not through a variable")
            return FactRef(family, inst, attr, c.type)
        if c is not None and getattr(c, "per", None) is not None and (family, attr) not in self.scope.spec.vars \
                and fam.parent is not None:
            self.fail(node, f"'{attr}' is a {c.per}'s, not a {family}'s: read it through its {c.per}, "
                      f"as x.{fam.parent}.{attr}" if fam.parent == c.per else f"'{attr}' has one value per {c.per}",
                      culprit=attr)
        if attr == "index" and inst is not None:
            return IndexOf(inst)
        if fam.parent and attr == fam.parent:
            if inst is None:
                self.fail(node, f"'{attr}' needs an instance")
            return ParentOf(inst, InstT(fam.parent))
        quantities = getattr(self.scope.spec, "quantities", {})
        if (family, attr) in quantities and (family, attr) not in self.scope.spec.vars:
            if self.scope.constants_only:
                self.fail(node, "quantities depend on the state; only config constants are allowed here", culprit=attr)
            q = quantities[(family, attr)]
            if q.expr is None:
                self.fail(node, f"quantity '{attr}' is used before it is defined (quantities may not use quantities)",
                          culprit=attr)
            inst = inst if inst is not None else SelfRef(InstT(family))
            return QuantityRef(family, inst, attr, q.expr, q.expr.type)
        if (family, attr) not in self.scope.spec.vars:
            choices = [v for (f, v) in self.scope.spec.vars if f == family]
            if fam.parent:
                choices.append(fam.parent)
            self.unknown(node, f"variable of family '{family}'", attr, choices)
        if self.scope.constants_only:
            self.fail(node, "state variables are not allowed here; only config constants", culprit=attr)
        return VarRef(family, inst, attr, self.scope.spec.vars[(family, attr)].type)

    def e_Subscript(self, node, scope):
        base = node.value
        if not (isinstance(base, ast.Name) and base.id in scope.spec.families):
            self.fail(node, "indexing is only allowed on a family name, as vf[i]")
        family = base.id
        index = self.typed(node.slice, scope)
        if not (isinstance(index.type, (InstT, RefT)) and index.type.family == family):
            self.fail(node, f"'{family}[...]' needs a {family} instance as index, "
                      f"got a {_tdesc(index.type)}")
        return _InstExpr(index, family)

    def e_UnaryOp(self, node, scope):
        operand = self.expr(node.operand, scope)
        if isinstance(node.op, ast.Not):
            self.need(node.operand, operand, BoolT)
            return Unary("not", operand, BOOL)
        if isinstance(node.op, ast.USub):
            self.need(node.operand, operand, IntT)
            return Unary("-", operand, INT)
        self.fail(node, f"operator {type(node.op).__name__} is not allowed")

    def e_BinOp(self, node, scope):
        # // is floor division with x // 0 == 0 in every back end; no %
        ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.BitOr: "|", ast.BitAnd: "&"}
        op = ops.get(type(node.op))
        if op is None:
            self.fail(node, f"operator {type(node.op).__name__} is not allowed (only + - * // and, on sets, | & -)")
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        if isinstance(left.type, SetT) or isinstance(right.type, SetT):
            if op not in ("|", "&", "-"):
                self.fail(node, f"operator '{op}' does not apply to sets")
            st = left.type if isinstance(left.type, SetT) else right.type
            left, right = self.settle(node.left, left, st), self.settle(node.right, right, st)
            if not same_kind(left.type, right.type):
                self.fail(node, "set operands of different element types")
            return Binary("-set" if op == "-" else op, left, right, st)
        if op in ("|", "&"):
            self.fail(node, f"operator '{op}' applies to sets only; use 'or' / 'and' for conditions")
        self.need(node.left, left, IntT)
        self.need(node.right, right, IntT)
        return Binary(op, left, right, INT)

    def e_BoolOp(self, node, scope):
        items = tuple(self.expr(v, scope) for v in node.values)
        for v, ir in zip(node.values, items):
            self.need(v, ir, BoolT)
        return BoolOp("and" if isinstance(node.op, ast.And) else "or", items)

    def e_Compare(self, node, scope):
        ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
               ast.GtE: ">=", ast.In: "in", ast.NotIn: "notin"}
        parts = []
        left_node, left = node.left, self.expr(node.left, scope)
        for op_node, right_node in zip(node.ops, node.comparators):
            op = ops.get(type(op_node))
            if op is None:
                self.fail(node, f"comparison {type(op_node).__name__} is not allowed ('is' compares identity)")
            right = self.expr(right_node, scope)
            parts.append(self.compare(node, op, left_node, left, right_node, right))
            left_node, left = right_node, right
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def compare(self, node, op, ln, left, rn, right):
        if op in ("in", "notin"):
            if isinstance(right, SetLit) and right.type is _UNTYPED_SET:
                if left.type is _UNTYPED_STR:
                    self.fail(ln, "cannot tell the enum of this string")
                right = self.settle(rn, right, SetT(left.type))
            right = self.settle(rn, right, None)
            if not isinstance(right.type, SetT):
                self.fail(rn, f"'in' needs a set on its right, got a {_tdesc(right.type)}")
            left = self.settle(ln, left, right.type.elem)
            if not same_kind(left.type, right.type.elem):
                self.fail(node, f"'{_tdesc(left.type)}' can never be in a set of {_tdesc(right.type.elem)}")
            return Compare(op, left, right)
        if left.type in (_UNTYPED_STR, _UNTYPED_NONE) and right.type in (_UNTYPED_STR, _UNTYPED_NONE):
            self.fail(node, "comparing two literals says nothing about the state")
        if left.type in (_UNTYPED_STR, _UNTYPED_SET, _UNTYPED_NONE):
            right = self.settle(rn, right, None)
            left = self.settle(ln, left, right.type)
        else:
            left = self.settle(ln, left, None)
            right = self.settle(rn, right, left.type)
        if op in ("<", "<=", ">", ">="):
            self.need(ln, left, IntT)
            self.need(rn, right, IntT)
        elif not same_kind(left.type, right.type):
            self.fail(node, f"cannot compare {_a(left.type)} with {_a(right.type)}")
        return Compare(op, left, right)

    def e_IfExp(self, node, scope):
        test = self.expr(node.test, scope)
        self.need(node.test, test, BoolT)
        then = self.expr(node.body, scope)
        orelse = self.expr(node.orelse, scope)
        if then.type is _UNTYPED_STR and orelse.type is _UNTYPED_STR:
            return Cond(test, then, orelse, _UNTYPED_STR)      # the context picks the enum
        if then.type is _UNTYPED_STR:
            orelse = self.settle(node.orelse, orelse, None)
            then = self.settle(node.body, then, orelse.type)
        else:
            then = self.settle(node.body, then, None)
            orelse = self.settle(node.orelse, orelse, then.type)
        if not same_kind(then.type, orelse.type):
            self.fail(node, f"both branches must have one type, got {_tdesc(then.type)} and {_tdesc(orelse.type)}")
        return Cond(test, then, orelse, then.type)

    def e_Set(self, node, scope):
        return SetLit(tuple(self.expr(e, scope) for e in node.elts), _UNTYPED_SET)

    def e_Call(self, node, scope):
        fn = node.func.id if isinstance(node.func, ast.Name) else None
        if node.keywords:
            self.fail(node, "keyword arguments are not allowed")
        if fn in ("all", "any", "count"):
            if len(node.args) != 1 or not isinstance(node.args[0], ast.GeneratorExp):
                self.fail(node, f"{fn}() takes one generator over a family: {fn}(cond for v in family)")
            return self.quant(fn, node.args[0], scope)
        if fn == "len":
            if len(node.args) != 1:
                self.fail(node, "len() takes one set")
            arg = self.typed(node.args[0], scope)
            if not isinstance(arg.type, SetT):
                self.fail(node, f"len() applies to sets, not to a {_tdesc(arg.type)}")
            return Call("len", (arg,), INT)
        if fn in ("min", "max"):
            if len(node.args) != 2:
                self.fail(node, f"{fn}() takes two ints")
            args = tuple(self.typed(a, scope) for a in node.args)
            for a, ir in zip(node.args, args):
                self.need(a, ir, IntT)
            return Call(fn, args, INT)
        name = ast.get_source_segment(self.text, node.func) or "?"
        self.fail(node, f"calls are not allowed (only all/any/count over a family, len, min, max): '{name}(...)'",
                  culprit=name)

    def quant(self, kind, gen, scope):
        if len(gen.generators) != 1:
            self.fail(gen, "one 'for' per quantifier")
        comp = gen.generators[0]
        if comp.is_async or not isinstance(comp.target, ast.Name):
            self.fail(gen, "quantifier variable must be a plain name")
        if not (isinstance(comp.iter, ast.Name) and comp.iter.id in scope.spec.families):
            self.fail(comp.iter, "a quantifier ranges over a family name",
                      culprit=ast.get_source_segment(self.text, comp.iter))
        name, family = comp.target.id, comp.iter.id
        if name in scope.spec.families or name in scope.params or name == "self":
            self.fail(comp.target, f"quantifier variable '{name}' hides another name", culprit=name)
        inner = scope.with_bound(name, family)
        filt = None
        for cond in comp.ifs:
            c = self.expr(cond, inner)
            self.need(cond, c, BoolT)
            filt = c if filt is None else BoolOp("and", (filt, c))
        body = self.expr(gen.elt, inner)
        self.need(gen.elt, body, BoolT)
        return Quant(kind, name, family, filt, body, INT if kind == "count" else BOOL)

    def need(self, node, ir, tclass):
        t = ir.type
        if t is _UNTYPED_STR:
            self.fail(node, f"expected a {tclass().describe() if tclass is not IntT else 'int'}, got a string")
        if not isinstance(t, tclass):
            want = {BoolT: "bool", IntT: "int"}.get(tclass, tclass.__name__)
            self.fail(node, f"type error: expected {want}, got {_tdesc(t)}")

    # ---- statements
    def stmts(self, nodes, scope):
        out = []
        for node in nodes:
            out.extend(self.stmt(node, scope))
        return tuple(out)

    def stmt(self, node, scope):
        if isinstance(node, ast.Pass):
            return []
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            if isinstance(node, ast.Assign) and len(node.targets) != 1:
                self.fail(node, "one assignment target at a time")
            tnode = node.targets[0] if isinstance(node, ast.Assign) else node.target
            target = self.target(tnode, scope)
            if isinstance(node, ast.AugAssign):
                fake = ast.BinOp(left=tnode, op=node.op, right=node.value)
                ast.copy_location(fake, node)
                value = self.expr(fake, scope)
            else:
                value = self.expr(node.value, scope)
            value = self.settle(node.value, value, target.type)
            if not same_kind(target.type, value.type):
                self.fail(node, f"cannot assign {_a(value.type)} to '{target.var}' ({_tdesc(target.type)})")
            return [Assign(target, value, getattr(node, "lineno", 1))]
        if isinstance(node, ast.If):
            test = self.expr(node.test, scope)
            self.need(node.test, test, BoolT)
            return [If(test, self.stmts(node.body, scope), self.stmts(node.orelse, scope))]
        if isinstance(node, ast.For):
            if node.orelse:
                self.fail(node, "'for ... else' is not allowed")
            if not isinstance(node.target, ast.Name):
                self.fail(node.target, "loop variable must be a plain name")
            if not (isinstance(node.iter, ast.Name) and node.iter.id in scope.spec.families):
                self.fail(node.iter, "a loop ranges over a family name",
                          culprit=ast.get_source_segment(self.text, node.iter))
            inner = scope.with_bound(node.target.id, node.iter.id)
            return [For(node.target.id, node.iter.id, self.stmts(node.body, inner))]
        if isinstance(node, ast.Expr):
            self.fail(node, "an expression on its own does nothing; effects are assignments")
        self.fail(node, f"{_describe(node)} is not allowed in an effect")

    def target(self, node, scope):
        if isinstance(node, ast.Name):
            if scope.self_family is None or (scope.self_family, node.id) not in scope.spec.vars:
                if node.id in scope.params or node.id in scope.spec.constants:
                    self.fail(node, f"'{node.id}' is not a state variable and cannot be assigned", culprit=node.id)
                choices = [v for (f, v) in scope.spec.vars if f == scope.self_family]
                self.unknown(node, "variable", node.id, choices)
            ir = VarRef(scope.self_family, SelfRef(InstT(scope.self_family)), node.id,
                        scope.spec.vars[(scope.self_family, node.id)].type)
        elif isinstance(node, ast.Attribute):
            ir = self.expr(node, scope)
            if not isinstance(ir, VarRef):
                self.fail(node, "only state variables can be assigned")
        else:
            self.fail(node, f"cannot assign to {_describe(node)}")
        if scope.own_control and ir.var == scope.own_control and ir.family == scope.self_family and (
                ir.inst is None or isinstance(ir.inst, SelfRef)
                or (isinstance(ir.inst, ParamRef) and ir.inst.name == scope.target_param)):
            self.fail(node, f"the machine's own state '{ir.var}' changes through 'dest', not in the effect",
                      culprit=ir.var)
        return ir


def _InstExpr(index, family):
    """`family[i]` is an instance; it only becomes a value with `.var`."""
    return _Indexed(index, InstT(family))


@dataclass(frozen=True)
class _Indexed(Node):
    index: Node
    type: object


def _reads_state(ir) -> bool:
    if isinstance(ir, (VarRef, Quant)):
        return True
    for value in getattr(ir, "__dict__", {}).values():
        items = value if isinstance(value, tuple) else (value,)
        if any(isinstance(x, Node) and _reads_state(x) for x in items):
            return True
    return False


def _singleton(spec, family):
    return spec.families[family].count == 1 and spec.families[family].parent is None


def _a(t):
    """'a bool', 'an int': the type with its article."""
    text = _tdesc(t)
    return ("an " if text[:1] in "aeiou" else "a ") + text


def _tdesc(t):
    if t is _UNTYPED_NONE:
        return "None"
    if t is _UNTYPED_STR:
        return "string"
    if t is _UNTYPED_SET:
        return "set"
    return t.describe() if hasattr(t, "describe") else str(t)


def _describe(node):
    names = {
        ast.Lambda: "a lambda", ast.ListComp: "a list comprehension", ast.DictComp: "a dict comprehension",
        ast.SetComp: "a set comprehension", ast.GeneratorExp: "a generator outside all/any/count",
        ast.Await: "await", ast.Yield: "yield", ast.Starred: "unpacking", ast.JoinedStr: "an f-string",
        ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.NamedExpr: "the walrus operator",
        ast.Import: "an import", ast.ImportFrom: "an import", ast.While: "a while loop",
        ast.FunctionDef: "a function definition", ast.ClassDef: "a class definition", ast.Delete: "del",
        ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Try: "try", ast.With: "with", ast.Raise: "raise",
        ast.Return: "return", ast.Assert: "assert", ast.Slice: "a slice", ast.Break: "break",
        ast.Continue: "continue", ast.AnnAssign: "an annotated assignment",
    }
    return names.get(type(node), f"'{type(node).__name__}'")


# ------------------------------------------------------------ entry points -------------
def _parse(text, where, mode):
    if not isinstance(text, str):
        raise where.error(f"expected an expression as text, got {type(text).__name__} {text!r}", str(text))
    try:
        tree = ast.parse(text.strip("\n") if mode == "eval" else _dedent(text), mode=mode)
    except SyntaxError as exc:
        bad = (exc.text or text).strip()
        raise where.error(f"syntax error in expression: {exc.msg}: '{bad}'", bad,
                          line_offset=(exc.lineno or 1) - 1) from None
    return tree


def _dedent(text):
    import textwrap
    return textwrap.dedent(text).strip("\n")


def check_expr(text, where: Where, scope: Scope, want=BoolT):
    """Parse and type one expression; `want` is the required type class (or None)."""
    tree = _parse(text, where, "eval")
    checker = _Checker(text.strip("\n"), where, scope)
    ir = checker.typed(tree.body, scope)
    if isinstance(ir, _Indexed):
        checker.fail(tree.body, "an instance alone is not a value; name a variable, as vf[i].state")
    if want is not None:
        checker.need(tree.body, ir, want)
    _reject_bare_indexed(ir, checker, tree.body)
    return ir


def check_effect(text, where: Where, scope: Scope):
    tree = _parse(text, where, "exec")
    checker = _Checker(_dedent(text), where, scope)
    stmts = checker.stmts(tree.body, scope)
    return stmts


def _reject_bare_indexed(ir, checker, node):
    # `vf[i]` only makes sense followed by `.var`; _var_of consumes it
    if isinstance(ir, _Indexed):
        checker.fail(node, "an instance alone is not a value")
