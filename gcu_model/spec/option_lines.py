"""specs/commands.yaml `option_lines:`: the module options a line of an options file sets
(§3, §5, §8.7, §11.2; PARAM-1..6), `echo 'options enflame "KEY=VALUE[,KEY2=VALUE2]"' >
FILE`, and the action of the machines each key the model reads is, both ways. A key
no entry names is the host's to keep as text (PARAM-1: enable_ssm_rt_fw, ...).

A value is read by its entry's `value:`
  {map: {text: value, ...}}   these texts alone (the first of a value is printed back);
                              `otherwise: value` for any other decimal number
  {bits: NAME}                a word of constants.yaml `bits: NAME: masks`, written 0x.. or
                              decimal, printed in hex (0 as 0)
  pci_address                 a card's PCI address (01:00.0 or 0000:01:00.0), printed
                              without the domain as the guide writes it (§11.2)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .action import show_value
from .command_forms import LineError, value_text
from .surface import kernel_number
from .yamlfile import LDict, LList

LINE = re.compile(r'options enflame "?([^"]*)"?')


def option_text(key: str, text: str) -> str:
    """A line of an options file as the guide writes it."""
    return f'options enflame "{key}={text}"'


@dataclass(frozen=True)
class OptionLine:
    key: str
    files: tuple              # ((file as written, the $FILE text or None), ...), the first printed back
    action: str
    args: tuple               # ((param, text | "$VALUE" | "$FILE"), ...)
    value: tuple              # ("map", ((text, value), ...), otherwise | None) | ("bits", name) | ("pci_address",)
    redirect: str = ">>"      # how a line of it is printed: > or >>
    where: object = None
    holds: tuple = ()         # ((the $FILE text or None, host variable), ...): the file's value now
    absent: str | None = None  # the variable's value when the file has no such line

    def param_of(self, placeholder: str) -> str | None:
        return next((p for p, v in self.args if v == placeholder), None)

    def var_in(self, file: str) -> str | None:
        """The host variable holding this key's value in FILE (cat shows it), or None."""
        held = dict(self.holds)
        return held.get(dict(self.files).get(file), held.get(None))


@dataclass
class OptionLines:
    entries: list = field(default_factory=list)
    bits: dict = field(default_factory=dict)

    @property
    def keys(self) -> set:
        return {e.key for e in self.entries}

    @property
    def files(self) -> set:
        return {f for e in self.entries for f, _ in e.files}

    def action_of(self, key: str, text: str, file: str) -> tuple | None:
        """(entry, {param: text}) for KEY=VALUE written to FILE; None for a key no entry
        names (the host keeps it); LineError for a value or file the entry does not take."""
        entries = [e for e in self.entries if e.key == key]
        if not entries:
            if file not in self.files:
                raise LineError(f"options go to {', '.join(sorted(self.files))}, not {file}")
            return None
        entry = next((e for e in entries if file in dict(e.files)), None)
        if entry is None:
            where = " or ".join(f for e in entries for f, _ in e.files)
            raise LineError(f"{key} goes to {where}, not {file}")
        value = self._read(entry, text)
        values = {}
        for param, v in entry.args:
            values[param] = value if v == "$VALUE" else dict(entry.files)[file] if v == "$FILE" else v
        return entry, values

    def line_of(self, name: str, params: dict) -> str | None:
        """The options line that is action `name` with these parameter texts (a card as its
        PCI address), or None."""
        for entry in self.entries:
            if entry.action != name:
                continue
            file = next((f for f, t in entry.files
                         if entry.param_of("$FILE") is None or params.get(entry.param_of("$FILE")) == t), None)
            if file is None or any(v not in ("$VALUE", "$FILE") and params.get(p) != v for p, v in entry.args):
                continue
            text = self._write(entry, params.get(entry.param_of("$VALUE")))
            if text is not None:
                return f"echo '{option_text(entry.key, text)}' {entry.redirect} {file}"
        return None

    def lines_in(self, file: str, value_of, address_of) -> list:
        """The lines the model's keys have in FILE now, in the order of the entries:
        `value_of(var)` is a host variable's value, `address_of(label)` a card's PCI address."""
        out = []
        for entry in self.entries:
            var = entry.var_in(file) if file in dict(entry.files) else None
            value = value_of(var) if var is not None else None
            if value is None or show_value(value) == entry.absent:
                continue
            text = self._write(entry, address_of(value) if entry.value[0] == "pci_address" else show_value(value))
            if text is not None:
                out.append(option_text(entry.key, text))
        return out

    def text_of(self, key: str, value) -> str | None:
        """How VALUE is written for a value of key's parameter (vgcu_num: four -> 4)."""
        entry = next((e for e in self.entries if e.key == key), None)
        return None if entry is None else self._write(entry, value)

    def _read(self, entry: OptionLine, text: str) -> str:
        kind = entry.value[0]
        if kind == "map":
            table, otherwise = dict(entry.value[1]), entry.value[2]
            if text in table:
                return table[text]
            if otherwise is not None and text.isdigit():
                return otherwise
            if otherwise is not None:
                raise LineError(f"{entry.key}={text}: expected a number")
            raise LineError(f"{entry.key}={text}: the guide's values are " + " and ".join(t for t, _ in entry.value[1]))
        if kind == "bits":
            number = kernel_number(text)
            named = [n for n, word in self.bits[entry.value[1]]["masks"].items() if word == number]
            if not named:
                raise LineError(f"{entry.key}={text}: the model knows "
                                + " and ".join(self._word(w) for w in self.bits[entry.value[1]]["masks"].values()))
            return named[0]
        return text                                        # a PCI address: the caller reads it

    def _write(self, entry: OptionLine, value) -> str | None:
        kind = entry.value[0]
        if kind == "map":
            return next((t for t, v in entry.value[1] if v == value), None)
        if kind == "bits":
            masks = self.bits[entry.value[1]]["masks"]
            return self._word(masks[value]) if value in masks else None
        return None if value is None else value[5:] if value.count(":") == 2 else value

    @staticmethod
    def _word(word: int) -> str:
        return f"{word:#x}" if word else "0"


