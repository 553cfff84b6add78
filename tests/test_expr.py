"""The expression checker and its three back ends, through the public pieces.

- `System.step` (Python closures) on hand-made action sequences of the s60-sriov-4vf
  configuration: the errno, message and state of each outcome;
- the checker (`spec.expr.check_expr` / `check_effect`): types, IR, and errors with file,
  line and culprit;
- agreement of the back ends on states built by stepping: closures
  (`core.closures.evaluate`, `System.step`), the generated successor function
  (`explore.explorer.compiled_for(system)`) and z3 (`core.z3terms.Z3Encoder`).
"""
from __future__ import annotations

import pytest
import z3

from conftest import refused_with, run_actions

from gcu_model.core import closures, codegen
from gcu_model.core.outcome import Accepted, OutOfBounds, Refused
from gcu_model.core.system import System
from gcu_model.core.z3terms import Z3Encoder
from gcu_model.explore.explorer import compiled_for
from gcu_model.spec.errors import InvalidSpec, Where
from gcu_model.spec.expr import Quant, Scope, check_effect, check_expr
from gcu_model.spec.loader import load_spec
from gcu_model.spec.types import BoolT, EnumT, IntT

CONFIG = "s60-sriov-4vf"
INSTALL_4 = "install_base(opt_mode=virt_host, opt_vf_num=4, opt_auto_load=true)"
VFS = [f"card0.vf{i}" for i in range(4)]


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def system(spec):
    return System(spec, CONFIG)


run = run_actions
refused = refused_with


# ------------------------------------------------------------------ System.step
def test_configuration_shape(system):
    texts = [str(a.action) for a in system.actions]
    assert len(system.initial) == 1
    for a in (INSTALL_4, "rmmod()", "write_sriov_numvfs(card=card0, n=5)", "bind_vf_vfio(vf=card0.vf3)",
              "start_vm_vf(vm=vm1, vf=card0.vf0)"):
        assert a in texts
    d = system.describe(system.initial[0])
    assert d["host.kmd"] == "absent"
    assert all(d[f"{v}.binding"] == "absent" for v in VFS)


def test_install_virt_host_creates_the_vfs(system):
    d = system.describe(run(system, [INSTALL_4]))
    assert (d["host.kmd"], d["host.mode"], d["host.vf_num"]) == ("loaded", "virt_host", 4)
    assert (d["card0.binding"], d["card0.numvfs"]) == ("enflame", 4)
    assert [d[f"{v}.binding"] for v in VFS] == ["enflame"] * 4


def test_install_without_vf_num_uses_the_default(system):
    d = system.describe(run(system, ["install_base(opt_mode=virt_host, opt_vf_num=0, opt_auto_load=true)"]))
    assert d["host.vf_num"] == d["card0.numvfs"] == 2
    assert [d[f"{v}.binding"] for v in VFS] == ["enflame", "enflame", "absent", "absent"]


def test_install_refusals(system):
    s0 = system.initial[0]
    r = refused(system, s0, "install_base(opt_mode=virt_host, opt_vf_num=3, opt_auto_load=true)", "EINVAL")
    assert "does not support --vf-num 3" in r.message
    r = refused(system, s0, "install_base(opt_mode=asic, opt_vf_num=2, opt_auto_load=true)", "EINVAL")
    assert "--vf-num is only valid with --virt-host" in r.message
    r = refused(system, s0, "install_base(opt_mode=vgcu, opt_vf_num=0, opt_auto_load=true)", "EINVAL")
    assert "not supported on S60" in r.message
    loaded = run(system, [INSTALL_4])
    # §3: installing again reloads the module (a new vgcu_num, vf count or mode takes effect),
    # refused as rmmod is while the module is in use
    again = system.describe(run(system, [INSTALL_4, "install_base(opt_mode=virt_host, opt_vf_num=1, opt_auto_load=true)"]))
    assert (again["host.kmd"], again["host.vf_num"], again["card0.numvfs"]) == ("loaded", 1, 1)
    held = run(system, [INSTALL_4, "open_vf(vf=card0.vf0)"])
    r = refused(system, held, INSTALL_4, "EBUSY")
    assert "Module enflame is in use" in r.message
    refused(system, s0, "rmmod()", "ENOENT")


