"""The loaded, validated spec: plain data, independent of any configuration."""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidSpec, Where


@dataclass
class Requirement:
    id: str
    kind: str          # B C Q D O (requirements.md)
    section: str
    summary: str


@dataclass
class Constant:
    name: str
    type: object
    doc: str
    where: Where
    exploration_bound: bool = False  # bounds counters for the explorer only; proofs leave them unbounded
    per: str | None = None   # a family: every instance has its own value (constants.yaml `per: card`)


class PerInstance(tuple):
    """A per-instance constant's value in one configuration: one value per instance of its
    family, in instance order (issue 8: a host whose cards are of several products)."""

    def display(self, shown=None) -> str:
        """The distinct values in instance order, joined by '/': 'S60', or 'T20/I20/S60'."""
        return "/".join(dict.fromkeys((shown or _shown)(v) for v in self))


def _shown(v):
    if isinstance(v, frozenset):
        return "{" + ", ".join(str(x) for x in sorted(v)) + "}"
    return str(v).lower() if isinstance(v, bool) else str(v)


@dataclass
class Config:
    name: str
    description: str
    values: dict       # constant name -> python value (enum: str, set: frozenset)
    where: Where
    # (family, var) or an instance's 'label.var' (card1.fw) -> the initial values it narrows to
    initial: dict = field(default_factory=dict)

    def value_of(self, name: str, index: int | None = None):
        """A constant's value; for a per-instance constant, instance `index`'s own."""
        value = self.values[name]
        if isinstance(value, PerInstance):
            if index is None:
                raise KeyError(f"{name} has one value per instance; name the instance")
            return value[index]
        return value

    def uniform(self, name: str):
        """A constant's one value on this host, or None where its instances differ."""
        value = self.values[name]
        if isinstance(value, PerInstance):
            return value[0] if value and all(v == value[0] for v in value) else None
        return value

    def given(self, name: str):
        """A constant's value as configs.yaml would write it: one value where every instance
        has it, else the list of one value per instance."""
        value = self.values[name]
        if isinstance(value, PerInstance):
            one = self.uniform(name)
            return one if one is not None or not value else list(value)
        return value

    def display(self, name: str) -> str:
        """A constant's value as messages show it (a per-instance one: its distinct values)."""
        value = self.values[name]
        return value.display() if isinstance(value, PerInstance) else _shown(value)


@dataclass
class Composed:
    """A host too big to explore whole (issue 8, item 2): an ordinary configuration with
    more instances of one symmetric family, checked compositionally (explore/compose.py)."""
    name: str
    description: str
    base: str          # the configuration it grows (explored whole, as every configuration)
    family: str        # the family it grows
    count: int         # instances of it on this host
    where: Where
    config: object = None   # the derived Config: the base's values with `family`'s count set


# What a family stands for on a Linux host (families.yaml `role:`). The reference host, its
# sysfs and shell, runbooks and conformance find a family by its role, never by its name,
# so a spec may call its families what it likes.
ROLES = {
    "host": "the machine the KMD runs on (one instance, no parent)",
    "pf": "a card's PCI physical function (top-level)",
    "vf": "a VF slot of a card (its parent has the pf role)",
    "vm": "a virtual machine that may hold a passed-through device (top-level)",
    "container": "a container given device nodes (top-level)",
}


@dataclass
class Family:
    """Instances of one kind (host, card, VF slot, VM ...), sized by a configuration."""
    name: str
    count: object      # int or constant name; per parent when parent is set
    parent: str | None
    doc: str
    where: Where
    # interchangeable instances (issue 8): False; True (any renaming); or the name of an int
    # variable of the parent bounding the interchangeable prefix (vf: `numvfs`)
    symmetric: object = False
    role: str | None = None     # a key of ROLES


@dataclass
class Var:
    name: str
    family: str
    type: object
    init: tuple        # one or more initial values (several give several initial states)
    doc: str
    where: Where
    machine: str       # the machine that declares it
    is_control: bool = False


@dataclass
class Param:
    name: str
    type: object       # a Family name (str) for instance parameters, else a value type
    domain: object     # for value types: ("range", lo, hi) or ("values", tuple)
    where: Where

    @property
    def is_instance(self) -> bool:
        return isinstance(self.type, str)