def load_option_lines(items, spec, where) -> OptionLines:
    if not isinstance(items, LList):
        raise where.error("option_lines: expected a list")
    out = OptionLines(bits=dict(spec.bits or {}))
    for i, body in enumerate(items):
        w = items.where(i)
        if not isinstance(body, LDict):
            raise w.error("an option line: expected a mapping")
        entry = _entry(body, w, spec)
        for other in out.entries:
            if other.key == entry.key and set(dict(other.files)) & set(dict(entry.files)):
                raise w.error(f"option {entry.key} in {sorted(set(dict(other.files)) & set(dict(entry.files)))[0]} "
                              "is given twice", entry.key)
        out.entries.append(entry)
    return out


_KEYS = {"key", "files", "action", "args", "value", "redirect", "holds", "absent"}


def _entry(body: LDict, w, spec) -> OptionLine:
    for k in body:
        if k not in _KEYS:
            raise body.where(k).error(f"an option line: unknown key '{k}' (allowed: {', '.join(sorted(_KEYS))})", str(k))
    for k in ("key", "files", "action", "args", "value"):
        if k not in body:
            raise body.where().error(f"an option line: missing key '{k}'", k)
    key = str(body["key"])
    if not re.fullmatch(r"[a-z_]+", key):
        raise body.where("key").error(f"option {key}: a module parameter's name is lower case letters and _", key)
    decl = spec.actions.get(str(body["action"]))
    if decl is None:
        raise body.where("action").error(f"option {key}: no action '{body['action']}' in the machines",
                                         str(body["action"]))
    params = {p.name: p for p in decl.params}
    args = body["args"]
    if not isinstance(args, LDict):
        raise body.where("args").error(f"option {key}: args: expected a mapping of parameter: value")
    texts = []
    for name in params:
        if name not in args:
            raise body.where("action").error(f"option {key}: action {decl.name} needs its parameter {name} in args", name)
    for name, value in args.items():
        if name not in params:
            raise args.where(name).error(f"option {key}: action {decl.name} has no parameter '{name}'", str(name))
        texts.append((str(name), value if value in ("$VALUE", "$FILE") else _fixed(params[name], value, args.where(name), key)))
    if not any(v == "$VALUE" for _, v in texts):
        raise body.where("args").error(f"option {key}: no parameter takes $VALUE", key)
    files = _files(body, key, params, dict(texts))
    value = _value(body, key, params[next(p for p, v in texts if v == "$VALUE")], spec)
    redirect = str(body.get("redirect", ">>"))
    if redirect not in (">", ">>"):
        raise body.where("redirect").error(f"option {key}: redirect is > or >>, not {redirect}", redirect)
    holds, absent = _holds(body, key, files, spec)
    return OptionLine(key, files, decl.name, tuple(texts), value, redirect, w, holds, absent)


