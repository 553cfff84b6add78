"""Read a spec tree (specs/) into a validated `Spec` (issue 2, items 2 and 3).

Layout of a spec tree:
  requirements.yaml   requirement IDs with kind, guide section and a one-line summary
  constants.yaml      enums, typed config constants, per-product and per-part values
  families.yaml       instance families (host, card, vf, vm ...) and their sizes
  configs.yaml        the embedded configurations
  machines/*.yaml     one state machine a file: states, variables, actions, transitions,
                      invariants and goals
  surface.yaml        the driver's sysfs, debugfs and /dev files: what a read shows,
                      which action a write is (surface.py)
  commands.yaml       the guide's fixed command lines and the action each is (command_forms.py)
Every problem raises InvalidSpec naming file, line and culprit.
"""
from __future__ import annotations

import difflib
import errno as errno_mod
import re
import string
from pathlib import Path

from .errors import InvalidSpec, Where
from .expr import Scope, check_effect, check_expr
from .model import (ROLES, TIMED_AFTER_HOOKS, TIMED_CHOICE_HOOKS, ActionDecl, Timed, Check, Composed, Config, Constant, Family, Machine, Param, Property, Quantity,
                    PerInstance, Requirement, SolverSpace, Spec, TABLE_KEYS, Transition, Var, family_size,
                    merge_config_values)
from .types import BOOL, BoolT, EnumT, IntT, RefT, SetT, same_kind
from .yamlfile import LDict, LList, read_yaml

REQ_ID = re.compile(r"^[A-Z]+-\d+$")
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
KINDS = {"B", "C", "Q", "D", "O"}


def default_spec_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "specs", here.parent / "specs"):
        if (candidate / "requirements.yaml").is_file():
            return candidate
    raise InvalidSpec("the embedded spec tree is missing (no specs/requirements.yaml next to the package)")


def load_spec(root: Path | str | None = None) -> Spec:
    root = Path(root) if root is not None else default_spec_dir()
    if not root.is_dir():
        raise InvalidSpec(f"spec directory not found: {root}", str(root))
    return _Loader(root).load()


