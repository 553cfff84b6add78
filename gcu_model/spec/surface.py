"""specs/surface.yaml: the driver's sysfs, debugfs and /dev surface, declared once (issue 16,
item 1). Parsed and checked against the rest of the spec here; served by reference/sysfs.py
and described by the generated protocol reference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .command_forms import LineError, value_text
from .errors import InvalidSpec, Where
from .types import BoolT, EnumT
from .yamlfile import LDict, LList

NAMERS = ("pci_function", "kmd_node", "node_number", "vgcu_node", "mdev", "text_option", "user_name")
READ_KINDS = ("text", "device", "var", "host", "quantity", "constant", "names", "hook")
READ_HOOKS = ("loaded_reset_enable", "loaded_vgcu_num", "loaded_whitelist", "text_option", "pci_device",
              "driver_override", "bdf", "fw_informations", "rpm_sleep_delay", "last_busy", "dump_reg_group")
WRITE_HOOKS = ("vfio_bind", "vfio_unbind", "enflame_bind", "enflame_unbind",
               "driver_override", "sriov_numvfs", "rpm_sleep_delay")
PARSERS = ("int", "word", "add_delete", "instance")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Za-z]*$|^gcu[A-Z]$")


@dataclass(frozen=True)
class Placeholder:
    word: str
    family: str | None     # the instance family it names (None: not an instance)
    namer: str
    when: tuple
    kept: str | None = None    # user_name: the line that frees a name its stopped instance keeps


@dataclass(frozen=True)
class Cond:
    scope: str             # "host", "var" or "constant"
    name: str
    value: object = True


@dataclass(frozen=True)
class Read:
    kind: str              # one of READ_KINDS
    key: str
    map: dict | None = None
    format: str | None = None
    word: str | None = None       # constants.yaml bits: NAME masks
    default: str | None = None


class WriteError(Exception):
    """A write the kernel refuses before any action: errno name and message."""

    def __init__(self, errno: str, message: str):
        super().__init__(message)
        self.errno = errno
        self.message = message


def kernel_number(text: str) -> int | None:
    """A number written to sysfs or a module parameter as the kernel reads it (kstrtouint,
    base 0: 0x.. hex, a leading 0 octal, else decimal; a leading +, one trailing newline),
    or None when it is not one (08, 1e3, -1, " 5")."""
    text = text[:-1] if text.endswith("\n") else text
    text = text[1:] if text.startswith("+") else text
    if not re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", text):
        return None
    try:
        return int(text, 16) if text[:2] in ("0x", "0X") else int(text, 8) if text[0] == "0" else int(text)
    except ValueError:                     # 08, 09: not octal
        return None


def _params(args: tuple, value, placeholders: dict) -> dict:
    """{param: text} of a write's args: $VALUE the value, $W the placeholder's instance label."""
    params = {}
    for param, arg in args:
        arg = value if arg == "$VALUE" else placeholders.get(arg, arg) if isinstance(arg, str) else arg
        params[param] = ("true" if arg else "false") if isinstance(arg, bool) else str(arg)
    return params


@dataclass(frozen=True)
class Case:
    """One family's action of a write of a device name (`parse: instance`)."""
    of: str                       # the placeholder whose namer names the device (its family's)
    action: str
    args: tuple                   # (param, "$VALUE" | literal); $VALUE the device named