def test_write_other_count_while_vfs_exist_is_ebusy(system):
    s = run(system, [INSTALL_4])
    r = refused(system, s, "write_sriov_numvfs(card=card0, n=2)", "EBUSY")
    assert "already has VFs; write 0 first" in r.message
    # the order of the checks: EBUSY comes before the unsupported count
    refused(system, s, "write_sriov_numvfs(card=card0, n=3)", "EBUSY")


def test_write_above_totalvfs_is_erange(system):
    for s in (system.initial[0], run(system, [INSTALL_4])):
        r = refused(system, s, "write_sriov_numvfs(card=card0, n=5)", "ERANGE")
        assert "5 is above sriov_totalvfs (4)" in r.message


def test_write_unsupported_count_is_einval(system):
    s = run(system, [INSTALL_4, "write_sriov_numvfs(card=card0, n=0)"])
    r = refused(system, s, "write_sriov_numvfs(card=card0, n=3)", "EINVAL")
    assert "does not support 3 VFs" in r.message


def test_write_current_count_changes_nothing(system):
    s = run(system, [INSTALL_4])
    outcome = system.step(s, "write_sriov_numvfs(card=card0, n=4)")
    assert isinstance(outcome, Accepted)
    assert outcome.state == s
    assert outcome.transition == "pf.write_sriov_numvfs#1"


def test_vf_count_goes_through_zero(system):
    s = run(system, [INSTALL_4, "write_sriov_numvfs(card=card0, n=0)"])
    d = system.describe(s)
    assert d["card0.numvfs"] == 0 and all(d[f"{v}.binding"] == "absent" for v in VFS)
    outcome = system.step(s, "write_sriov_numvfs(card=card0, n=1)")
    assert isinstance(outcome, Accepted)
    assert outcome.observations == ("enflame card0: enabled 1 VFs",)
    d = system.describe(outcome.state)
    assert [d[f"{v}.binding"] for v in VFS] == ["enflame", "absent", "absent", "absent"]


def test_rmmod_with_a_vf_bound_to_vfio_is_ebusy(system):
    s = run(system, [INSTALL_4, "bind_vf_vfio(vf=card0.vf1)"])
    assert system.describe(s)["card0.vf1.binding"] == "vfio"
    r = refused(system, s, "rmmod()", "EBUSY")
    assert "unbind the devices from vfio-pci first" in r.message
    assert "UNLD-4" in r.reqs
    # after unbinding, rmmod is accepted and every VF slot is gone
    s = run(system, ["unbind_vf_vfio(vf=card0.vf1)", "rmmod()"], s)
    d = system.describe(s)
    assert d["host.kmd"] == "installed"
    assert (d["card0.binding"], d["card0.numvfs"]) == ("unbound", 0)
    assert [d[f"{v}.binding"] for v in VFS] == ["absent"] * 4
    assert system.check_invariants(s) == []


def test_vm_holding_a_vf_blocks_rmmod_and_numvfs(system):
    s = run(system, [INSTALL_4, "bind_vf_vfio(vf=card0.vf2)", "start_vm_vf(vm=vm0, vf=card0.vf2)"])
    d = system.describe(s)
    assert (d["vm0.power"], d["vm0.vf_dev"], d["card0.vf2.binding"]) == ("running", "card0.vf2", "assigned")
    assert "shut the VMs down first" in refused(system, s, "rmmod()", "EBUSY").message
    assert "held by a running VM" in refused(system, s, "write_sriov_numvfs(card=card0, n=0)", "EBUSY").message
    refused(system, s, "unbind_vf_vfio(vf=card0.vf2)", "EBUSY")
    refused(system, s, "start_vm_vf(vm=vm1, vf=card0.vf2)", "EBUSY")
    s = run(system, ["stop_vm(vm=vm0)"], s)
    d = system.describe(s)
    assert (d["vm0.power"], d["vm0.vf_dev"], d["card0.vf2.binding"]) == ("off", None, "vfio")


def test_open_past_the_bound_is_out_of_bounds(system):
    s = run(system, [INSTALL_4, "open_vf(vf=card0.vf0)"])
    outcome = system.step(s, "open_vf(vf=card0.vf0)")
    assert isinstance(outcome, OutOfBounds)
    assert "card0.vf0.opens would become 2" in outcome.message
    refused(system, s, "write_sriov_numvfs(card=card0, n=0)", "EBUSY")
    refused(system, s, "rmmod()", "EBUSY")