@dataclass
class Check:
    """One ordered condition of a guard; the first failing one decides the refusal."""
    expr: object       # checked expression IR
    source: str
    errno: str
    message: str
    reqs: tuple
    where: Where


# what a timed action's duration and chosen parameters may come from on a running host
TIMED_AFTER_HOOKS = ("rpm_sleep_delay",)     # the card's rpm_sleep_delay as last written (RPM-2)
TIMED_CHOICE_HOOKS = ("reset_succeeds",)     # true unless the host injects a failing reset (RST-2, RST-3)


@dataclass(frozen=True)
class Timed:
    """`timed:` of an action time brings about: it happens `after_ms` (a number, or a hook's
    per-instance duration) from the moment it becomes possible, for the one instance parameter
    `instance`, with every other parameter chosen by a hook."""
    instance: str                 # the parameter naming the instance whose timer it is
    after_ms: int | None          # a fixed duration, or None with after_hook
    after_hook: str | None
    choose: tuple                 # (param, hook) for every other parameter
    where: Where


@dataclass
class ActionDecl:
    """Something a user or the world does (a command, a sysfs write, an event)."""
    name: str
    machine: str
    params: tuple      # of Param
    target: object     # the instance parameter's name, a `target:` expression IR, or None (singleton)
    checks: tuple      # Checks evaluated before any transition is chosen
    otherwise_errno: str
    otherwise_message: str
    reqs: tuple
    doc: str
    where: Where
    when: object = None  # constant-only expression: the configurations that offer this action
    timed: Timed | None = None   # time brings it about (reference host timers, suites' sleeps)


@dataclass
class Transition:
    id: str            # machine.trigger#n, stable for reports
    machine: str
    trigger: str
    sources: tuple     # state names
    dest: str | None   # None: stay
    when: object       # selector IR (None: always)
    when_source: str
    checks: tuple      # of Check
    effect: tuple      # statement IR
    emit: tuple        # observation templates
    reqs: tuple
    assumption: str
    where: Where
    doc: str = ""


@dataclass
class Machine:
    name: str
    family: str
    states: tuple
    initial: tuple     # initial state(s)
    reqs: tuple
    doc: str
    file: str
    where: Where
    control: str       # the family variable that holds this machine's state
    transitions: list = field(default_factory=list)
    state_where: dict = field(default_factory=dict)   # state name -> Where of its entry


@dataclass
class Property:
    """An invariant (must hold in every reachable state) or a goal (must be reachable)."""
    name: str
    kind: str          # "invariant" | "goal"
    expr: object
    source: str
    when: object       # constant-only expression choosing the configurations, or None
    reqs: tuple
    doc: str
    where: Where
    symmetric: bool = False   # reads an instance's index, yet its verdict ignores renaming (issue 8)


@dataclass
class Quantity:
    """A number (or value) the model computes for each instance of a family (kind Q)."""
    name: str
    family: str
    expr: object       # IR, `self` = the instance; None until checked
    source: str
    reqs: tuple
    doc: str
    where: Where


TABLE_KEYS = (("products", "product"), ("parts", "part_number"))


def family_size(family, values: dict, constants: dict):
    """How many instances `family` has (per parent, for a child) given constant values: a
    per-parent count (vf: vf_slots) is the largest, as the layout gives every parent the
    most; None when the count constant has no value."""
    count = family.count
    if not isinstance(count, str):
        return count
    value = values.get(count, getattr(constants.get(count), "default", None))
    if isinstance(value, PerInstance):
        return max(value, default=0)
    return value