@dataclass(frozen=True)
class Write:
    parse: str | None = None      # one of PARSERS, or None with a hook
    map: dict | None = None
    invalid: str = "write error: {text}"
    ignore_unless: int | None = None
    action: str | None = None
    args: tuple = ()              # (param, "$VALUE" | "$PLACEHOLDER" | literal)
    refuse: tuple | None = None   # (errno, message)
    hook: str | None = None       # the device model's part; with `action` or `cases`, the action it applies
    bits: dict | None = None      # constants.yaml bits: NAME masks (word -> number) the value is one of
    cases: tuple = ()             # Case, for `parse: instance`: the action by the named device's family
    otherwise: tuple = ()         # (value,): what any text not in `map` maps to; (): EINVAL

    @property
    def actions(self) -> tuple:
        """Every action a write of this file can be: `action` and the cases' actions."""
        named = ([self.action] if self.action else []) + [c.action for c in self.cases]
        return tuple(dict.fromkeys(named))

    def _parsed(self, text: str):
        if self.parse != "int":
            return text.strip()
        value = kernel_number(text)
        if value is None:
            raise WriteError("EINVAL", f"'{text.strip()}' is not a number")
        return value

    def _mapped(self, value, text: str):
        if self.map is not None:
            if value in self.map:
                return self.map[value]
            if self.otherwise:                # any other text (RPM-2: any delay but the default)
                return self.otherwise[0]
            raise WriteError("EINVAL", self._invalid(text, self.map))
        if self.bits is not None:
            named = [word for word, mask in self.bits.items() if mask == value]
            if not named:
                raise WriteError("EINVAL", self._invalid(text, [f"{m:#x}" if m else "0" for m in self.bits.values()]))
            return named[0]
        return value

    def _invalid(self, text: str, words) -> str:
        return self.invalid.replace("{text}", text.strip()).replace("{words}", " or ".join(map(str, words)))

    def action_of(self, text: str, placeholders: dict, instance_of=None) -> tuple | None:
        """(action, {param: text}) the write is, `placeholders` giving the labels of the path's
        instances ({"$PF": "card0"}) and, for a write of a device name, `instance_of(placeholder,
        name)` the label of the device the text names (LineError when it names none); None when
        Linux ignores the value; WriteError when the kernel refuses the text or the spec refuses
        every such write (`refuse:`); LineError when the text names no device of any case."""
        if self.parse == "instance":
            case, label = self._case_of(text, instance_of)
            return case.action, _params(case.args, label, {})
        params = {}
        if self.parse == "add_delete":        # add:NAME or delete:NAME, any process name (open_enums)
            m = re.fullmatch(r"\s*(add|delete):(\S+)\s*", text)
            if not m:
                raise WriteError("EINVAL", f"whitelist: write add:NAME or delete:NAME, not {text.strip()}")
            value, params = None, {"op": m.group(1), "name": m.group(2)}
        else:
            value = self._parsed(text)
            if self.ignore_unless is not None and value != self.ignore_unless:
                return None                   # Linux ignores anything but that value
            value = self._mapped(value, text)
        if self.refuse:
            raise WriteError(*self.refuse)
        params.update(_params(self.args, value, placeholders))
        return self.action, params

    def _case_of(self, text: str, instance_of) -> tuple:
        """(case, label) of the device the text names: the first case whose placeholder names
        it (so a device of a family no case names is none); LineError with the namers' reasons."""
        name = text.strip()
        problems = []
        for case in self.cases:
            try:
                return case, instance_of(case.of, name)
            except LineError as exc:
                problems.append(exc)
        raise type(problems[0])("; ".join(dict.fromkeys(str(p) for p in problems)))

    def text_for(self, params: dict) -> str | None:
        """The text a write takes for an action's parameters (the inverse of its parse and
        map or bits), or None when no text of it means them."""
        if self.parse == "add_delete":
            return f"{params['op']}:{params['name']}" if "op" in params and "name" in params else None
        value_param = next((k for k, a in self.args if a == "$VALUE"), None)
        if self.map is not None:
            for text, value in self.map.items():
                shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
                if value_param is None or shown == params.get(value_param):
                    return str(text)
            return None
        if self.ignore_unless is not None:
            return str(self.ignore_unless)
        if value_param is None or value_param not in params:
            return None
        if self.bits is not None:
            mask = self.bits.get(params[value_param])
            return None if mask is None else f"{mask:#x}" if mask else "0"
        return str(params[value_param])


@dataclass(frozen=True)
class File:
    path: str              # the pattern, placeholders in it
    where: Where
    placeholder: str | None   # the one placeholder whose instance the file belongs to
    when: tuple = ()
    read: Read | None = None
    write: Write | None = None
    node: bool = False     # a /dev node: neither read nor written as a file
    shows: str = ""
    takes: str = ""
    reqs: tuple = ()