# ------------------------------------------------------------------ the checker
def host_scope(spec):
    return Scope(spec, "host", {})


def test_checker_types_and_ir(spec):
    where = Where("x.yaml", 10)
    assert isinstance(check_expr("host.kmd == 'loaded'", where, Scope(spec)).type, BoolT)
    q = check_expr("count(v.opens > 0 for v in vf if v.index < 2)", where, Scope(spec), want=IntT)
    assert isinstance(q, Quant) and q.kind == "count" and isinstance(q.type, IntT)
    with pytest.raises(InvalidSpec, match="must be compared with an enum value"):
        check_expr("'virt_host' if vf_num > 0 else 'asic'", where, host_scope(spec), want=None)
    assign = check_effect("mode = 'virt_host' if vf_num > 0 else 'asic'", where, host_scope(spec))
    assert isinstance(assign[0].value.type, EnumT) and assign[0].value.type.name == "install_mode"


@pytest.mark.parametrize("text, culprit, phrase", [
    ("host.kmd == 'lodaed'", "lodaed", "is not a value of enum kmd"),
    ("host.kmd == 1", "host.kmd == 1", "cannot compare"),
    ("host.vf_num and True", "host.vf_num", "type error: expected bool, got int"),
    ("host.kmdd == 'loaded'", "kmdd", "did you mean 'kmd'?"),
    ("vf[0].binding == 'absent'", None, "needs a vf instance as index"),
    ("card.opens == 0", None, "has several instances"),
    ("host.__dict__", "__dict__", "attribute tricks are not allowed"),
    ("getattr(host, 'kmd')", "getattr", "calls are not allowed"),
    ("[1][0] == 1", None, "indexing is only allowed on a family name"),
    ("host.vf_num ** 2 > 1", None, "operator Pow is not allowed"),
    ("host.vf_num % 2 > 1", None, "operator Mod is not allowed"),
    ("host.kmd is 'loaded'", None, "comparison Is is not allowed"),
    ("1.5 > host.vf_num", None, "literal of type float is not allowed"),
    ("{x: 1 for x in vf}", None, "a dict comprehension is not allowed"),
    ("all(v for v in vf)", None, "type error: expected bool"),
    ("all(v.opens == 0 for v in vf for w in vf)", None, "one 'for' per quantifier"),
])
def test_checker_errors(spec, text, culprit, phrase):
    with pytest.raises(InvalidSpec) as info:
        check_expr(text, Where("x.yaml", 10), Scope(spec))
    err = info.value
    assert (err.file, err.line) == ("x.yaml", 10)
    assert phrase in str(err)
    if culprit is not None:
        assert err.culprit == culprit and culprit in str(err)


def test_constants_only_scope_rejects_state(spec):
    with pytest.raises(InvalidSpec, match="only config constants"):
        check_expr("vms > 0 and host.kmd == 'loaded'", Where("x.yaml", 3), Scope(spec, constants_only=True))
    assert isinstance(check_expr("vms > 0 and any(2 in c.vf_modes for c in card)", Where("x.yaml", 3),
                                 Scope(spec, constants_only=True)).type, BoolT)
    # a per-card constant is a card's: bare, outside a card, it names no value
    with pytest.raises(InvalidSpec, match="'vf_modes' has one value per card; name the card"):
        check_expr("vms > 0 and 2 in vf_modes", Where("x.yaml", 3), Scope(spec, constants_only=True))


def test_effect_errors_carry_the_line_inside_the_block(spec):
    scope = Scope(spec, "card", {}, own_control="binding")
    text = "numvfs = 0\nfor v in vf:\n    if v.card == self:\n        v.binding = 'absent'\nwhile True:\n    pass\n"
    with pytest.raises(InvalidSpec) as info:
        check_effect(text, Where("m.yaml", 20), scope)
    assert info.value.line == 24 and "a while loop is not allowed" in str(info.value)
    with pytest.raises(InvalidSpec) as info:
        check_effect("opens = 0\nbinding = 'vfio'", Where("m.yaml", 7), scope)
    assert info.value.line == 8 and info.value.culprit == "binding" and "'dest'" in str(info.value)
    with pytest.raises(InvalidSpec, match="cannot assign an int to 'binding'"):
        check_effect("v.binding = 3", Where("m.yaml", 1), scope.with_bound("v", "vf"))


