"""How the reference host, its sysfs and shell, runbooks and conformance find their way in
a spec: families by role (families.yaml `role:`, spec/model.py ROLES), never by name;
the variables, quantities and constants this code reads, declared here and checked when
a host is built, so a spec that renamed one fails at once with what is missing instead of
with a KeyError deep in a command; actions built from their declaration (`Roles.action`),
their instance arguments matched by family, so a renamed family or parameter still works.
"""
from __future__ import annotations

from ..core.outcome import Action, show_value
from ..spec.errors import InvalidSpec

# role -> the variables and quantities of that role's family the reference reads (StateView)
READS = {
    "host": {"kmd", "reset_enable", "vgcu_num_loaded", "whitelist_loaded", "mode", "vf_num", "peermem",
             "test_module", "whitelist_conf", "vgcu_num_conf", "opt_tmp_conf", "opt_gcu_conf",
             "irq_poll_zero_conf"},
    "pf": {"binding", "reset", "qemu_acl", "last_read_blocked", "rpm_power", "rpm_delay_custom", "flr_vf",
           "numvfs", "usage_count", "rpm_enabled", "mdev_count", "device_id", "driven_by_kmd", "vgcu_count",
           "ih_thread"},
    "vf": {"binding"},
    "vm": {"power", "pf_dev", "vf_dev", "mdev_card"},
    "container": {"run"},
}
REQUIRED = ("host", "pf")       # the roles a reference host cannot do without
# configuration constants the reference reads (per card where the spec says so)
CONSTANTS = {"product", "numvfs_writes", "vgcu_spatial", "vgcu_time_sliced"}


class Roles:
    """The spec's families by role, checked against what this code reads."""

    def __init__(self, spec):
        self.spec = spec
        self.family = {role: spec.family_of(role) for role in READS}
        self.role_of_family = {f: r for r, f in self.family.items() if f is not None}
        for role in REQUIRED:
            if self.family[role] is None:
                raise InvalidSpec(f"the reference host needs a family with role: {role} (families.yaml); "
                                  f"the spec gives none", "families.yaml")
        for role, names in READS.items():
            family = self.family[role]
            if family is None:
                continue
            missing = sorted(n for n in names if (family, n) not in spec.vars and (family, n) not in spec.quantities)
            if missing:
                raise InvalidSpec(f"the reference host reads {', '.join(missing)} of family {family} (role {role}), "
                                  f"which the spec does not declare (gcu_model/reference/roles.py READS)",
                                  "families.yaml", None, missing[0])
        missing = sorted(CONSTANTS - set(spec.constants))
        if missing:
            raise InvalidSpec(f"the reference host reads constant(s) {', '.join(missing)}, which constants.yaml does "
                              f"not declare (gcu_model/reference/roles.py CONSTANTS)", "constants.yaml", None, missing[0])

    def count_constant(self, role) -> str | None:
        """The constant that sizes the family with `role` (vf: vf_slots, vm: vms), if one does."""
        family = self.family.get(role)
        count = self.spec.families[family].count if family is not None else None
        return count if isinstance(count, str) else None

    def instances(self, layout, role) -> list:
        family = self.family.get(role)
        return layout.instances.get(family, []) if family is not None else []

    def role(self, inst) -> str | None:
        return self.role_of_family.get(inst.family)

    def card_index(self, inst) -> int:
        """The card a PF or VF instance is, or belongs to."""
        return inst.parent if self.role(inst) == "vf" else inst.index

    def action(self, name: str, *instances, **values) -> Action:
        """The action `name` of the spec with these instances as its instance parameters (each
        to the parameter of its family) and `values` (by parameter name) as the others."""
        decl = self.spec.actions.get(name)
        if decl is None:
            from .host import HostError
            raise HostError(f"the spec has no action {name}, which this command is")
        by_family = {}
        for inst in instances:
            if inst is not None:
                by_family[inst.family] = inst
        args = []
        for p in decl.params:
            if p.is_instance and p.type in by_family:
                args.append((p.name, by_family[p.type].label))
            elif p.name in values:
                v = values[p.name]
                args.append((p.name, v.label if hasattr(v, "label") else show_value(v)))
            else:
                from .host import HostError
                raise HostError(f"action {name}: no value for its parameter {p.name}")
        return Action(name, tuple(args))

    def arg(self, action, role, layout=None):
        """The label of the action's instance parameter whose family has `role` (None if none);
        with `layout`, that instance."""
        parsed = action if isinstance(action, Action) else Action.parse(action)
        decl = self.spec.actions.get(parsed.name) if parsed is not None else None
        if decl is None:
            return None
        family = self.family.get(role)
        values = parsed.kwargs
        for p in decl.params:
            if p.is_instance and p.type == family and p.name in values:
                label = values[p.name]
                return layout.labels.get(label) if layout is not None else label
        return None


class InstanceView:
    """One instance's variables and quantities, by name (those READS declares)."""
    __slots__ = ("inst", "role", "_view")

    def __init__(self, inst, role, view):
        self.inst = inst
        self.role = role
        self._view = view

    @property
    def label(self) -> str:
        return self.inst.label

    @property
    def index(self) -> int:
        return self.inst.index

    def __getattr__(self, name):
        if name.startswith("_") or name not in READS.get(self.role, ()):
            raise AttributeError(f"{name}: not a {self.role} variable the reference declares it reads "
                                 f"(gcu_model/reference/roles.py READS)")
        return self._view.value(f"{self.inst.label}.{name}")


class StateView:
    """A state of the host read by role: view.host.kmd, view.pf[0].reset, view.of(inst).binding."""

    def __init__(self, roles, layout, described: dict, quantities):
        self._roles = roles
        self._layout = layout
        self._d = described
        self._quantities = quantities          # () -> dict, computed at the first quantity read
        self._q = None

    def value(self, key):
        if key in self._d:
            return self._d[key]
        if self._q is None:
            self._q = self._quantities()
        return self._q[key]

    def of(self, inst) -> InstanceView:
        return InstanceView(inst, self._roles.role(inst), self)

    def at(self, label: str) -> InstanceView:
        """The instance with this label (card0, vm1, card0.vf2)."""
        return self.of(self._layout.labels[label])

    @property
    def host(self) -> InstanceView:
        return self.of(self._roles.instances(self._layout, "host")[0])

    def __getattr__(self, role):
        if role.startswith("_") or role not in READS:
            raise AttributeError(role)
        return [self.of(i) for i in self._roles.instances(self._layout, role)]