@dataclass
class Surface:
    placeholders: dict = field(default_factory=dict)   # word -> Placeholder
    dirs: list = field(default_factory=list)          # (path, when)
    files: list = field(default_factory=list)         # File

    def file_of(self, pattern: str):
        """(File, the name its non-instance placeholder stands for, or None) for a path
        pattern as Sysfs.patterns() gives it, or (None, None)."""
        for f in self.files:
            if f.path == pattern:
                return f, None
            ph = self.placeholders.get(f.placeholder)
            if ph is not None and ph.family is None:
                head, _, tail = f.path.partition(f.placeholder)
                if pattern.startswith(head) and pattern.endswith(tail) and len(pattern) > len(head) + len(tail):
                    return f, pattern[len(head):len(pattern) - len(tail)]
        return None, None

    def write_line(self, action: str, params: dict, name_of) -> str | None:
        """The `echo TEXT > PATH` that is `action` with these parameter texts (instances by
        label); `name_of(file, placeholder, label)` names an instance (None: not now): the
        path's, or for a write of a device name (`parse: instance`) the device written."""
        for f in self.files:
            w = f.write
            if w is None or action not in w.actions:
                continue
            line = (self._case_line(f, action, params, name_of) if w.parse == "instance"
                    else self._value_line(f, params, name_of))
            if line is not None:
                return line
        return None

    @staticmethod
    def _case_line(f: File, action: str, params: dict, name_of) -> str | None:
        """`echo NAME > PATH`: the name of the device the action is about, as its case's
        placeholder names it."""
        for case in f.write.cases:
            if case.action != action or any(params.get(k) != str(a) for k, a in case.args if a != "$VALUE"):
                continue
            label = next((params.get(k) for k, a in case.args if a == "$VALUE"), None)
            name = name_of(f, case.of, label) if label is not None else None
            if name is not None:
                return f"echo {name} > {f.path}"
        return None

    @staticmethod
    def _value_line(f: File, params: dict, name_of) -> str | None:
        w = f.write
        text = w.text_for(params)
        if text is None or any(params.get(k) != str(a) for k, a in w.args if not str(a).startswith("$")):
            return None
        if f.placeholder is None:
            return f"echo {text} > {f.path}"
        label = next((params.get(k) for k, a in w.args if a == f"${f.placeholder}"), None)
        name = name_of(f, f.placeholder, label) if label is not None else None
        if name is None:
            return None
        return f"echo {text} > " + "/".join(name if p == f.placeholder else p for p in f.path.split("/"))

    def write_of(self, path: str, text: str, instance_of) -> tuple | None:
        """(action, {param: text}) an `echo TEXT > PATH` is, with no running host:
        `instance_of(placeholder, name)` gives the label of an instance, the path's or the
        device a write of a device name names (LineError when it cannot). () for a value Linux
        ignores, None for a path no file with a declared action has; WriteError as the kernel
        refuses the text."""
        parts = path.rstrip("/").split("/")
        problem = None
        for f in self.files:
            pattern = f.path.split("/")
            if f.write is None or not f.write.actions or len(pattern) != len(parts):
                continue
            if any(p != q for p, q in zip(pattern, parts) if p != f.placeholder):
                continue
            labels = {}
            if f.placeholder is not None:
                try:
                    labels[f"${f.placeholder}"] = instance_of(f.placeholder, parts[pattern.index(f.placeholder)])
                except LineError as exc:             # PF/reset and VF/reset: the next file may name it
                    problem = problem or exc
                    continue
            found = f.write.action_of(text, labels, instance_of)
            return () if found is None else found
        if problem is not None:
            raise problem
        return None

    def describe(self, pattern: str, spec) -> tuple | None:
        """(what a read shows, what a write does) for a path pattern, or None. `{default}` in
        the text of an option is its default (constants.yaml `device: module_parameters`)."""
        f, name = self.file_of(pattern)
        if f is None:
            return None
        default = (spec.device.get("module_parameters") or {}).get(name, "")
        return (f.shows.replace("{default}", str(default)), f.takes.replace("{default}", str(default)))