# ------------------------------------------------------------------ back-end agreement
PATHS = [
    [],
    [INSTALL_4],
    [INSTALL_4, "bind_vf_vfio(vf=card0.vf1)"],
    [INSTALL_4, "bind_vf_vfio(vf=card0.vf1)", "start_vm_vf(vm=vm1, vf=card0.vf1)"],
    [INSTALL_4, "bind_vf_vfio(vf=card0.vf1)", "start_vm_vf(vm=vm1, vf=card0.vf1)", "start_vm_job(vm=vm1)"],
    [INSTALL_4, "open_vf(vf=card0.vf3)"],
    [INSTALL_4, "write_sriov_numvfs(card=card0, n=0)"],
    [INSTALL_4, "write_sriov_numvfs(card=card0, n=0)", "write_sriov_numvfs(card=card0, n=2)",
     "bind_vf_vfio(vf=card0.vf0)"],
    [INSTALL_4, "rmmod()"],
    ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)", "bind_pf_vfio(card=card0)",
     "start_vm_pf(vm=vm0, card=card0)"],
    ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=false)", "open_pf(card=card0)"],
    ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=false)", "reboot()"],
]


@pytest.fixture(scope="module")
def states(system):
    out = [run(system, path) for path in PATHS]
    assert len(set(out)) == len(out), "each path should give a different state"
    return out


@pytest.fixture(scope="module")
def z3enc(system):
    return Z3Encoder(system.layout)


def z3_value(enc, system, term, state):
    """Evaluate a ground term with z3 by substituting the state's values for the slots."""
    pairs = []
    for slot, var, v in zip(system.layout.slots, enc.vars, state):
        if z3.is_bool(var):
            pairs.append((var, z3.BoolVal(bool(v))))
        elif z3.is_bv(var):
            pairs.append((var, z3.BitVecVal(v, var.size())))
        else:
            pairs.append((var, z3.IntVal(v)))
    t = enc.term(term)
    if isinstance(t, bool):
        return t
    r = z3.simplify(z3.substitute(t, *pairs))
    if z3.is_true(r) or z3.is_false(r):
        return z3.is_true(r)
    return r.as_long()


def has_shift(term):
    """Whether a ground term holds `1 << e` (membership of a state value in an enum set)."""
    if not isinstance(term, tuple):
        return False
    if term[:2] == ("bin", "<<"):
        return True
    return any(has_shift(x) for x in term)


