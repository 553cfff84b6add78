"""specs/surface.yaml: the driver's sysfs, debugfs and /dev surface, declared once (issue 16,
item 1). Parsed and checked against the rest of the spec here; served by reference/sysfs.py
and described by the generated protocol reference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import InvalidSpec, Where
from .types import BoolT, EnumT
from .yamlfile import LDict, LList

NAMERS = ("pci_function", "kmd_node", "node_number", "mdev", "text_option", "user_name")
READ_KINDS = ("text", "device", "var", "host", "quantity", "constant", "names", "hook")
READ_HOOKS = ("loaded_reset_enable", "loaded_vgcu_num", "loaded_whitelist", "text_option", "pci_device",
              "driver_override", "bdf", "fw_informations", "rpm_sleep_delay", "last_busy", "dump_reg_group")
WRITE_HOOKS = ("vfio_bind", "vfio_unbind", "enflame_bind", "enflame_unbind",
               "driver_override", "sriov_numvfs", "rpm_sleep_delay")
PARSERS = ("int", "word", "add_delete")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Za-z]*$|^gcu[A-Z]$")


@dataclass(frozen=True)
class Placeholder:
    word: str
    family: str | None     # the instance family it names (None: not an instance)
    namer: str
    when: tuple


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


@dataclass(frozen=True)
class Write:
    parse: str | None = None      # one of PARSERS, or None with a hook
    map: dict | None = None
    invalid: str = "write error: {text}"
    ignore_unless: int | None = None
    action: str | None = None
    args: tuple = ()              # (param, "$VALUE" | "$PLACEHOLDER" | literal)
    refuse: tuple | None = None   # (errno, message)
    hook: str | None = None       # the device model's part; with `action`, the action it is
    bits: dict | None = None      # constants.yaml bits: NAME masks (word -> number) the value is one of

    def _parsed(self, text: str):
        if self.parse != "int":
            return text.strip()
        value = kernel_number(text)
        if value is None:
            raise WriteError("EINVAL", f"'{text.strip()}' is not a number")
        return value

    def _mapped(self, value, text: str):
        if self.map is not None:
            if value not in self.map:
                raise WriteError("EINVAL", self._invalid(text, self.map))
            return self.map[value]
        if self.bits is not None:
            named = [word for word, mask in self.bits.items() if mask == value]
            if not named:
                raise WriteError("EINVAL", self._invalid(text, [f"{m:#x}" if m else "0" for m in self.bits.values()]))
            return named[0]
        return value

    def _invalid(self, text: str, words) -> str:
        return self.invalid.replace("{text}", text.strip()).replace("{words}", " or ".join(map(str, words)))

    def action_of(self, text: str, placeholders: dict) -> tuple | None:
        """(action, {param: text}) the write is, `placeholders` giving the labels of the path's
        instances ({"$PF": "card0"}); None when Linux ignores the value; WriteError when the
        kernel refuses the text or the spec refuses every such write (`refuse:`)."""
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
        for param, arg in self.args:
            arg = value if arg == "$VALUE" else placeholders.get(arg, arg) if isinstance(arg, str) else arg
            params[param] = ("true" if arg else "false") if isinstance(arg, bool) else str(arg)
        return self.action, params

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
        label); `name_of(file, placeholder, label)` names the path's instance (None: not now)."""
        for f in self.files:
            w = f.write
            if w is None or w.action != action:
                continue
            text = w.text_for(params)
            if text is None or any(params.get(k) != str(a) for k, a in w.args
                                   if not str(a).startswith("$")):
                continue
            if f.placeholder is None:
                return f"echo {text} > {f.path}"
            label = next((params.get(k) for k, a in w.args if a == f"${f.placeholder}"), None)
            name = name_of(f, f.placeholder, label) if label is not None else None
            if name is not None:
                return f"echo {text} > " + "/".join(name if p == f.placeholder else p for p in f.path.split("/"))
        return None

    def write_of(self, path: str, text: str, instance_of) -> tuple | None:
        """(action, {param: text}) an `echo TEXT > PATH` is, with no running host:
        `instance_of(placeholder, name)` gives the label of a path's instance (LineError when
        it cannot). () for a value Linux ignores, None for a path no file with a declared
        action has; WriteError as the kernel refuses the text."""
        from .command_forms import LineError
        parts = path.rstrip("/").split("/")
        problem = None
        for f in self.files:
            pattern = f.path.split("/")
            if f.write is None or f.write.action is None or len(pattern) != len(parts):
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
            found = f.write.action_of(text, labels)
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
        _keys(body, {"family", "namer", "when"}, f"placeholder {word}", required=["namer"])
        family = body.get("family")
        if family is not None and family not in spec.families:
            raise body.where("family").error(f"placeholder {word}: no instance family '{family}' in "
                                             "families.yaml", str(family))
        if body["namer"] not in NAMERS:
            raise body.where("namer").error(f"placeholder {word}: unknown namer '{body['namer']}' "
                                            f"(one of {', '.join(NAMERS)})", str(body["namer"]))
        out.placeholders[word] = Placeholder(word, family, body["namer"],      # no instance yet: host conditions
                                             _conds(body.get("when"), body.where("when"), spec, None))
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


def _write(body, w: Where, spec, placeholders, path) -> Write:
    body = _mapping(body, w, f"{path}: write")
    _keys(body, {"parse", "map", "invalid", "ignore", "action", "args", "refuse", "hook", "bits"}, f"{path}: write")
    hook = body.get("hook")
    if hook is not None:
        if hook not in WRITE_HOOKS:
            raise body.where("hook").error(f"{path}: unknown write hook '{hook}'", str(hook))
        if "action" not in body:                   # the device model's alone
            if len(body) > 1:
                raise body.where().error(f"{path}: a hook's write says which action it is (action:) or "
                                         "nothing else", path)
            return Write(hook=hook)
        if "refuse" in body:
            raise body.where("refuse").error(f"{path}: a hook's write is an action, not a refusal")
    bits = body.get("bits")
    if bits is not None and str(bits) not in (spec.bits or {}):
        raise body.where("bits").error(f"{path}: no `bits: {bits}` in constants.yaml", str(bits))
    if bits is not None and "map" in body:
        raise body.where("bits").error(f"{path}: a write's value is read by map: or bits:, not both", str(bits))
    if bits is not None and body.get("parse") != "int":
        raise body.where("bits").error(f"{path}: bits: is a number's meaning; give parse: int", str(bits))
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
    invalid = str(body.get("invalid", "write error: {text}"))
    bare = re.sub(r"\{(text|words)\}", "", invalid)
    if bare.count("{") or bare.count("}"):
        raise body.where("invalid").error(f"{path}: invalid: a message with {{text}} (the text written), "
                                          "{words} (the values taken) and no other braces", invalid)
    mapping = dict(_mapping(body["map"], body.where("map"), f"{path}: map")) if "map" in body else None
    if (action is None) == (refuse is None):
        raise w.error(f"{path}: a write names an action or a refusal", path)
    if action is not None:
        decl = spec.actions.get(action)
        if decl is None:
            raise body.where("action").error(f"{path}: no action '{action}' in the machines", str(action))
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
    return Write(parse, mapping, invalid,
                 int(str(ignore).split()[1]) if ignore is not None else None, action,
                 tuple(args.items()), refuse, hook,
                 dict(spec.bits[str(bits)]["masks"]) if bits is not None else None)


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