def load_surface(data, spec, display: str) -> Surface:
    """The parsed surface, every name in it checked against the spec (actions and their
    parameters, variables of the placeholder's family, constants, requirements)."""
    if not isinstance(data, LDict):
        raise InvalidSpec("surface.yaml must be a mapping", display, 1)
    _keys(data, {"placeholders", "dirs", "files"}, "surface.yaml")
    out = Surface()
    for word, body in (data.get("placeholders") or {}).items():
        w = data["placeholders"].where(word)
        if not _PLACEHOLDER.match(str(word)):
            raise w.error(f"placeholder '{word}': a placeholder is a word in capitals (PF, UUID, gcuN)", str(word))
        body = _mapping(body, w, f"placeholder {word}")
        _keys(body, {"family", "namer", "when", "kept"}, f"placeholder {word}", required=["namer"])
        family = body.get("family")
        if family is not None and family not in spec.families:
            raise body.where("family").error(f"placeholder {word}: no instance family '{family}' in "
                                             "families.yaml", str(family))
        if body["namer"] not in NAMERS:
            raise body.where("namer").error(f"placeholder {word}: unknown namer '{body['namer']}' "
                                            f"(one of {', '.join(NAMERS)})", str(body["namer"]))
        kept = body.get("kept")
        if kept is not None and (body["namer"] != "user_name" or f"${word}" not in str(kept).split()):
            raise body.where("kept").error(f"placeholder {word}: kept: the command line that frees a name a user "
                                           f"gave (namer: user_name), naming it as ${word}, not '{kept}'", str(kept))
        out.placeholders[word] = Placeholder(word, family, body["namer"],      # no instance yet: host conditions
                                             _conds(body.get("when"), body.where("when"), spec, None),
                                             None if kept is None else str(kept))
    for i, body in enumerate(_seq(data.get("dirs"), data.where("dirs"), "dirs")):
        w = data["dirs"].where(i)
        body = _mapping(body, w, "a dir")
        _keys(body, {"path", "when"}, "a dir", required=["path"])
        out.dirs.append((str(body["path"]), _conds(body.get("when"), w, spec, None)))
    seen = set()
    for i, body in enumerate(_seq(data.get("files"), data.where("files"), "files")):
        w = data["files"].where(i)
        f = _file(_mapping(body, w, "a file"), w, spec, out.placeholders)
        if f.path in seen:
            raise w.error(f"{f.path}: declared twice", f.path)
        seen.add(f.path)
        out.files.append(f)
    return out


def _file(body: LDict, w: Where, spec, placeholders) -> File:
    _keys(body, {"path", "when", "read", "write", "node", "shows", "takes", "reqs"}, "a file", required=["path"])
    path = str(body["path"])
    if not path.startswith("/"):
        raise w.error(f"{path}: a path starts with /", path)
    words = [p for p in path.split("/") if p in placeholders]
    for part in path.split("/")[1:]:
        if _PLACEHOLDER.match(part) and part not in placeholders:
            raise w.error(f"{path}: '{part}' looks like a placeholder but surface.yaml declares none", part)
    if len(words) > 1:
        raise w.error(f"{path}: one placeholder a path, not {', '.join(words)}", path)
    word = words[0] if words else None
    if word is not None and placeholders[word].namer == "user_name":
        raise w.error(f"{path}: {word} is a name a user gives (namer: user_name), for command lines; "
                      "no file is named by it", word)
    family = placeholders[word].family if word else None
    reqs = tuple(str(r) for r in (body.get("reqs") or ()))
    for r in reqs:
        if r not in spec.requirements:
            raise body.where("reqs").error(f"{path}: unknown requirement '{r}'", r)
    read = _read(body["read"], body.where("read"), spec, family, path) if "read" in body else None
    write = _write(body["write"], body.where("write"), spec, placeholders, path) if "write" in body else None
    node = bool(body.get("node", False))
    if not node and read is None and write is None:
        raise w.error(f"{path}: a file is read, written or a /dev node", path)
    return File(path, w, word, _conds(body.get("when"), body.where("when"), spec, family), read, write, node,
                str(body.get("shows", "")), str(body.get("takes", "")), reqs)