def generated(term):
    """The generated-code back end for one term, as a function of the state tuple."""
    src = codegen.term(term, lambda i: f"s[{i}]")
    namespace = {"__builtins__": {"bin": bin, "min": min, "max": max}, "_div": lambda a, b: a // b if b else 0}
    return eval(f"lambda s: {src}", namespace)  # noqa: S307 - source generated from a ground term


def test_paths_satisfy_the_invariants(system, states):
    for s in states:
        assert system.check_invariants(s) == [], system.state_summary(s)


def test_invariants_and_goals_agree(system, states, z3enc):
    comp = compiled_for(system)
    assert system.invariant_terms and system.goal_terms
    z3_terms = [t for t in system.invariant_terms + system.goal_terms if not has_shift(t)]
    assert len(z3_terms) >= 10     # membership terms: see test_z3_enum_set_membership
    for s in states:
        inv = [bool(closures.evaluate(t, s)) for t in system.invariant_terms]
        first = comp.first_violation(s)
        assert first == (inv.index(False) if False in inv else -1)
        assert inv == [bool(generated(t)(s)) for t in system.invariant_terms]
        goals = [bool(closures.evaluate(t, s)) for t in system.goal_terms]
        assert goals == [bool(g(s)) for g in comp.goals]
        for t in z3_terms:
            assert z3_value(z3enc, system, t, s) == bool(closures.evaluate(t, s)), t
    # the states above reach some goals and miss others: the comparison is not vacuous
    seen = {bool(closures.evaluate(t, s)) for t in system.goal_terms for s in states}
    assert seen == {True, False}


def test_guards_and_selectors_agree(system, states, z3enc):
    """Every ground selector and check of every action: closures == generated code == z3."""
    compared = 0
    outcomes = set()
    for ga in system.actions:
        terms = [t for t, _ in ga.checks]
        for rule in ga.rules:
            terms.append(rule.when)
            terms.extend(t for t, _ in rule.checks)
        for t in terms:
            gen = generated(t)
            for s in states:
                a = closures.evaluate(t, s)
                assert a == gen(s), (str(ga.action), t)
                if not has_shift(t):
                    assert a == z3_value(z3enc, system, t, s), (str(ga.action), t)
                outcomes.add(bool(a))
                compared += 1
    assert compared > 1000 and outcomes == {True, False}


def test_step_agrees_with_generated_expand(system, states):
    comp = compiled_for(system)
    kinds = set()
    for s in states:
        succ, refused_, bound = comp.expand(s)
        per_action = {}
        for label, t in succ:
            per_action.setdefault(system.labels[label][0], []).append(("ok", label, t))
        for aid, rid in refused_:
            per_action.setdefault(aid, []).append(("refused", rid, None))
        for label in bound:
            per_action.setdefault(system.labels[label][0], []).append(("bound", label, None))
        for ga in system.actions:
            got = per_action.get(ga.id, [])
            assert len(got) == 1, (str(ga.action), got)
            kind, key, new = got[0]
            outcome = system.step(s, ga)
            if isinstance(outcome, Accepted):
                assert kind == "ok", (str(ga.action), outcome)
                assert new == outcome.state and system.labels[key][1] == outcome.transition
            elif isinstance(outcome, Refused):
                assert kind == "refused", (str(ga.action), outcome)
                r = system.refusals[key]
                assert (r.errno, r.rule) == (outcome.errno, outcome.rule)
                assert r.text(ga.states[s[ga.control]]) == outcome.message
            else:
                assert isinstance(outcome, OutOfBounds) and kind == "bound", (str(ga.action), outcome)
            kinds.add(kind)
        # the counting function: the same new states (it may also hand back `s` itself)
        assert set(comp.successors(s)) - {s} == {t for _, t in succ if t != s}
    assert kinds == {"ok", "refused", "bound"}


EXPRESSIONS = [
    # (expression, want, expected value from the readable state)
    ("all(v.binding == 'absent' for v in vf)", BoolT,
     lambda d: all(d[f"{v}.binding"] == "absent" for v in VFS)),
    ("all(count(v.binding == 'enflame' for v in vf if v.card == c) == c.numvfs for c in card)", BoolT,
     lambda d: sum(d[f"{v}.binding"] == "enflame" for v in VFS) == d["card0.numvfs"]),
    ("count(v.index < host.vf_num for v in vf)", IntT, lambda d: min(d["host.vf_num"], 4)),
    ("host.vf_num if host.mode == 'virt_host' else 7", IntT,
     lambda d: d["host.vf_num"] if d["host.mode"] == "virt_host" else 7),
    ("min(host.vf_num, 3) + 2 * max(host.vf_num - 3, 0)", IntT,
     lambda d: min(d["host.vf_num"], 3) + 2 * max(d["host.vf_num"] - 3, 0)),
    ("card[0].numvfs", None, None),                                           # rejected below
    ("host.kmd in {'installed', 'loaded'}", BoolT, lambda d: d["host.kmd"] in ("installed", "loaded")),
    ("host.kmd not in {'installed'} and not host.test_module", BoolT,
     lambda d: d["host.kmd"] != "installed" and not d["host.test_module"]),
    ("any(m.vf_dev != None and vf[m.vf_dev].binding == 'assigned' for m in vm)", BoolT,
     lambda d: any(d[f"vm{i}.vf_dev"] is not None and d[f"{d[f'vm{i}.vf_dev']}.binding"] == "assigned"
                   for i in range(2))),
    ("count(m.pf_dev == c for m in vm for c in card)", None, None),                     # rejected below
    ("host.vf_num * 3 - host.vf_num - -1", IntT, lambda d: d["host.vf_num"] * 3 - d["host.vf_num"] + 1),
    ("host.vf_num // 3 + (7 // host.vf_num) - (-7 // 2)", IntT,
     lambda d: d["host.vf_num"] // 3 + (7 // d["host.vf_num"] if d["host.vf_num"] else 0) + 4),
    ("host.vf_num in card[0 if True else 0].vf_modes", None, None),              # rejected: an int is no card
    ("all(host.vf_num in c.vf_modes for c in card)", BoolT, lambda d: d["host.vf_num"] in (1, 2, 4)),
    ("(host.kmd == 'loaded') == (host.vf_num != 0)", BoolT,
     lambda d: (d["host.kmd"] == "loaded") == (d["host.vf_num"] != 0)),
    ("count(len(c.vf_modes) == 3 for c in card) + count(c.binding == 'unbound' for c in card)", IntT,
     lambda d: 1 + (d["card0.binding"] == "unbound")),
    ("len(card[host.whitelist_loaded].vf_modes) > 0", None, None),       # rejected: a set of ints through a variable
    ("len({'enflame', 'vfio'}) == 2", None, None),                            # rejected: untyped strings
]


@pytest.mark.parametrize("text, want, expected", EXPRESSIONS, ids=[e[0][:48] for e in EXPRESSIONS])
def test_expression_through_three_back_ends(spec, system, states, z3enc, text, want, expected):
    where = Where("x.yaml", 1)
    if expected is None:
        with pytest.raises(InvalidSpec):
            check_expr(text, where, Scope(spec), want=want)
        return
    ir = check_expr(text, where, Scope(spec), want=want)
    term = system.grounder.term(ir, {"params": {}, "self": None, "bound": {}})
    gen = generated(term)
    values = []
    for s in states:
        want_value = expected(system.describe(s))
        got = closures.evaluate(term, s)
        assert got == want_value, (text, system.state_summary(s))
        assert gen(s) == got
        if not has_shift(term):          # membership: test_z3_enum_set_membership
            assert z3_value(z3enc, system, term, s) == got
        values.append(got)
    if want is BoolT:
        assert set(values) == {True, False}, f"{text}: the states never tell the two outcomes apart"


@pytest.mark.parametrize("text", ["host.kmd in {'installed', 'loaded'}",
                                  "all(c.binding in {'unbound', 'enflame'} for c in card)"])
def test_z3_enum_set_membership(spec, system, states, z3enc, text):
    ir = check_expr(text, Where("x.yaml", 1), Scope(spec))
    term = system.grounder.term(ir, {"params": {}, "self": None, "bound": {}})
    assert not has_shift(term)     # membership in a literal set grounds to equalities
    for s in states:
        assert z3_value(z3enc, system, term, s) == closures.evaluate(term, s)


def test_emulation_platform_refuses_every_install(spec_copy):
    """INST-3: a configuration on an emulation platform can never install the base package."""
    from conftest import edit
    from gcu_model.core.system import System
    from gcu_model.explore.explorer import explore
    from gcu_model.spec.loader import load_spec
    edit(spec_copy / "configs.yaml", "values: {product: T20, cards: 1, vms: 1, max_opens: 1}\n", "values: {product: T20, platform: emulation, cards: 1, vms: 1, max_opens: 1}\n")
    system = System(load_spec(spec_copy), "t20-asic")
    outcome = system.step(system.initial[0], "install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)")
    assert not outcome.accepted and outcome.errno == "EINVAL" and "emulation" in outcome.message
    result = explore(system)
    kmd = system.layout.slot_of[("host", 0, "kmd")]
    assert {s[kmd] for s in result.states} == {0}          # the driver stays absent
    assert result.goals["whole_card_in_vm"] is not None     # passthrough needs no KMD


@pytest.mark.reqs("PROD-2")
@pytest.mark.parametrize("constant, errno", [("arch_64bit", "ENOEXEC"), ("above_4g_decoding", "ENOMEM")])
def test_platform_without_64bit_or_4g_decoding_cannot_load(spec_copy, constant, errno):
    """PROD-2: installing (which loads) fails on a 32-bit kernel or without Above 4G decoding."""
    from conftest import edit
    from gcu_model.core.system import System
    from gcu_model.spec.loader import load_spec
    edit(spec_copy / "configs.yaml", "values: {product: T20, cards: 1, vms: 1, max_opens: 1}\n",
         "values: {product: T20, cards: 1, vms: 1, max_opens: 1, " + constant + ": false}\n")
    system = System(load_spec(spec_copy), "t20-asic")
    state = next(s for s in system.initial if system.describe(s)["host.headers"] and not system.describe(s)["host.sig_enforced"])
    outcome = system.step(state, "install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)")
    assert not outcome.accepted and outcome.errno == errno