def merge_config_values(constants: dict, tables: dict, values: dict, families: dict) -> dict:
    """The value of every constant: what `values` says, else its product's and part's rows
    in constants.yaml, else the constant's default (configs.yaml, gcu-model solve).

    A per-instance constant (`per: card`) gets a PerInstance: `values` may give one value for
    every instance or a PerInstance of one per instance; each instance's product and part
    rows fill in the rest of its own values (issue 8: mixed hosts)."""
    merged = {}
    host_keys = [(t, k) for t, k in TABLE_KEYS if k in constants and constants[k].per is None]
    for table, key in host_keys:
        row_key = values.get(key)
        if row_key is not None and row_key in tables.get(table, {}):
            merged.update(tables[table][row_key])
    for cname, c in constants.items():
        if c.per is None and cname not in values and cname not in merged and hasattr(c, "default"):
            merged[cname] = c.default
    merged.update({k: v for k, v in values.items() if k in constants and constants[k].per is None})
    for family in dict.fromkeys(c.per for c in constants.values() if c.per is not None):
        n = family_size(families[family], merged, constants)
        if not isinstance(n, int):
            continue                      # the count itself is missing: reported by the caller
        names = [cname for cname, c in constants.items() if c.per == family]
        rows = []
        for i in range(n):
            own = {cname: _nth(values[cname], i, n, cname) for cname in names if cname in values}
            row = {}
            for table, key in TABLE_KEYS:
                row_key = own.get(key, getattr(constants.get(key), "default", None))
                if key in names and row_key in tables.get(table, {}):
                    row.update(tables[table][row_key])
            for cname in names:
                if cname not in row and hasattr(constants[cname], "default"):
                    row[cname] = constants[cname].default
            row.update(own)
            rows.append(row)
        for cname in names:
            if all(cname in row for row in rows):
                merged[cname] = PerInstance(row[cname] for row in rows)
    return merged


def _nth(value, i, n, name):
    """Instance i's value of a per-instance constant given for all n instances (a
    PerInstance, or a list from a caller of derive_config)."""
    if isinstance(value, list):
        value = PerInstance(value)
    if not isinstance(value, PerInstance):
        return value
    if len(value) == n:
        return value[i]
    if value and all(v == value[0] for v in value):
        return value[0]                   # a host grown from a configuration whose cards agree
    raise InvalidSpec(f"{name}: {len(value)} values for {n} instances", "<spec>", None, name)


@dataclass
class SolverSpace:
    """What `gcu-model solve` varies and what its set-ups run with (configs.yaml `solver:`)."""
    facts: tuple           # constant names: the facts of a host the solver varies
    values: dict           # other constant values of every solver configuration
    initial: dict          # (family, var) -> initial values, as a configuration's narrowing
    setup_actions: tuple   # the actions a set-up may use
    complete: str          # expression: a set-up has reached a working host
    where: Where


@dataclass
class Spec:
    root: str
    requirements: dict
    constants: dict
    configs: dict
    families: dict
    vars: dict         # (family, name) -> Var
    machines: dict
    actions: dict
    transitions: list
    properties: list
    assumptions: list  # (where, text): every ASSUMPTION note
    quantities: dict = field(default_factory=dict)   # (family, name) -> Quantity
    tables: dict = field(default_factory=dict)       # "products"/"parts" -> row key -> {constant: value}
    solver: "SolverSpace | None" = None
    bits: dict | None = None   # constants.yaml `bits:` (gcu_model.prove.bitlevel)
    device: dict = field(default_factory=dict)   # constants.yaml `device:` (the reference host)
    composed: dict = field(default_factory=dict)  # configs.yaml `composed:` (issue 8: big hosts)
    surface: object = None   # surface.yaml: the sysfs, debugfs and /dev surface (spec/surface.py)
    commands: object = None  # commands.yaml: fixed command lines and their actions (spec/command_forms.py)

    def derive_config(self, name: str, values: dict, initial: dict | None = None,
                      description: str = "", where: Where | None = None) -> Config:
        """A configuration built from constant values the way configs.yaml builds one."""
        merged = merge_config_values(self.constants, self.tables, values, self.families)
        missing = [c for c in self.constants if c not in merged]
        if missing:
            raise InvalidSpec(f"configuration {name} gives no value for constant(s) {', '.join(missing)}",
                              where.file if where else "<spec>", where.line if where else None, missing[0])
        return Config(name, description, merged, where or Where("<derived>", None), dict(initial or {}))

    def family_of(self, role: str) -> str | None:
        """The family with this role (ROLES), or None where the spec has none."""
        return next((f.name for f in self.families.values() if f.role == role), None)

    def instance_param(self, action: str, family: str) -> str | None:
        """The parameter of `action` that names an instance of `family` (None: none, or several)."""
        decl = self.actions.get(action)
        found = [p.name for p in decl.params if p.is_instance and p.type == family] if decl is not None else []
        return found[0] if len(found) == 1 else None

    def family_vars(self, family: str) -> list:
        return [v for (f, _), v in self.vars.items() if f == family]