def _read(body, w: Where, spec, family, path) -> Read:
    body = _mapping(body, w, f"{path}: read")
    _keys(body, set(READ_KINDS) | {"map", "format", "word", "default"}, f"{path}: read")
    kinds = [k for k in READ_KINDS if k in body]
    if len(kinds) != 1:
        raise w.error(f"{path}: a read is one of {', '.join(READ_KINDS)}", path)
    kind, key = kinds[0], str(body[kinds[0]])
    if kind in ("var", "names") and (family is None or (family, key) not in spec.vars):
        raise body.where(kind).error(f"{path}: no variable '{key}' of family {family}", key)
    if kind == "host" and (_host(spec), key) not in spec.vars:
        raise body.where(kind).error(f"{path}: no host variable '{key}'", key)
    if kind == "quantity" and (family, key) not in spec.quantities:
        raise body.where(kind).error(f"{path}: no quantity '{key}' of family {family}", key)
    if kind == "constant" and family is None:
        raise body.where(kind).error(f"{path}: a constant is read for the file's card; this path names no instance",
                                     key)
    if kind == "constant" and key not in spec.constants:
        raise body.where(kind).error(f"{path}: no constant '{key}' in constants.yaml", key)
    if kind == "hook" and key not in READ_HOOKS:
        raise body.where(kind).error(f"{path}: unknown read hook '{key}'", key)
    word = body.get("word")
    if word is not None and word not in (spec.bits or {}):
        raise body.where("word").error(f"{path}: no `bits: {word}` in constants.yaml", str(word))
    mapping = dict(_mapping(body["map"], body.where("map"), f"{path}: map")) if "map" in body else None
    fmt = body.get("format")
    if fmt is not None:
        try:
            str(fmt).format(0)
        except (ValueError, IndexError, KeyError) as exc:
            raise body.where("format").error(f"{path}: format '{fmt}' is not a format of one value ({exc})",
                                             str(fmt)) from None
    return Read(kind, key, mapping, fmt, word, body.get("default"))


WRITE_KEYS = {"parse", "map", "otherwise", "invalid", "ignore", "action", "args", "refuse", "hook", "bits", "cases"}


def _write(body, w: Where, spec, placeholders, path) -> Write:
    body = _mapping(body, w, f"{path}: write")
    _keys(body, WRITE_KEYS, f"{path}: write")
    hook = body.get("hook")
    if hook is not None:
        if hook not in WRITE_HOOKS:
            raise body.where("hook").error(f"{path}: unknown write hook '{hook}'", str(hook))
        if "action" not in body and "cases" not in body:     # the device model's alone
            if len(body) > 1:
                raise body.where().error(f"{path}: a hook's write says which action it is (action: or cases:) "
                                         "or nothing else", path)
            return Write(hook=hook)
        if "refuse" in body:
            raise body.where("refuse").error(f"{path}: a hook's write is an action, not a refusal")
    if body.get("parse") == "instance":
        return _instance_write(body, w, spec, placeholders, path, hook)
    if "cases" in body:
        raise body.where("cases").error(f"{path}: cases: are the actions of a write of a device name; "
                                        "give parse: instance", "cases")
    bits = body.get("bits")
    if bits is not None and str(bits) not in (spec.bits or {}):
        raise body.where("bits").error(f"{path}: no `bits: {bits}` in constants.yaml", str(bits))
    if bits is not None and "map" in body:
        raise body.where("bits").error(f"{path}: a write's value is read by map: or bits:, not both", str(bits))
    if bits is not None and body.get("parse") != "int":
        raise body.where("bits").error(f"{path}: bits: is a number's meaning; give parse: int", str(bits))
    if "otherwise" in body and "map" not in body:
        raise body.where("otherwise").error(f"{path}: otherwise: is what a text not in map: means; give map:",
                                            "otherwise")
    parse = body.get("parse")
    if parse not in PARSERS:
        raise body.where("parse" if "parse" in body else None).error(
            f"{path}: a write parses its text as one of {', '.join(PARSERS)}, or names a hook", str(parse))
    ignore = body.get("ignore")
    if ignore is not None and not re.fullmatch(r"not \d+", str(ignore)):
        raise body.where("ignore").error(f"{path}: ignore: 'not N' (Linux ignores every other value)", str(ignore))
    action = body.get("action")
    args = dict(_mapping(body["args"], body.where("args"), f"{path}: args")) if "args" in body else {}
    refuse = None
    if "refuse" in body:
        refuse = tuple(body["refuse"]) if isinstance(body["refuse"], list) else ()
        if len(refuse) != 2 or not isinstance(refuse[0], str) or not refuse[0].startswith("E"):
            shown = ", ".join(map(str, body["refuse"])) if isinstance(body["refuse"], list) else body["refuse"]
            raise body.where("refuse").error(f"{path}: refuse: [ERRNO, message], not [{shown}]", str(shown))
    invalid = _invalid_text(body, path)
    mapping = dict(_mapping(body["map"], body.where("map"), f"{path}: map")) if "map" in body else None
    if (action is None) == (refuse is None):
        raise w.error(f"{path}: a write names an action or a refusal", path)
    decl = _checked_action(body, spec, placeholders, path, str(action), args, parse) if action is not None else None
    for text, value in (mapping or {}).items():
        _value_of_param(decl, args, value, body["map"].where(text), path)
    if "otherwise" in body:
        _value_of_param(decl, args, body["otherwise"], body.where("otherwise"), path)
    return Write(parse, mapping, invalid,
                 int(str(ignore).split()[1]) if ignore is not None else None, action,
                 tuple(args.items()), refuse, hook,
                 dict(spec.bits[str(bits)]["masks"]) if bits is not None else None,
                 otherwise=(body["otherwise"],) if "otherwise" in body else ())