class _SpecView:
    """What the expression checker needs to see while the spec is still being built."""

    def __init__(self, families, vars_, constants, quantities=None):
        self.families = families
        self.vars = vars_
        self.constants = constants
        self.quantities = quantities if quantities is not None else {}


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.enums: dict[str, EnumT] = {}
        self.assumptions: list = []
        self._assumption_lines: set = set()

    # ------------------------------------------------------------ helpers
    def file(self, name):
        path = self.root / name
        if not path.is_file():
            raise InvalidSpec(f"required spec file is missing: {name}", str(self.root / name))
        return read_yaml(path, self.display(path))

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    @staticmethod
    def mapping(value, where: Where, what: str) -> LDict:
        if not isinstance(value, dict):
            raise where.error(f"{what} must be a mapping, got {_kind(value)}")
        return value

    @staticmethod
    def seq(value, where: Where, what: str, allow_scalar=False):
        if allow_scalar and isinstance(value, (str, int)) and not isinstance(value, bool):
            return [value]
        if not isinstance(value, list):
            raise where.error(f"{what} must be a list, got {_kind(value)}")
        return value

    @staticmethod
    def keys(m: LDict, allowed: set, what: str, required=()):
        for k in m:
            if k not in allowed:
                close = sorted(allowed)
                raise m.where(k).error(f"unknown key '{k}' in {what} (allowed: {', '.join(close)})", str(k))
        for k in required:
            if k not in m:
                raise m.where().error(f"{what} needs '{k}'", k)

    def text(self, m: LDict, key, default=None, required=False):
        if key not in m:
            if required:
                raise m.where().error(f"missing '{key}'", key)
            return default
        v = m[key]
        if not isinstance(v, str):
            raise m.where(key).error(f"'{key}' must be text, got {_kind(v)}", str(v))
        return v

    def name(self, value, where: Where, what: str):
        if not isinstance(value, str) or not NAME.match(value):
            raise where.error(f"{what} must be a lower-case identifier, got {value!r}", str(value))
        return value

    def reqs(self, m: LDict, key="reqs"):
        if key not in m:
            return ()
        items = self.seq(m[key], m.where(key), "reqs", allow_scalar=True)
        out = []
        for i, rid in enumerate(items):
            w = items.where(i) if isinstance(items, LList) else m.where(key)
            if not isinstance(rid, str) or rid not in self.requirements:
                close = [r for r in self.requirements if isinstance(rid, str) and r.split("-")[0] == rid.split("-")[0]]
                hint = f" (known {rid.split('-')[0]} IDs: {close[0]}..{close[-1]})" if close else ""
                raise w.error(f"unknown requirement ID '{rid}'{hint}", str(rid))
            out.append(rid)
        return tuple(out)

    def errno(self, value, where: Where):
        if not isinstance(value, str) or not value.isupper() or not hasattr(errno_mod, value):
            raise where.error(f"unknown errno '{value}' (use a Linux name such as EBUSY)", str(value))
        return value

    def note_assumption(self, m: LDict):
        if "assumption" in m:
            text = self.text(m, "assumption")
            where = m.where("assumption")
            if (where.file, where.line) not in self._assumption_lines:   # a guard block used twice
                self._assumption_lines.add((where.file, where.line))
                self.assumptions.append((where, text))
            return text
        return ""

    # ------------------------------------------------------------ types
    def parse_type(self, spec, where: Where, allow_int_bounds=True):
        """`bool`, `int` (with min/max), an enum name, or `set[enum]` / `set[int]`."""
        if isinstance(spec, str):
            spec_d = {"type": spec}
        else:
            spec_d = spec
        t = spec_d.get("type")
        if t == "bool":
            return BOOL
        if t == "int":
            return IntT(spec_d.get("min"), spec_d.get("max"))
        if isinstance(t, str) and t.startswith("ref[") and t.endswith("]"):
            fam = t[4:-1].strip()
            if fam not in getattr(self, "families", {}):
                raise where.error(f"unknown family '{fam}' in '{t}'", fam)
            return RefT(fam)
        if isinstance(t, str) and t.startswith("set[") and t.endswith("]"):
            inner = t[4:-1].strip()
            if inner == "int":
                return SetT(IntT())
            if inner in self.enums:
                return SetT(self.enums[inner])
            raise where.error(f"unknown element type '{inner}' in '{t}'", inner)
        if isinstance(t, str) and t in self.enums:
            return self.enums[t]
        raise where.error(f"unknown type {t!r} (bool, int, set[E] or an enum: "
                          f"{', '.join(sorted(self.enums))})", str(t))

    def value(self, v, t, where: Where, what: str):
        """A literal value of type t, as written in YAML."""
        if isinstance(t, BoolT):
            if not isinstance(v, bool):
                raise where.error(f"{what}: expected true or false, got {v!r}", str(v))
            return v
        if isinstance(t, IntT):
            if isinstance(v, bool) or not isinstance(v, int):
                raise where.error(f"{what}: expected an int, got {v!r}", str(v))
            return v
        if isinstance(t, EnumT):
            if v not in t.values:
                raise where.error(f"{what}: '{v}' is not a value of {t.describe()}", str(v))
            return v
        if isinstance(t, RefT):
            if v is not None:
                raise where.error(f"{what}: a ref starts as null (no instance), got {v!r}", str(v))
            return None
        if isinstance(t, SetT):
            if not isinstance(v, list):
                raise where.error(f"{what}: expected a list for a set, got {v!r}", str(v))
            return frozenset(self.value(x, t.elem, where, what) for x in v)
        raise where.error(f"{what}: unsupported type")

    # ------------------------------------------------------------ sections
    def load(self) -> Spec:
        self.load_requirements()
        self.load_constants()
        self.load_families()
        self.load_tables()
        self.load_configs()
        self.load_machines()
        spec = Spec(root=str(self.root), requirements=self.requirements, constants=self.constants,
                    configs=self.configs, families=self.families, vars=self.vars,
                    machines=self.machines, actions=self.actions, transitions=self.transitions,
                    properties=self.properties, assumptions=self.assumptions, quantities=self.quantities,
                    tables=self.tables)
        self.resolve_config_initial()
        spec.solver = self.load_solver_space()
        spec.composed = self.load_composed(spec)
        spec.bits = self.load_bits()
        spec.device = self.load_device()
        spec.surface = self.load_surface(spec)
        spec.commands = self.load_commands(spec)
        from .static_checks import run_load_checks
        run_load_checks(spec)        # the configurations' own checks are `gcu-model check`'s
        return spec

    def load_requirements(self):
        data = self.mapping(self.file("requirements.yaml"), Where("requirements.yaml", 1), "requirements.yaml")
        self.keys(data, {"requirements"}, "requirements.yaml", required=["requirements"])
        reqs = self.mapping(data["requirements"], data.where("requirements"), "requirements")
        self.requirements = {}
        for rid, body in reqs.items():
            w = reqs.where(rid)
            if not isinstance(rid, str) or not REQ_ID.match(rid):
                raise w.error(f"requirement ID '{rid}' is not of the form ABC-1", str(rid))
            body = self.mapping(body, w, f"requirement {rid}")
            self.keys(body, {"kind", "section", "summary"}, f"requirement {rid}", required=["kind", "summary"])
            kind = body["kind"]
            if kind not in KINDS:
                raise body.where("kind").error(f"requirement kind must be one of B C Q D O, got {kind!r}", str(kind))
            self.requirements[rid] = Requirement(rid, kind, str(body.get("section", "")), self.text(body, "summary"))

    def load_constants(self):
        data = self.mapping(self.file("constants.yaml"), Where("constants.yaml", 1), "constants.yaml")
        self.keys(data, {"enums", "open_enums", "constants", "products", "parts", "bits", "device"},
                  "constants.yaml", required=["enums", "constants"])
        self.bits_body = data.get("bits")
        self.device_body = data.get("device")
        enums = self.mapping(data["enums"], data.where("enums"), "enums")
        for name, values in enums.items():
            w = enums.where(name)
            self.name(name, w, "an enum name")
            values = self.seq(values, w, f"enum {name}")
            if len(set(map(str, values))) != len(values) or not values:
                raise w.error(f"enum '{name}' needs distinct values", name)
            self.enums[name] = EnumT(name, tuple(str(v) for v in values))
        if "open_enums" in data:
            self.load_open_enums(data["open_enums"], data.where("open_enums"))
        consts = self.mapping(data["constants"], data.where("constants"), "constants")
        self.constants = {}
        for name, body in consts.items():
            w = consts.where(name)
            self.name(name, w, "a constant name")
            body = self.mapping(body, w, f"constant {name}")
            self.keys(body, {"type", "doc", "default", "exploration_bound", "per"}, f"constant {name}",
                      required=["type"])
            t = self.parse_type(body, w)
            bound = body.get("exploration_bound", False)
            if not isinstance(bound, bool) or (bound and not isinstance(t, IntT)):
                raise body.where("exploration_bound").error(
                    f"constant {name}: exploration_bound is true or false, and only for an int", str(bound))
            per = body.get("per")
            if per is not None and (not isinstance(per, str) or bound):
                raise body.where("per").error(f"constant {name}: per names the family each of whose instances "
                                              "has its own value (and is not an exploration bound)", str(per))
            self.constants[name] = Constant(name, t, self.text(body, "doc", ""), w, bound, per)
            if "default" in body:
                self.constants[name].default = self.value(body["default"], t, body.where("default"), name)
        self.tables_body = data

    def load_tables(self):
        """constants.yaml `products:` and `parts:`: what each product and part fixes."""
        data = self.tables_body
        self.tables = {}
        for table, key_const in TABLE_KEYS:
            if table not in data:
                continue
            rows = self.mapping(data[table], data.where(table), table)
            for row_key, row in rows.items():
                rw = rows.where(row_key)
                if key_const in self.constants:
                    self.value(row_key, self.constants[key_const].type, rw, f"{table} key")
                row = self.mapping(row, rw, f"{table}.{row_key}")
                values = {}
                key_per = getattr(self.constants.get(key_const), "per", None)
                for cname, cval in row.items():
                    if cname not in self.constants:
                        raise row.where(cname).error(f"unknown constant '{cname}' in {table}.{row_key}", cname)
                    if self.constants[cname].per != key_per:
                        raise row.where(cname).error(
                            f"{table}.{row_key}: '{cname}' is {self.per_words(cname)}, but {key_const} is "
                            f"{self.per_words(key_const)}; a row sets constants of its key's kind only", cname)
                    values[cname] = self.value(cval, self.constants[cname].type, row.where(cname), cname)
                self.tables.setdefault(table, {})[row_key] = values

    def role(self, body, name, parent):
        """families.yaml `role:` (model.ROLES): a known role, with the parent its role needs."""
        role = body.get("role")
        if role is None:
            return None
        w = body.where("role")
        if role not in ROLES:
            raise w.error(f"family {name}: unknown role '{role}'; the roles are " + ", ".join(
                f"{r} ({doc})" for r, doc in ROLES.items()), str(role))
        if (role == "vf") != (parent is not None):
            raise w.error(f"family {name}: role {role} " + ("needs a parent family with the pf role" if role == "vf"
                                                          else "is for a family without a parent"), str(role))
        return role

    def check_roles(self, fams):
        taken = {}
        for f in self.families.values():
            if f.role is None:
                continue
            if f.role in taken:
                raise fams[f.name].where("role").error(
                    f"families {taken[f.role]} and {f.name} both have the role {f.role}; a role belongs to one family",
                    f.role)
            taken[f.role] = f.name
            if f.role == "vf" and self.families[f.parent].role != "pf":
                raise fams[f.name].where("role").error(
                    f"family {f.name}: role vf needs a parent with the pf role; {f.parent} has "
                    + (f"the role {self.families[f.parent].role}" if self.families[f.parent].role else "none"), f.role)
        host = taken.get("host")
        if host is not None and self.families[host].count != 1:
            raise fams[host].where("count").error(f"family {host}: the host role needs count: 1", str(self.families[host].count))

    def load_families(self):
        data = self.mapping(self.file("families.yaml"), Where("families.yaml", 1), "families.yaml")
        self.keys(data, {"families"}, "families.yaml", required=["families"])
        fams = self.mapping(data["families"], data.where("families"), "families")
        self.families = {}
        for name, body in fams.items():
            w = fams.where(name)
            self.name(name, w, "a family name")
            body = self.mapping(body, w, f"family {name}")
            self.keys(body, {"count", "parent", "doc", "symmetric", "role"}, f"family {name}", required=["count"])
            count = body["count"]
            if isinstance(count, str):
                if count not in self.constants or not isinstance(self.constants[count].type, IntT):
                    raise body.where("count").error(f"family count '{count}' is not an int constant", count)
            elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise body.where("count").error(f"family count must be a positive int or an int constant, got {count!r}",
                                                str(count))
            parent = body.get("parent")
            if parent is not None and parent not in fams:
                raise body.where("parent").error(f"unknown parent family '{parent}'", str(parent))
            seen, up = {name}, parent
            while up is not None:
                if up in seen:
                    raise body.where("parent").error(f"family '{name}' has a parent cycle through '{parent}'",
                                                     str(parent))
                seen.add(up)
                up_body = fams.get(up)
                up = up_body.get("parent") if isinstance(up_body, dict) else None
            symmetric = body.get("symmetric", False)
            if not isinstance(symmetric, (bool, str)):
                raise body.where("symmetric").error(
                    f"family {name}: symmetric is true, false or a variable of the parent family", str(symmetric))
            if isinstance(symmetric, str) and parent is None:
                raise body.where("symmetric").error(
                    f"family {name}: symmetric: {symmetric} names a parent variable, but {name} has no parent",
                    symmetric)
            self.families[name] = Family(name, count, parent, self.text(body, "doc", ""), w, symmetric,
                                         self.role(body, name, parent))
        self.check_roles(fams)
        for c in self.constants.values():             # constants.yaml `per:` names a top-level family
            if c.per is not None and (c.per not in self.families or self.families[c.per].parent is not None):
                hint = (f" ({c.per} is a child of {self.families[c.per].parent})" if c.per in self.families
                        else self.suggest(c.per, self.families))
                raise c.where.error(f"constant {c.name}: per: '{c.per}' is not a top-level family" + hint, c.per)
            for f in self.families.values():
                # a child family may be sized per parent (vf: vf_slots); layout gives every parent the most
                if c.per is not None and f.count == c.name and f.parent != c.per:
                    raise c.where.error(f"constant {c.name} sizes family {f.name}, which is not a child of "
                                        f"{c.per}; it cannot have one value per {c.per}", c.name)
        if not any(f.role == "host" for f in self.families.values()):
            raise fams.where().error("families must include the host: a family with role: host and count: 1", "host")

    def load_configs(self):
        data = self.mapping(self.file("configs.yaml"), Where("configs.yaml", 1), "configs.yaml")
        self.keys(data, {"configs", "solver", "composed"}, "configs.yaml", required=["configs"])
        self.composed_body = data.get("composed")
        self.solver_body = data.get("solver")
        self.solver_where = data.where("solver") if "solver" in data else None
        cfgs = self.mapping(data["configs"], data.where("configs"), "configs")
        self.configs = {}
        self.pending_initial = []
        for name, body in cfgs.items():
            w = cfgs.where(name)
            if not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
                raise w.error(f"config name must be lower-case words joined by '-', got {name!r}", str(name))
            body = self.mapping(body, w, f"config {name}")
            self.keys(body, {"description", "values", "initial"}, f"config {name}", required=["values"])
            raw = self.mapping(body["values"], body.where("values"), f"config {name} values")
            values = {}
            for cname, cval in raw.items():
                if cname not in self.constants:
                    raise raw.where(cname).error(f"unknown constant '{cname}' in config {name}", str(cname))
                values[cname] = self.config_value(cname, cval, raw.where(cname))
            self.check_lengths(name, values, raw)
            # product and part tables fill in what the config does not say itself, card by card
            merged = merge_config_values(self.constants, self.tables, values, self.families)
            self.check_parts(name, merged, raw)
            missing = [c for c in self.constants if c not in merged]
            if missing:
                raise w.error(f"config {name} gives no value for constant(s) {', '.join(missing)}", missing[0])
            self.configs[name] = Config(name, self.text(body, "description", ""), merged, w)
            if "initial" in body:
                self.pending_initial.append((self.configs[name], body))
        if not self.configs:
            raise cfgs.where().error("no configurations defined")

    def owned_by(self, family, per) -> bool:
        """`family` is `per` or descends from it (its instances each have one `per`)."""
        while family is not None and family != per:
            family = self.families[family].parent
        return family == per

    def per_words(self, cname) -> str:
        per = self.constants[cname].per
        return f"per {per}" if per else "host-wide"

    def config_value(self, cname, cval, w: Where):
        """A configuration's value of a constant; a per-instance one may be a list with one
        value per instance (a set-typed one: a list of lists)."""
        c = self.constants[cname]
        per_item = isinstance(cval, list) and (not isinstance(c.type, SetT) or any(isinstance(x, list) for x in cval))
        if c.per is not None and per_item:
            return PerInstance(self.value(x, c.type, w, f"{cname} of {c.per}{i}") for i, x in enumerate(cval))
        if per_item and not isinstance(c.type, SetT):
            raise w.error(f"{cname} is host-wide; give it one value, not a list", cname)
        return self.value(cval, c.type, w, cname)

    def check_lengths(self, name, values, raw):
        """Every per-instance list is as long as its family."""
        for cname, value in values.items():
            c = self.constants[cname]
            if isinstance(value, PerInstance):
                n = family_size(self.families[c.per], values, self.constants)
                if isinstance(n, int) and len(value) != n:      # a missing count is reported later
                    raise raw.where(cname).error(f"config {name}: {cname} lists {len(value)} values for "
                                                 f"{n} {c.per}s", cname)

    def check_parts(self, name, merged, raw):
        """Each card's part number is a part of its own product."""
        products, parts = merged.get("product"), merged.get("part_number")
        if products is None or parts is None:
            return
        for i, (product, part) in enumerate(zip(products, parts)):
            row = self.tables.get("parts", {}).get(part, {})
            if "product" in row and row["product"] != product:
                raise (raw.where("part_number") if "part_number" in raw else raw.where()).error(
                    f"config {name}: card{i}'s {part} is a {row['product']} part, not {product}", str(part))

    def load_open_enums(self, body, where):
        """open_enums: NAME: {other: VALUE, syntax: REGEX, doc: ...}: the enum is open (any value
        of the syntax, data independence); VALUE stands for every value the rules leave unnamed."""
        body = self.mapping(body, where, "open_enums")
        for name, entry in body.items():
            w = body.where(name)
            if name not in self.enums:
                raise w.error(f"open_enums: '{name}' is not an enum of constants.yaml", str(name))
            entry = self.mapping(entry, w, f"open_enums.{name}")
            self.keys(entry, {"other", "syntax", "doc"}, f"open_enums.{name}", required=["other", "syntax"])
            enum = self.enums[name]
            other = str(entry["other"])
            if other not in enum.values:
                raise entry.where("other").error(f"open_enums.{name}: other '{other}' is not a value of "
                                                 f"{enum.describe()}", other)
            try:
                syntax = re.compile(str(entry["syntax"]))
            except re.error as exc:
                raise entry.where("syntax").error(f"open_enums.{name}: syntax '{entry['syntax']}' is not a regular "
                                                  f"expression ({exc})", str(entry["syntax"])) from None
            bad = [v for v in enum.values if not syntax.fullmatch(v)]
            if bad:
                raise entry.where("syntax").error(f"open_enums.{name}: the value '{bad[0]}' does not match its own "
                                                  "syntax", bad[0])
            self.enums[name] = EnumT(name, enum.values, other, syntax.pattern)

    def load_device(self):
        """constants.yaml `device:`: identity and versions the reference host shows (VER-1..3, PROD-1)."""
        if self.device_body is None:
            return {}
        body = self.mapping(self.device_body, self.device_body.where(), "device")
        self.keys(body, {"pci_vendor", "pci_device", "vf_device", "kmd_version", "ioctl_version", "firmware",
                         "ip_blocks", "module_parameters", "assumption"}, "device", required=["pci_vendor", "pci_device", "kmd_version",
                                                            "ioctl_version", "firmware"])
        self.note_assumption(body)
        out = {}
        for key in ("pci_vendor",):
            v = body[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFF:
                raise body.where(key).error(f"device.{key} must be a 16-bit id, got {v!r}", str(v))
            out[key] = v
        for key in ("pci_device", "vf_device"):
            rows = self.mapping(body.get(key, {}), body.where(key) if key in body else body.where(), f"device.{key}")
            for product, v in rows.items():
                self.value(product, self.constants["product"].type, rows.where(product), f"device.{key} key")
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFF:
                    raise rows.where(product).error(f"device.{key}.{product} must be a 16-bit id, got {v!r}", str(v))
            out[key] = dict(rows)
        for key in ("kmd_version", "ioctl_version"):
            v = body[key]
            if not isinstance(v, str) or not re.fullmatch(r"\d+\.\d+\.\d+", v):
                raise body.where(key).error(f"device.{key} must be MAJOR.MINOR.PATCH, got {v!r}", str(v))
            out[key] = v
        fw = self.mapping(body["firmware"], body.where("firmware"), "device.firmware")
        out["firmware"] = {str(k): str(v) for k, v in fw.items()}
        out["module_parameters"] = {}
        if "module_parameters" in body:              # PARAM-1: options the model leaves alone
            params = self.mapping(body["module_parameters"], body.where("module_parameters"),
                                  "device.module_parameters")
            for name, default in params.items():
                if not re.fullmatch(r"[a-z_]+", str(name)) or isinstance(default, (dict, list, bool)) \
                        or default is None:
                    raise params.where(name).error(
                        f"device.module_parameters: '{name}: {default}' must be a parameter name and its "
                        "default value", str(name))
            out["module_parameters"] = {str(k): str(v) for k, v in params.items()}
        out["ip_blocks"] = {}
        if "ip_blocks" in body:
            blocks = self.mapping(body["ip_blocks"], body.where("ip_blocks"), "device.ip_blocks")
            classes = self.enums.get("ip_class")
            seen = {}
            for cls, names in blocks.items():
                if classes is None or cls not in classes.values:
                    raise blocks.where(cls).error(f"device.ip_blocks: '{cls}' is not a value of enum ip_class", str(cls))
                for name in self.seq(names, blocks.where(cls), f"device.ip_blocks.{cls}"):
                    if name in seen:
                        raise blocks.where(cls).error(f"IP block '{name}' is both {seen[name]} and {cls}", str(name))
                    seen[name] = cls
            out["ip_blocks"] = seen                       # IP block -> its class
        return out

    def load_surface(self, spec):
        """surface.yaml (optional: a spec without it has no sysfs for the reference host)."""
        from .surface import Surface, load_surface
        path = self.root / "surface.yaml"
        if not path.is_file():
            return Surface()
        return load_surface(self.file("surface.yaml"), spec, self.display(path))

    def load_commands(self, spec):
        """commands.yaml (optional: without it every command line is the shell's own code)."""
        from .command_forms import CommandForms, load_command_forms
        from .option_lines import OptionLines, load_option_lines
        path = self.root / "commands.yaml"
        if not path.is_file():
            return CommandForms(option_lines=OptionLines())
        data = self.file("commands.yaml")
        forms = load_command_forms(data, spec, self.display(path))
        forms.option_lines = (load_option_lines(data["option_lines"], spec, data.where("option_lines"))
                              if "option_lines" in data else OptionLines())
        return forms

    def load_bits(self):
        """constants.yaml `bits:`: the bit-level meaning of values the model keeps abstract."""
        if self.bits_body is None:
            return None
        body = self.mapping(self.bits_body, self.bits_body.where(), "bits")
        self.keys(body, {"reset_enable", "secured_ranges"}, "bits", required=["reset_enable", "secured_ranges"])
        word = range(0, 1 << 32)
        re_ = self.mapping(body["reset_enable"], body.where("reset_enable"), "bits.reset_enable")
        self.keys(re_, {"variable", "masks", "bits", "assumption"}, "bits.reset_enable",
                  required=["variable", "masks", "bits"])
        self.note_assumption(re_)
        fam, _, var = str(re_["variable"]).partition(".")
        if (fam, var) not in self.vars or not isinstance(self.vars[(fam, var)].type, EnumT):
            raise re_.where("variable").error(f"bits.reset_enable: '{re_['variable']}' is not an enum variable "
                                              "(write family.var)", str(re_["variable"]))
        enum = self.vars[(fam, var)].type
        masks = self.mapping(re_["masks"], re_.where("masks"), "bits.reset_enable.masks")
        for value, mask in masks.items():
            if value not in enum.values:
                raise masks.where(value).error(f"'{value}' is not a value of {enum.describe()}", str(value))
            if isinstance(mask, bool) or not isinstance(mask, int) or mask not in word:
                raise masks.where(value).error(f"mask of '{value}' must be a 32-bit value, got {mask!r}", str(mask))
        if set(masks) != set(enum.values):
            raise re_.where("masks").error(f"bits.reset_enable.masks must give every value of {enum.describe()}")
        kinds = self.mapping(re_["bits"], re_.where("bits"), "bits.reset_enable.bits")
        reset_states = self.machines["reset"].states if "reset" in self.machines else ()
        for kind, bit in kinds.items():
            if kind not in reset_states:
                raise kinds.where(kind).error(f"'{kind}' is not a state of machine reset", str(kind))
            if isinstance(bit, bool) or not isinstance(bit, int) or not 0 <= bit < 32:
                raise kinds.where(kind).error(f"bit of '{kind}' must be 0..31, got {bit!r}", str(bit))
        if len(set(kinds.values())) != len(kinds):
            raise re_.where("bits").error("bits.reset_enable.bits: two reset kinds share a bit")
        fw = self.mapping(body["secured_ranges"], body.where("secured_ranges"), "bits.secured_ranges")
        self.keys(fw, {"ranges", "assumption"}, "bits.secured_ranges", required=["ranges"])
        self.note_assumption(fw)
        ranges = self.mapping(fw["ranges"], fw.where("ranges"), "bits.secured_ranges.ranges")
        secured = {}
        for product, rows in ranges.items():
            w = ranges.where(product)
            self.value(product, self.constants["product"].type, w, "bits.secured_ranges key")
            rows = self.seq(rows, w, f"secured ranges of {product}")
            pairs = []
            for row in rows:
                ok = isinstance(row, list) and len(row) == 2 and all(
                    isinstance(x, int) and not isinstance(x, bool) and x in word for x in row)
                if not ok or row[0] > row[1] or row[0] % 4 or (row[1] + 1) % 4:
                    raise w.error(f"secured range {row!r} of {product}: want [lo, hi], 32-bit, lo <= hi, "
                                  "whole 4-byte registers", str(row))
                pairs.append((row[0], row[1]))
            pairs.sort()
            for (_, hi), (lo2, _) in zip(pairs, pairs[1:]):
                if lo2 <= hi:
                    raise w.error(f"secured ranges of {product} overlap at 0x{lo2:08x}", f"0x{lo2:08x}")
            secured[product] = tuple(pairs)
        return {"reset_enable": {"variable": (fam, var), "masks": dict(masks), "bits": dict(kinds)},
                "secured_ranges": secured}

    def load_composed(self, spec) -> dict:
        """configs.yaml `composed:`: big hosts checked compositionally (issue 8, item 2)."""
        if self.composed_body is None:
            return {}
        hosts = self.mapping(self.composed_body, self.composed_body.where(), "composed")
        out = {}
        for name, body in hosts.items():
            w = hosts.where(name)
            if not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
                raise w.error(f"composed host name must be lower-case words joined by '-', got {name!r}", str(name))
            if name in self.configs:
                raise w.error(f"composed host '{name}' is also a configuration", name)
            body = self.mapping(body, w, f"composed host {name}")
            self.keys(body, {"description", "base", "family", "count"}, f"composed host {name}",
                      required=["base", "family", "count"])
            base, family, count = body["base"], body["family"], body["count"]
            if base not in self.configs:
                raise body.where("base").error(f"composed host {name}: unknown configuration '{base}'"
                                               + self.suggest(str(base), self.configs), str(base))
            fam = self.families.get(family)
            if fam is None or fam.parent is not None or fam.symmetric is not True:
                raise body.where("family").error(f"composed host {name}: '{family}' is not a top-level family "
                                                 "declared symmetric in families.yaml", str(family))
            if not isinstance(fam.count, str):
                raise body.where("family").error(f"composed host {name}: family {family} has a fixed count", family)
            if isinstance(count, bool) or not isinstance(count, int) or count < 2:
                raise body.where("count").error(f"composed host {name}: count must be an int of at least 2, "
                                                f"got {count!r}", str(count))
            cfg = self.configs[base]
            mixed = [c for c, v in cfg.values.items() if isinstance(v, PerInstance) and cfg.uniform(c) is None
                     and self.constants[c].per == family]
            if mixed:
                raise body.where("base").error(f"composed host {name}: the {family}s of {base} differ in "
                                               f"{', '.join(mixed)}; a composed host repeats one kind of {family}",
                                               base)
            values = dict(cfg.values)
            values[fam.count] = count
            derived = spec.derive_config(name, values, cfg.initial, self.text(body, "description", ""), w)
            out[name] = Composed(name, self.text(body, "description", ""), base, family, count, w, derived)
        return out

    def load_solver_space(self):
        """configs.yaml `solver:`: the facts `gcu-model solve` varies and what else it runs with."""
        if self.solver_body is None:
            return None
        body = self.mapping(self.solver_body, self.solver_where, "solver")
        self.keys(body, {"facts", "values", "initial", "setup_actions", "complete"}, "solver",
                  required=["facts", "values", "setup_actions", "complete"])
        check_expr(body["complete"], body.value_where("complete"), Scope(self.view))
        facts = self.seq(body["facts"], body.where("facts"), "solver facts")
        for f in facts:
            if f not in self.constants:
                raise body.where("facts").error(f"solver: unknown constant '{f}' among the facts"
                                                + self.suggest(f, self.constants), str(f))
            t = self.constants[f].type
            if not isinstance(t, (BoolT, EnumT)):
                raise body.where("facts").error(f"solver: fact '{f}' must be a bool or an enum constant", str(f))
        raw = self.mapping(body["values"], body.where("values"), "solver values")
        values = {}
        for cname, cval in raw.items():
            if cname not in self.constants:
                raise raw.where(cname).error(f"unknown constant '{cname}' in solver values", str(cname))
            if cname in facts:
                raise raw.where(cname).error(f"solver: '{cname}' is a fact; it cannot also have a value", str(cname))
            values[cname] = self.value(cval, self.constants[cname].type, raw.where(cname), cname)
        actions = self.seq(body["setup_actions"], body.where("setup_actions"), "solver setup_actions")
        for a in actions:
            if a not in self.actions:
                raise body.where("setup_actions").error(f"solver: unknown action '{a}'"
                                                        + self.suggest(a, self.actions), str(a))
        probe = Config("solver", "", {}, self.solver_where)
        self.pending_initial = [(probe, body)] if "initial" in body else []
        self.resolve_config_initial()
        return SolverSpace(tuple(facts), values, probe.initial, tuple(actions), self.text(body, "complete", ""),
                           self.solver_where)

    def resolve_config_initial(self):
        """A config may narrow a variable's initial values: for every instance of its family
        (`initial: {host.headers: [true]}`), or for one instance (`card1.fw: ["off"]`, which
        wins over `card.fw` for card1)."""
        for config, body in self.pending_initial:
            init = self.mapping(body["initial"], body.where("initial"), f"config {config.name} initial")
            for key, values in init.items():
                w = init.where(key)
                target, _, var = str(key).rpartition(".")
                fam = self.instance_family(config, target, w, str(key)) if target not in self.families else target
                if (fam, var) not in self.vars:
                    raise w.error(f"config {config.name}: unknown variable '{key}' (write family.var or "
                                  "instance.var, as card1.fw)", str(key))
                v = self.vars[(fam, var)]
                values = values if isinstance(values, list) else [values]
                parsed = tuple(self.value(x, v.type, w, str(key)) for x in values)
                for x in parsed:
                    if x not in v.init:
                        raise w.error(f"config {config.name}: {key} = {x!r} is not among the variable's "
                                      f"initial values {list(v.init)}", str(x))
                if not parsed:
                    raise w.error(f"config {config.name}: {key} needs at least one value", str(key))
                config.initial[(fam, var) if target == fam else f"{target}.{var}"] = parsed

    def instance_family(self, config, label, w, key) -> str:
        """The family of an instance label (card1, card0.vf2) of a configuration; an error
        when the configuration has no such instance."""
        fam = None
        for part in label.split("."):
            m = re.fullmatch(r"([a-z_]+?)(\d+)", part)
            if m is None or m.group(1) not in self.families or self.families[m.group(1)].parent != fam:
                raise w.error(f"config {config.name}: '{key}' names no instance (write family.var or "
                              "instance.var, as card1.fw)", key)
            fam = m.group(1)
            count = family_size(self.families[fam], config.values, self.constants)
            if not isinstance(count, int) or int(m.group(2)) >= count:
                raise w.error(f"config {config.name}: there is no {part} here ({count} {fam} instance(s))", key)
        return fam

    @staticmethod
    def suggest(name, names) -> str:
        close = difflib.get_close_matches(str(name), list(names), n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""

    # ------------------------------------------------------------ machines
    def load_machines(self):
        mdir = self.root / "machines"
        files = sorted(mdir.glob("*.yaml")) if mdir.is_dir() else []
        if not files:
            raise InvalidSpec("no machine files under machines/", self.display(mdir))
        self.vars = {}
        self.macros = {}
        self.machines = {}
        self.actions = {}
        self.transitions = []
        self.properties = []
        raw = []
        # pass 1: machines, states and variables (so expressions may refer to any of them)
        for path in files:
            data = read_yaml(path, self.display(path))
            fw = Where(self.display(path), 1)
            data = self.mapping(data, fw, self.display(path))
            self.keys(data, {"machine", "family", "doc", "reqs", "states", "initial", "vars", "actions",
                             "transitions", "invariants", "goals", "assumption", "control", "effects", "guards",
                             "quantities"},
                      f"machine file {self.display(path)}", required=["machine", "family", "states", "initial"])
            name = self.name(data["machine"], data.where("machine"), "a machine name")
            if name in self.machines:
                raise data.where("machine").error(f"machine '{name}' is defined twice", name)
            if name in self.enums:
                raise data.where("machine").error(f"machine '{name}' has the name of an enum", name)
            control = self.name(data.get("control", name), data.where("control" if "control" in data else "machine"),
                                "a control variable name")
            for section in ("effects", "guards"):
                if section in data:
                    block = self.mapping(data[section], data.where(section), section)
                    for mname, mbody in block.items():
                        self.name(mname, block.where(mname), f"a name in {section}")
                        if mname in self.macros:
                            raise block.where(mname).error(f"'{mname}' is defined twice in effects/guards", mname)
                        self.macros[mname] = (section, mbody, block, mname)
            family = data["family"]
            if family not in self.families:
                raise data.where("family").error(f"unknown family '{family}'", str(family))
            states = self.seq(data["states"], data.where("states"), "states")
            for i, s in enumerate(states):
                self.name(s, states.where(i), "a state name")
            if len(set(states)) != len(states):
                dup = next(s for s in states if states.count(s) > 1)
                raise data.where("states").error(f"state '{dup}' is listed twice", dup)
            initial = self.seq(data["initial"], data.where("initial"), "initial", allow_scalar=True)
            for s in initial:
                if s not in states:
                    raise data.where("initial").error(f"initial state '{s}' is not one of the states", str(s))
            note = self.note_assumption(data)
            del note
            machine = Machine(name, family, tuple(states), tuple(initial), self.reqs(data),
                              self.text(data, "doc", ""), self.display(path), data.where("machine"), control)
            machine.state_where = {st: states.where(i) for i, st in enumerate(states)}
            self.machines[name] = machine
            control_t = EnumT(name, tuple(states))
            self.enums.setdefault(name, control_t)
            self.add_var(Var(control, family, control_t, tuple(initial), f"control state of machine {name}",
                             data.where("machine"), name, is_control=True), data.where("machine"))
            if "vars" in data:
                vs = self.mapping(data["vars"], data.where("vars"), "vars")
                for vname, body in vs.items():
                    w = vs.where(vname)
                    self.name(vname, w, "a variable name")
                    body = self.mapping(body, w, f"variable {vname}")
                    self.keys(body, {"type", "min", "max", "init", "doc", "assumption"}, f"variable {vname}",
                              required=["type", "init"])
                    self.note_assumption(body)
                    t = self.parse_type(body, w)
                    if isinstance(t, IntT):
                        for bound in ("min", "max"):
                            b = body.get(bound)
                            if b is None:
                                raise w.error(f"int variable '{vname}' needs '{bound}' (the explorer is bounded)", vname)
                            if isinstance(b, str) and (b not in self.constants or not isinstance(self.constants[b].type, IntT)):
                                raise body.where(bound).error(f"'{bound}' of '{vname}' is not an int constant: '{b}'", b)
                            if not isinstance(b, (int, str)) or isinstance(b, bool):
                                raise body.where(bound).error(f"'{bound}' of '{vname}' must be an int or constant", str(b))
                            per = self.constants[b].per if isinstance(b, str) else None
                            if per is not None and not self.owned_by(family, per):
                                raise body.where(bound).error(
                                    f"'{bound}' of '{vname}' ('{b}') is per {per}, but {family} is not a {per} or "
                                    f"a child of one: no one {per}'s value bounds it", b)
                    if isinstance(t, SetT) and not isinstance(t.elem, EnumT):
                        raise w.error(f"variable '{vname}': sets of ints are for constants only; use set[enum]", vname)
                    inits = body["init"]
                    inits = inits if isinstance(inits, list) and not isinstance(t, SetT) else [inits]
                    if isinstance(t, SetT) and isinstance(body["init"], list) and body["init"] and isinstance(body["init"][0], list):
                        inits = body["init"]
                    values = tuple(self.value(v, t, body.where("init"), f"init of {vname}") for v in inits)
                    if not values:
                        raise body.where("init").error(f"variable '{vname}' needs at least one initial value", vname)
                    self.add_var(Var(vname, family, t, values, self.text(body, "doc", ""), w, name), w)
            raw.append((machine, data))
        self.quantities = {}
        self.view = _SpecView(self.families, self.vars, self.constants, self.quantities)
        # pass 1.5: quantities (kind Q): named values per instance, usable as inst.name
        pending = []
        for machine, data in raw:
            if "quantities" in data:
                qs = self.mapping(data["quantities"], data.where("quantities"), "quantities")
                for qname, body in qs.items():
                    w = qs.where(qname)
                    self.name(qname, w, "a quantity name")
                    body = self.mapping(body, w, f"quantity {qname}")
                    self.keys(body, {"expr", "reqs", "doc"}, f"quantity {qname}", required=["expr"])
                    key = (machine.family, qname)
                    if key in self.vars or key in self.quantities:
                        raise w.error(f"quantity '{qname}' of family '{machine.family}' clashes with a variable "
                                      f"or quantity of that name", qname)
                    self.quantities[key] = Quantity(qname, machine.family, None, str(body["expr"]),
                                                    self.reqs(body), self.text(body, "doc", ""), w)
                    pending.append((machine, key, body))
        for machine, key, body in pending:
            self.quantities[key].expr = check_expr(body["expr"], body.value_where("expr"),
                                                   Scope(self.view, machine.family), want=None)
        # pass 2: actions
        for machine, data in raw:
            if "actions" in data:
                acts = self.mapping(data["actions"], data.where("actions"), "actions")
                for aname, body in acts.items():
                    self.load_action(machine, aname, body, acts.where(aname))
        # pass 3: transitions and properties
        for machine, data in raw:
            if "transitions" in data:
                ts = self.seq(data["transitions"], data.where("transitions"), "transitions")
                counters = {}
                for i, body in enumerate(ts):
                    self.load_transition(machine, body, ts.where(i), counters)
            for kind in ("invariants", "goals"):
                if kind in data:
                    items = self.seq(data[kind], data.where(kind), kind)
                    for i, body in enumerate(items):
                        self.load_property(kind[:-1], body, items.where(i))
        for aname, action in self.actions.items():
            if not any(t.trigger == aname for t in self.transitions):
                raise action.where.error(f"action '{aname}' has no transition; no state can ever accept it", aname)

    def add_var(self, var: Var, where: Where):
        key = (var.family, var.name)
        if key in self.vars:
            other = self.vars[key]
            raise where.error(f"variable '{var.name}' of family '{var.family}' is already declared "
                              f"by machine '{other.machine}' ({other.where})", var.name)
        if var.name in self.families or var.name in self.constants:
            raise where.error(f"variable '{var.name}' hides a family or constant of that name", var.name)
        fam = self.families[var.family]
        if fam.parent == var.name:
            raise where.error(f"variable '{var.name}' hides the parent field of family '{var.family}'", var.name)
        self.vars[key] = var

    def load_action(self, machine: Machine, aname, body, w: Where):
        self.name(aname, w, "an action name")
        if aname in self.actions:
            raise w.error(f"action '{aname}' is defined twice (first in machine "
                          f"'{self.actions[aname].machine}')", aname)
        body = self.mapping(body if body is not None else _ldict({}, w), w, f"action {aname}")
        self.keys(body, {"params", "checks", "otherwise", "reqs", "doc", "assumption", "when", "target",
                         "timed"}, f"action {aname}")
        when = None
        if "when" in body:   # which configurations offer the action at all (constants only)
            when = check_expr(body["when"], body.value_where("when"), Scope(self.view, constants_only=True))
        self.note_assumption(body)
        params = []
        if "params" in body:
            ps = self.mapping(body["params"], body.where("params"), "params")
            for pname, pspec in ps.items():
                pw = ps.where(pname)
                self.name(pname, pw, "a parameter name")
                # a parameter may share its family's name (card: card); in `card[card]` the
                # subscript base is the family and the index the parameter
                if pname in self.constants or (machine.family, pname) in self.vars:
                    raise pw.error(f"parameter '{pname}' hides a constant or variable of that name", pname)
                params.append(self.load_param(pname, pspec, pw))
        targets = [p.name for p in params if p.is_instance and p.type == machine.family]
        fam = self.families[machine.family]
        target_expr = None
        if "target" in body:
            # the instance the action drives, from its parameters: `target: vf.card`
            from .expr import InstT
            target_expr = check_expr(body["target"], body.value_where("target"),
                                     Scope(self.view, None, {p.name: p for p in params}), want=None)
            if getattr(target_expr, "type", None) != InstT(machine.family):
                raise body.where("target").error(f"action '{aname}': target must name a {machine.family} instance",
                                                 str(body["target"]))
            targets = []
        if len(targets) > 1:
            raise w.error(f"action '{aname}' has several {machine.family} parameters "
                          f"({', '.join(targets)}); cannot tell which instance it drives", aname)
        if not targets and target_expr is None and not (fam.count == 1 and fam.parent is None):
            raise w.error(f"action '{aname}' of machine '{machine.name}' needs a parameter of type "
                          f"{machine.family} to say which instance it drives", aname)
        target = target_expr if target_expr is not None else (targets[0] if targets else None)
        scope = Scope(self.view, machine.family, {p.name: p for p in params},
                      target_param=target if isinstance(target, str) else None)
        checks = tuple(self.load_checks(body, "checks", scope, f"action {aname}"))
        other = body.get("otherwise")
        if other is None:
            oerr, omsg = "EINVAL", f"{aname}: not expected in state {{state}}"
        else:
            other = self.mapping(other, body.where("otherwise"), "otherwise")
            self.keys(other, {"errno", "message"}, "otherwise", required=["errno", "message"])
            oerr = self.errno(other["errno"], other.where("errno"))
            omsg = self.text(other, "message")
            self.template(omsg, other.where("message"), params, extra={"state"})
        timed = self.load_timed(aname, body["timed"], body.where("timed"), params) if "timed" in body else None
        self.actions[aname] = ActionDecl(aname, machine.name, tuple(params), target, checks, oerr, omsg,
                                         self.reqs(body), self.text(body, "doc", ""), w, when, timed)

    def load_timed(self, aname, body, w: Where, params) -> Timed:
        """`timed: {after_ms: N | {hook: H}, choose: {PARAM: {hook: H}}}`: one instance
        parameter (whose timer it is), every other parameter a bool the host chooses."""
        what = f"action {aname}: timed"
        body = self.mapping(body, w, what)
        self.keys(body, {"after_ms", "choose"}, what, required=["after_ms"])
        after, hook = body["after_ms"], None
        if isinstance(after, LDict):
            self.keys(after, {"hook"}, f"{what}: after_ms", required=["hook"])
            hook, after = str(after["hook"]), None
            if hook not in TIMED_AFTER_HOOKS:
                raise body.where("after_ms").error(f"{what}: unknown duration hook '{hook}' (one of "
                                                   f"{', '.join(TIMED_AFTER_HOOKS)})", hook)
        elif isinstance(after, bool) or not isinstance(after, int) or after <= 0:
            raise body.where("after_ms").error(f"{what}: after_ms is a number of milliseconds above 0 or "
                                               "{hook: NAME}, not " + repr(after), str(after))
        instances = [p for p in params if p.is_instance]
        if len(instances) != 1:
            raise w.error(f"{what}: a timed action names one instance (the one whose timer it is), not "
                          f"{len(instances)}", aname)
        choose = self.mapping(body.get("choose") or _ldict({}, w), body.where("choose") if "choose" in body else w,
                              f"{what}: choose")
        by_name = {p.name: p for p in params}
        chosen = []
        for pname, how in choose.items():
            pw = choose.where(pname)
            if pname not in by_name or by_name[pname].is_instance:
                raise pw.error(f"{what}: choose: '{pname}' is not a value parameter of {aname}", str(pname))
            if not isinstance(by_name[pname].type, BoolT):
                raise pw.error(f"{what}: choose: '{pname}' is not a bool; a hook chooses true or false", str(pname))
            how = self.mapping(how, pw, f"{what}: choose {pname}")
            self.keys(how, {"hook"}, f"{what}: choose {pname}", required=["hook"])
            if how["hook"] not in TIMED_CHOICE_HOOKS:
                raise how.where("hook").error(f"{what}: unknown choice hook '{how['hook']}' (one of "
                                              f"{', '.join(TIMED_CHOICE_HOOKS)})", str(how["hook"]))
            chosen.append((str(pname), str(how["hook"])))
        unchosen = [p.name for p in params if not p.is_instance and p.name not in dict(chosen)]
        if unchosen:
            raise w.error(f"{what}: nothing chooses '{unchosen[0]}' when time brings {aname} about "
                          "(choose: {PARAM: {hook: NAME}})", unchosen[0])
        return Timed(instances[0].name, after, hook, tuple(chosen), w)

    def load_param(self, pname, pspec, pw: Where) -> Param:
        if isinstance(pspec, str) and pspec in self.families:
            return Param(pname, pspec, None, pw)
        pspec = self.mapping(pspec, pw, f"parameter {pname}")
        self.keys(pspec, {"type", "range", "values"}, f"parameter {pname}")
        t = pspec.get("type")
        if t in self.families:
            return Param(pname, t, None, pw)
        if "range" in pspec:
            r = pspec["range"]
            if not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, (int, str)) and not isinstance(x, bool) for x in r)):
                raise pspec.where("range").error("range must be [lo, hi] (ints or int constants)", str(r))
            for x in r:
                if isinstance(x, str) and (x not in self.constants or not isinstance(self.constants[x].type, IntT)):
                    raise pspec.where("range").error(f"range bound '{x}' is not an int constant", x)
                if isinstance(x, str) and self.constants[x].per is not None:
                    raise pspec.where("range").error(f"range bound '{x}' has one value per {self.constants[x].per}; "
                                                     "a parameter's values are the host's", x)
            return Param(pname, IntT(), ("range", r[0], r[1]), pw)
        if t is None:
            raise pw.error(f"parameter '{pname}' needs a family name, a 'range' or a 'type'", pname)
        ptype = self.parse_type(pspec, pw)
        if isinstance(pspec.get("values"), str):
            # the values come from a set constant: each configuration picks what it explores
            cname = pspec["values"]
            c = self.constants.get(cname)
            if c is None or not isinstance(c.type, SetT) or not same_kind(c.type.elem, ptype):
                raise pspec.where("values").error(
                    f"parameter '{pname}': values '{cname}' must be a constant that is a set of {ptype.describe()}"
                    + self.suggest(cname, self.constants), str(cname))
            if c.per is not None:
                raise pspec.where("values").error(f"parameter '{pname}': values '{cname}' has one value per "
                                                  f"{c.per}; a parameter's values are the host's", str(cname))
            return Param(pname, ptype, ("constant", cname), pw)
        if isinstance(ptype, EnumT):
            vals = pspec.get("values", list(ptype.values))
            vals = tuple(self.value(v, ptype, pspec.where("values") if "values" in pspec else pw, pname) for v in vals)
            return Param(pname, ptype, ("values", vals), pw)
        if isinstance(ptype, BoolT):
            return Param(pname, ptype, ("values", (False, True)), pw)
        if isinstance(ptype, IntT) and "values" in pspec:
            vals = tuple(self.value(v, ptype, pspec.where("values"), pname) for v in pspec["values"])
            return Param(pname, ptype, ("values", vals), pw)
        raise pw.error(f"parameter '{pname}': give an int 'range', 'values', a bool or an enum type", pname)

    def load_checks(self, body, key, scope, what, depth=0):
        if key not in body:
            return []
        if depth > 8:
            raise body.where(key).error(f"{what} uses itself", what)
        items = self.seq(body[key], body.where(key), f"{what} {key}")
        out = []
        for i, c in enumerate(items):
            cw = items.where(i)
            c = self.mapping(c, cw, f"a check of {what}")
            if "use" in c:
                self.keys(c, {"use"}, "a 'use' item")
                section, mbody, block, mname = self.macro(c, "guards")
                if depth >= 8:
                    raise c.where("use").error(f"guard block '{mname}' uses itself", mname)
                holder = _ldict({"guard": mbody}, block.where(mname))
                holder.key_lines["guard"] = block.key_lines[mname]
                out.extend(self.load_checks(holder, "guard", scope, f"guard block '{mname}'", depth + 1))
                continue
            self.keys(c, {"require", "errno", "message", "reqs", "assumption"}, f"a check of {what}",
                      required=["require", "errno", "message"])
            self.note_assumption(c)
            src = c["require"]
            src = "True" if src is True else ("False" if src is False else src)
            ir = check_expr(src, c.value_where("require"), scope)
            err = self.errno(c["errno"], c.where("errno"))
            msg = self.text(c, "message")
            self.template(msg, c.where("message"), list(scope.params.values()), extra={"state"})
            out.append(Check(ir, src, err, msg, self.reqs(c), cw))
        return out

    def macro(self, item, section):
        name = item["use"]
        if name not in self.macros:
            known = [k for k, v in self.macros.items() if v[0] == section]
            raise item.where("use").error(f"unknown {section[:-1]} block '{name}' (known: {', '.join(known) or 'none'})",
                                          str(name))
        found = self.macros[name]
        if found[0] != section:
            raise item.where("use").error(f"'{name}' is in '{found[0]}', not '{section}'", name)
        return found

    def load_effect(self, body, scope, depth=0):
        """An effect is text, or a list of texts and {use: name} blocks from an `effects:` section."""
        value = body["effect"]
        if isinstance(value, str):
            return check_effect(value, body.value_where("effect"), scope)
        items = self.seq(value, body.where("effect"), "effect")
        out = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                holder = _ldict({"effect": item}, items.where(i))
                holder.value_lines["effect"] = items.value_lines[i]
                out.extend(check_effect(item, holder.value_where("effect"), scope))
            elif isinstance(item, dict) and "use" in item:
                self.keys(item, {"use"}, "a 'use' item")
                _, mbody, block, mname = self.macro(item, "effects")
                if depth > 8:
                    raise item.where("use").error(f"effect block '{mname}' uses itself", mname)
                holder = _ldict({"effect": mbody}, block.where(mname))
                holder.key_lines["effect"] = block.key_lines[mname]
                holder.value_lines["effect"] = block.value_lines[mname]
                out.extend(self.load_effect(holder, scope, depth + 1))
            else:
                raise items.where(i).error("an effect item is text or {use: name}", str(item))
        return tuple(out)

    def template(self, text, w: Where, params, extra=()):
        allowed = {p.name for p in params} | set(self.constants) | set(extra)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            raise w.error(f"bad message template: {exc}", text) from None
        for f in fields:
            if f not in allowed:
                raise w.error(f"message template names unknown field '{{{f}}}'", f)

    def load_transition(self, machine: Machine, body, w: Where, counters):
        body = self.mapping(body, w, "a transition")
        self.keys(body, {"trigger", "source", "dest", "when", "guard", "effect", "emit", "reqs", "assumption", "doc"},
                  "a transition", required=["trigger", "source"])
        trigger = body["trigger"]
        if trigger not in self.actions:
            raise body.where("trigger").error(f"unknown action '{trigger}' as trigger"
                                              + self.suggest(trigger, self.actions), str(trigger))
        action = self.actions[trigger]
        if action.machine != machine.name:
            raise body.where("trigger").error(f"action '{trigger}' belongs to machine '{action.machine}', "
                                              f"not '{machine.name}'", trigger)
        src = body["source"]
        sources = machine.states if src == "*" else tuple(self.seq(src, body.where("source"), "source", allow_scalar=True))
        for s in sources:
            if s not in machine.states:
                raise body.where("source").error(f"unknown state '{s}' of machine '{machine.name}'", str(s))
        dest = body.get("dest")
        if dest is not None and dest not in machine.states:
            raise body.where("dest").error(f"unknown state '{dest}' of machine '{machine.name}'", str(dest))
        # a transition with a `dest` sets the machine's state there and nowhere else; a staying
        # transition may set it in its effect (e.g. waking a card from suspend when it is used)
        scope = Scope(self.view, machine.family, {p.name: p for p in action.params},
                      own_control=machine.control if dest is not None else None,
                      target_param=action.target if isinstance(action.target, str) else None)
        when_src = body.get("when")
        when = None
        if when_src is not None:
            when_src = "True" if when_src is True else ("False" if when_src is False else when_src)
            when = check_expr(when_src, body.value_where("when"), scope)
        checks = tuple(self.load_checks(body, "guard", scope, f"transition {trigger}"))
        effect = ()
        if "effect" in body:
            effect = self.load_effect(body, scope)
        emit = ()
        if "emit" in body:
            items = self.seq(body["emit"], body.where("emit"), "emit", allow_scalar=True)
            for e in items:
                if not isinstance(e, str):
                    raise body.where("emit").error("emit lines must be text", str(e))
                self.template(e, body.where("emit"), action.params)
            emit = tuple(items)
        n = counters.get(trigger, 0) + 1
        counters[trigger] = n
        t = Transition(f"{machine.name}.{trigger}#{n}", machine.name, trigger, tuple(sources), dest, when,
                       when_src or "", checks, effect, emit, self.reqs(body) or action.reqs,
                       self.note_assumption(body), w, self.text(body, "doc", ""))
        machine.transitions.append(t)
        self.transitions.append(t)

    def load_property(self, kind, body, w: Where):
        body = self.mapping(body, w, f"a {kind}")
        self.keys(body, {"name", "expr", "when", "reqs", "doc", "assumption", "symmetric"}, f"a {kind}",
                  required=["name", "expr"])
        if not isinstance(body.get("symmetric", False), bool):
            raise body.where("symmetric").error(f"a {kind}'s symmetric is true or false", str(body["symmetric"]))
        name = self.name(body["name"], body.where("name"), f"a {kind} name")
        if any(p.name == name for p in self.properties):
            raise body.where("name").error(f"{kind} '{name}' is defined twice", name)
        self.note_assumption(body)
        ir = check_expr(body["expr"], body.value_where("expr"), Scope(self.view))
        when = None
        if "when" in body:
            when = check_expr(body["when"], body.value_where("when"), Scope(self.view, constants_only=True))
        self.properties.append(Property(name, kind, ir, body["expr"], when, self.reqs(body),
                                        self.text(body, "doc", ""), w, body.get("symmetric", False)))


def _kind(v):
    if v is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "a bool", int: "a number"}.get(
        type(v) if type(v) in (dict, list, str, bool, int) else
        (dict if isinstance(v, dict) else list if isinstance(v, list) else type(v)), type(v).__name__)


def _ldict(d, w):
    out = LDict(d)
    out.file, out.line, out.key_lines, out.value_lines = w.file, w.line, {}, {}
    return out