def _holds(body, key, files, spec) -> tuple:
    """holds: VAR (every file) or {$FILE text: VAR}, each a host variable; absent: its value
    when the file has no line of the key."""
    if "holds" not in body:
        if "absent" in body:
            raise body.where("absent").error(f"option {key}: absent: is the value of holds:; give holds:")
        return (), None
    raw = body["holds"]
    host = spec.family_of("host") or "host"
    pairs = [(None, raw)] if not isinstance(raw, LDict) else list(raw.items())
    texts = {t for _, t in files}
    out = []
    for text, var in pairs:
        w = raw.where(text) if isinstance(raw, LDict) else body.where("holds")
        if text is not None and str(text) not in texts:
            raise w.error(f"option {key}: holds: '{text}' is no file's value in files", str(text))
        if (host, str(var)) not in spec.vars:
            raise w.error(f"option {key}: holds: no host variable '{var}'", str(var))
        out.append((None if text is None else str(text), str(var)))
    absent = body.get("absent")
    if absent is not None:
        for _, var in out:
            t = spec.vars[(host, var)].type
            if show_value(absent) not in {show_value(v) for v in getattr(t, "values", (True, False))}:
                raise body.where("absent").error(f"option {key}: absent: '{absent}' is no value of {var}", str(absent))
    held = {t for t, _ in out}
    if None not in held and any(t not in held for _, t in files):
        missing = next(f for f, t in files if t not in held)
        raise body.where("holds").error(f"option {key}: holds: no variable for {missing}", missing)
    return tuple(out), None if absent is None else show_value(absent)


def _fixed(param, value, w, key) -> str:
    return value_text(param, value, w, f"option {key}")


def _files(body, key, params, args) -> tuple:
    raw = body["files"]
    file_param = next((p for p, v in args.items() if v == "$FILE"), None)
    if isinstance(raw, LList):
        if file_param is not None:
            raise body.where("files").error(f"option {key}: {file_param} takes $FILE: give files as file: value")
        return tuple((str(f), None) for f in raw)
    if not isinstance(raw, LDict) or file_param is None:
        raise body.where("files").error(f"option {key}: files: a list, or file: value when a parameter takes $FILE")
    return tuple((str(f), _fixed(params[file_param], v, raw.where(f), key)) for f, v in raw.items())


def _value(body, key, param, spec) -> tuple:
    raw = body["value"]
    w = body.where("value")
    if raw == "pci_address":
        if not param.is_instance:
            raise w.error(f"option {key}: value pci_address needs $VALUE in an instance parameter (a card), "
                          f"not {param.name}", key)
        return ("pci_address",)
    if isinstance(raw, LDict) and set(raw) == {"bits"}:
        name = str(raw["bits"])
        if name not in (spec.bits or {}):
            raise raw.where("bits").error(f"option {key}: constants.yaml has no bits: {name}", name)
        for mask in spec.bits[name]["masks"]:
            _fixed(param, mask, raw.where("bits"), key)
        return ("bits", name)
    if isinstance(raw, LDict) and "map" in raw and set(raw) <= {"map", "otherwise"}:
        table = raw["map"]
        if not isinstance(table, LDict) or not table:
            raise raw.where("map").error(f"option {key}: map: expected text: value pairs")
        pairs = tuple((str(t), _fixed(param, v, table.where(t), key)) for t, v in table.items())
        otherwise = _fixed(param, raw["otherwise"], raw.where("otherwise"), key) if "otherwise" in raw else None
        return ("map", pairs, otherwise)
    raise w.error(f"option {key}: value is {{map: ...}}, {{bits: NAME}} or pci_address", key)