def _invalid_text(body: LDict, path: str) -> str:
    invalid = str(body.get("invalid", "write error: {text}"))
    bare = re.sub(r"\{(text|words)\}", "", invalid)
    if bare.count("{") or bare.count("}"):
        raise body.where("invalid").error(f"{path}: invalid: a message with {{text}} (the text written), "
                                          "{words} (the values taken) and no other braces", invalid)
    return invalid


def _checked_action(body: LDict, spec, placeholders, path, action: str, args: dict, parse):
    """The declaration of a write's action, its args naming its parameters, every one given."""
    decl = spec.actions.get(action)
    if decl is None:
        raise body.where("action").error(f"{path}: no action '{action}' in the machines", action)
    names = {p.name for p in decl.params}
    for k, v in args.items():
        if k not in names:
            raise body.where("args").error(f"{path}: action {action} has no parameter '{k}'", str(k))
        if isinstance(v, str) and v.startswith("$") and v != "$VALUE" and v[1:] not in placeholders:
            raise body.where("args").error(f"{path}: '{v}' is neither $VALUE nor a placeholder", v)
    missing = names - set(args) - ({"op", "name"} if parse == "add_delete" else set())
    if missing:
        raise body.where("action").error(f"{path}: action {action} needs {', '.join(sorted(missing))}",
                                         sorted(missing)[0])
    return decl


def _value_of_param(decl, args: dict, value, w: Where, path: str) -> None:
    """A value `map:` or `otherwise:` gives must be one the $VALUE parameter takes."""
    param = next((p for p in decl.params if args.get(p.name) == "$VALUE"), None) if decl is not None else None
    if param is not None and not param.is_instance:
        value_text(param, value, w, path)


def _instance_write(body: LDict, w: Where, spec, placeholders, path, hook) -> Write:
    """`parse: instance`: the text names a device as a placeholder's namer names it, and
    `cases:` say which action the write is for a device of each family (SRIOV-3, SRIOV-8)."""
    for key in ("map", "otherwise", "bits", "ignore", "refuse", "action", "args"):
        if key in body:
            raise body.where(key).error(f"{path}: a write of a device name (parse: instance) is an action by "
                                        f"the device's family (cases:), with no {key}:", key)
    if any(p in placeholders for p in path.split("/")):
        raise w.error(f"{path}: a write of a device name (parse: instance) is to a file of no instance", path)
    items = _seq(body.get("cases"), body.where("cases"), f"{path}: cases")
    if not items:
        raise body.where("cases" if "cases" in body else None).error(
            f"{path}: a write of a device name (parse: instance) says which action a device of each family "
            "is (cases:)", path)
    families: dict = {}
    cases = tuple(_case(item, body["cases"].where(i), spec, placeholders, path, families)
                  for i, item in enumerate(items))
    return Write("instance", invalid=_invalid_text(body, path), hook=hook, cases=cases)


def _case(body, w: Where, spec, placeholders, path, families: dict) -> Case:
    body = _mapping(body, w, f"{path}: a case")
    _keys(body, {"of", "action", "args"}, f"{path}: a case", required=["of", "action"])
    of = str(body["of"])
    ph = placeholders.get(of)
    if ph is None:
        raise body.where("of").error(f"{path}: a case of '{of}': surface.yaml declares no such placeholder", of)
    if ph.family is None:
        raise body.where("of").error(f"{path}: a case of {of}: {of} names no instance family, so no device", of)
    if ph.family in families:
        raise body.where("of").error(f"{path}: the cases of {families[ph.family]} and {of} are both of family "
                                     f"{ph.family}", of)
    families[ph.family] = of
    action = str(body["action"])
    args = dict(_mapping(body["args"], body.where("args"), f"{path}: args")) if "args" in body else {}
    decl = _checked_action(body, spec, placeholders, path, action, args, "instance")
    for k, v in args.items():
        if isinstance(v, str) and v.startswith("$") and v != "$VALUE":
            raise body.where("args").error(f"{path}: '{v}': the path names no instance; the device written "
                                           "is $VALUE", v)
    value = next((p for p in decl.params if args.get(p.name) == "$VALUE"), None)
    if value is None:
        raise body.where("args" if "args" in body else "action").error(
            f"{path}: a case of {of}: no parameter of {action} is the device written ($VALUE)", of)
    if value.type != ph.family:
        raise body.where("args").error(f"{path}: a case of {of}: $VALUE is a {ph.family}, but {action}'s "
                                       f"{value.name} is {'a ' + value.type if value.is_instance else 'no instance'}",
                                       value.name)
    return Case(of, action, tuple(args.items()))


def _host(spec) -> str:
    """The family of the host role (families.yaml), whose variables `host:` names."""
    return spec.family_of("host") or "host"


def _conds(items, w: Where, spec, family) -> tuple:
    out = []
    for body in _seq(items, w, "when"):
        body = _mapping(body, w, "a condition")
        if "host" in body and "is" in body:
            if (_host(spec), body["host"]) not in spec.vars:
                raise body.where("host").error(f"when: no host variable '{body['host']}'", str(body["host"]))
            _value_of(spec.vars[(_host(spec), body["host"])].type, body["is"], body.where("is"), body["host"])
            out.append(Cond("host", body["host"], body["is"]))
        elif "var" in body and "is" in body:
            if family is None or (family, body["var"]) not in spec.vars:
                raise body.where("var").error(f"when: no variable '{body['var']}' of family {family}",
                                              str(body["var"]))
            _value_of(spec.vars[(family, body["var"])].type, body["is"], body.where("is"), body["var"])
            out.append(Cond("var", body["var"], body["is"]))
        elif "constant" in body:
            if family is None:
                raise body.where("constant").error("when: {constant: NAME} is the constant of the file's "
                                                   "card; this path names no instance", str(body["constant"]))
            if body["constant"] not in spec.constants:
                raise body.where("constant").error(f"when: no constant '{body['constant']}'", str(body["constant"]))
            out.append(Cond("constant", body["constant"]))
        else:
            raise body.where().error("a condition is {host: VAR, is: V}, {var: VAR, is: V} or {constant: NAME}")
    return tuple(out)


def _value_of(t, value, w: Where, var: str) -> None:
    """A condition's `is:` must be a value its variable can hold (else the file never exists)."""
    if isinstance(t, EnumT) and value not in t.values:
        raise w.error(f"when: '{value}' is not a value of {var} (one of {', '.join(t.values)})", str(value))
    if isinstance(t, BoolT) and not isinstance(value, bool):
        raise w.error(f"when: {var} is true or false, not '{value}'", str(value))


def _mapping(value, w: Where, what: str) -> LDict:
    if not isinstance(value, LDict):
        raise w.error(f"{what}: expected a mapping")
    return value


def _seq(value, w: Where, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, LList):
        raise w.error(f"{what}: expected a list")
    return value


def _keys(m: LDict, allowed: set, what: str, required=()):
    for k in m:
        if k not in allowed:
            raise m.where(k).error(f"{what}: unknown key '{k}' (allowed: {', '.join(sorted(allowed))})", str(k))
    for k in required:
        if k not in m:
            raise m.where().error(f"{what}: missing key '{k}'", k)
