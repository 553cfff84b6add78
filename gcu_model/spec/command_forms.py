"""specs/commands.yaml: the guide's command lines and the action each is (issue 16, item 1),
parsed and checked against the machines here. shell/commands.py reads a line through
`CommandForms.match` and writes an action back with `line_of`.

A form is a line of words; a word may hold placeholders (`$PF`, `$N`) that stand for a
parameter's value, and a form may take options (`--vf-num $N`, `--virt-host`) in any order
after its words, each setting parameters away from the form's `args`. A placeholder bound
to an instance parameter is one of surface.yaml's `placeholders` of that family and captures
the instance's name as the user writes it (a PCI address, a device id); a `Names` given by
the caller turns it into the model's label and back (shell/commands.py names cards by PCI
address with no host; the reference host names every device as it is numbered now).
"""
from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field

from .action import Action
from .errors import InvalidSpec
from .types import BoolT, EnumT, IntT
from .yamlfile import LDict, LList

ANY_WORDS = "..."
_PLACEHOLDER = re.compile(r"\$([A-Z][A-Z0-9_]*)")
_VALUE_TEXT = {"int": r"\d+", "instance": r"[0-9A-Za-z:._-]+", "word": r"[^\s/]+"}
# the text an instance's name may be, by its surface.yaml namer (a word holding more than the
# name, /dev/gcu$N*, then reads only that much as the name)
NAMER_TEXT = {"node_number": r"\d+", "vgcu_node": r"\d+", "kmd_node": r"gcu\d+",
              "pci_function": r"(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]",
              "mdev": r"[0-9a-fA-F-]+", "user_name": r"[A-Za-z0-9][A-Za-z0-9_.-]*"}


class LineError(ValueError):
    """A line a form's words match whose options or values are not the form's; `status`: the
    exit status the program gives such a line (the form's `fails:`)."""

    status = 1


class NoDevice(LineError):
    """A line whose words fit a form but whose device (a card, a VF, an id) the host has not."""


class Names:
    """How command lines name instances: `instance(placeholder, text)` is the label of the
    instance the text names (NoDevice saying why when it names none), `name(placeholder,
    label)` the text naming it (None when nothing does now)."""

    def instance(self, placeholder: str, text: str) -> str:
        raise NotImplementedError

    def name(self, placeholder: str, label: str) -> str | None:
        raise NotImplementedError

    def names(self, placeholder: str, label: str) -> list:
        """Every text naming the instance now (the vgcu nodes of a card), the first the name."""
        name = self.name(placeholder, label)
        return [] if name is None else [name]

    def new_instance(self, placeholder: str, text: str) -> str:
        """The label of the instance a line gives the name `text` (`gives:`; "" when the line
        names none); by default, the instance of that name."""
        return self.instance(placeholder, text)


# how usage messages show a device placeholder, by its surface.yaml namer
NAMER_WORDS = {"pci_function": "BDF", "node_number": "ID", "kmd_node": "gcuN", "mdev": "UUID", "user_name": "NAME"}

SAYS = ("start", "done", "dead")


@dataclass(frozen=True)
class CommandOption:
    flag: str                 # --vf-num
    value: str | None         # the placeholder of its value (N for `--vf-num $N`), or None
    sets: tuple               # ((param, text or "$N"), ...)

    @property
    def text(self) -> str:
        return self.flag if self.value is None else f"{self.flag} ${self.value}"


@dataclass(frozen=True)
class CommandForm:
    line: str                 # as the guide writes it
    forms: tuple              # word patterns, the line's own first (without a leading sudo)
    action: str
    args: tuple = ()          # ((param, text value or "$NAME"), ...) in the action's parameter order
    options: tuple = ()       # CommandOption, in the order a line is written with them
    kinds: tuple = ()         # ((placeholder, "int" | "instance" | "word"), ...)
    where: object = None
    defaults: tuple = ()      # ((placeholder, text), ...) for a placeholder a line may leave out
    written: bool = True      # False: a line read as the action, never the one it is written as
    waits: str | None = None  # a timed action the line waits out (the reset it starts ends)
    says: tuple = ()          # ((SAYS key, text with placeholders), ...)
    shown_as: tuple = ()      # ((instance placeholder, how a user reads it: BDF, ID ...), ...)
    ends: tuple | None = None  # (action, ((param, "$NAME"), ...)): a background program's end (kill)
    gives: tuple = ()         # placeholders whose instance the line names anew (qemu -name VM)
    count: tuple = ()         # ((param, placeholder), ...): param is how many words name it
    texts: tuple = ()         # ((instance placeholder, the regex of its names: NAMER_TEXT), ...)
    fails: int = 1            # the exit status of a line refused (docker run: 125)

    @property
    def program(self) -> str:
        return self.forms[0][0]

    def ends_action(self, values: dict) -> Action | None:
        """The action that ends the program a background line started (`ends:`), its
        placeholders the instances the line named (`values`: the line's {param: label})."""
        if self.ends is None:
            return None
        by_placeholder = {v[1:]: values[p] for p, v in self.args if v.startswith("$")}
        name, args = self.ends
        return Action(name, tuple((p, by_placeholder[v[1:]] if v.startswith("$") else v) for p, v in args))

    def instance_args(self) -> dict:
        """param -> the placeholder naming its instance."""
        return {p: v[1:] for p, v in self.args if v.startswith("$") and self._kind(v[1:]) == "instance"}

    def shown_text(self, text: str) -> str:
        """A form's text as a user reads it: a device placeholder as what names it (BDF, ID),
        another by its name (N)."""
        shown = dict(self.shown_as)
        return _PLACEHOLDER.sub(lambda m: shown.get(m.group(1), m.group(1)), text)

    def said(self, key: str, captured: dict) -> str | None:
        text = dict(self.says).get(key)
        return None if text is None else _PLACEHOLDER.sub(lambda m: captured.get(m.group(1), m.group(0)), text)

    @property
    def shown(self) -> str:
        """The action as the form gives it, placeholders left in (docs, messages)."""
        return str(Action(self.action, self.args))

    def _kind(self, name: str) -> str:
        return dict(self.kinds)[name]

    def _word_regex(self, pattern: str):
        """A word with placeholders; a `*` in its other text is any text (vfio-pci,*host=$VF)."""
        def literal(text):
            return ".*".join(re.escape(part) for part in text.split("*"))
        parts, at = [], 0
        for m in _PLACEHOLDER.finditer(pattern):
            parts.append(literal(pattern[at:m.start()]))
            text = dict(self.texts).get(m.group(1)) or _VALUE_TEXT[self._kind(m.group(1))]
            parts.append(f"(?P<{m.group(1)}>{text})")
            at = m.end()
        parts.append(literal(pattern[at:]))
        return re.compile("".join(parts))

    def placeholder_words(self, pattern: tuple) -> list:
        """(placeholder, regex, flag) of each word of the pattern holding one placeholder: a
        name in a word of more (/dev/gcu$N), or a word of its own after a flag (--name $CTR)."""
        out = []
        for k, word in enumerate(pattern):
            found = _PLACEHOLDER.findall(word)
            flag = pattern[k - 1] if k and pattern[k - 1].startswith("-") else None
            if len(found) == 1 and (word != f"${found[0]}" or flag):
                out.append((found[0], self._word_regex(word), flag))
        return out

    def named_once(self, pattern: tuple, words: list, captured: dict) -> dict:
        """{param: str(count)} of `count:`; LineError when the line names a placeholder's word
        twice with different values and the form takes one (a container given two /dev/gcuN)."""
        counts = {ph: p for p, ph in self.count}
        out = {}
        for placeholder, regex, flag in self.placeholder_words(pattern):
            if flag is not None and pattern[pattern.index(flag) + 1] == f"${placeholder}":
                seen = [w for before, w in zip(words, words[1:]) if before == flag]     # --name a --name b
            else:
                seen = [m.group(placeholder) for m in map(regex.fullmatch, words) if m is not None]
            if placeholder in counts:
                if len(set(seen)) != len(seen):
                    raise LineError(f"{self.program}: {', '.join(seen)}: a device named twice")
                out[counts[placeholder]] = str(len(seen))
                captured[f"{placeholder}*"] = tuple(seen)        # each must name the same instance
            elif len(set(seen)) > 1:
                word = next(w for w in pattern if f"${placeholder}" in w)
                raise LineError(f"{self.program}: one {self.shown_text(word).rstrip('*')} a line, not "
                                + ", ".join(seen))
        return out

    def words_match(self, pattern: tuple, words: list, captured: dict, first: bool = True) -> int | None:
        """How many words the pattern matches (all of them without options), filling `captured`."""
        if not pattern:
            return 0 if (self.options or not words) else None
        head, rest = pattern[0], pattern[1:]
        if head == ANY_WORDS:
            for k in range(len(words) + 1):
                n = self.words_match(rest, words[k:], captured, False)
                if n is not None:
                    return k + n
            return None
        if not words:
            return None
        if _PLACEHOLDER.search(head):
            m = self._word_regex(head).fullmatch(words[0])
            if m is None:
                return None
            captured.update(m.groupdict())
        elif not _word(head, words[0], first):
            return None
        n = self.words_match(rest, words[1:], captured, False)
        return None if n is None else n + 1

    def read_options(self, words: list, captured: dict) -> dict:
        """The parameters the option words set ({param: text}); LineError for any other word."""
        program = self.forms[0][0]
        out: dict = {}
        by_flag = {o.flag: o for o in self.options}
        k = 0
        while k < len(words):
            word = words[k]
            flag, _, inline = word.partition("=")
            option = by_flag.get(flag)
            if option is None:
                known = " ".join(f"[{self.shown_text(o.text)}]" for o in self.options)
                raise LineError(f"{program}: unknown option {word} (it takes {known})")
            if option.value is not None:
                if not inline:
                    k += 1
                    inline = words[k] if k < len(words) else ""
                if not re.fullmatch(_VALUE_TEXT[self._kind(option.value)], inline):
                    wanted = "a number" if self._kind(option.value) == "int" else "a value"
                    raise LineError(f"{program}: {flag} needs {wanted}, got " + (f"'{inline}'" if inline else "nothing"))
                if captured.get(option.value, inline) != inline:
                    raise LineError(f"{program}: {flag} names {inline}, but the line named {captured[option.value]}")
                captured[option.value] = inline
            elif inline:
                raise LineError(f"{program}: {flag} takes no value")
            for param, value in option.sets:
                value = captured[value[1:]] if value.startswith("$") else value
                if param in out and out[param][1] != value:
                    raise LineError(f"{program}: {flag} given twice" if out[param][0] == flag else
                                    f"{program}: {out[param][0]} and {flag} exclude each other")
                out[param] = (flag, value)
            k += 1
        return {p: v for p, (_, v) in out.items()}


@dataclass
class CommandForms:
    forms: list = field(default_factory=list)
    option_lines: object = None           # spec/option_lines.py OptionLines (the loader sets it)
    scripts: dict = field(default_factory=dict)   # program -> {flag: {family: action}} (`scripts:`)

    def match(self, words: list, names: Names | None = None, captured_out: dict | None = None) -> tuple | None:
        """(form, {param: text}) for a command line's words (a leading sudo dropped), or None.
        Instance parameters hold the label `names` gives (the text the user wrote when no
        `names`); `captured_out` receives the placeholders' texts. LineError when a form's
        words match but its options or names do not and no later form matches."""
        words = _without_sudo(words)
        problems: list = []            # (words matched, naming?, why) for a form whose words fit but not all
        statuses: list = []            # the `fails:` of each problem's form
        program = None
        for form in self.forms:
            gave = False          # a pattern read a name the line gives: later ones leaving it out are not tried
            for pattern in form.forms:
                if gave and not any(f"${g}" in w for w in pattern for g in form.gives):
                    continue
                captured: dict = {}
                line_words = _split_long_flags(pattern, words)
                n = form.words_match(pattern, line_words, captured)
                if n is None:
                    continue
                gave = gave or any(captured.get(g) for g in form.gives)
                named = False
                try:
                    counted = form.named_once(pattern, line_words, captured)
                    set_by_options = form.read_options(line_words[n:], captured)
                    for placeholder, text in form.defaults:
                        captured.setdefault(placeholder, text)
                    for placeholder in form.gives:          # left out: a new one, named by the host
                        captured.setdefault(placeholder, "")
                    values = {p: (captured[v[1:]] if v.startswith("$") else v) for p, v in form.args}
                    values.update(set_by_options)
                    values.update(counted)
                    named = names is not None
                    for param, placeholder in form.instance_args().items() if named else ():
                        values[param] = (names.new_instance if placeholder in form.gives
                                         else names.instance)(placeholder, values[param])
                        if len({names.instance(placeholder, t) for t in captured.get(f"{placeholder}*", ())}) > 1:
                            raise LineError(f"{form.program}: {', '.join(captured[placeholder + '*'])}: devices of one "
                                            f"{param} a line")
                except LineError as exc:
                    why = (n, named and isinstance(exc, NoDevice), str(exc).removeprefix(f"{form.program}: "))
                    if why not in problems:
                        problems.append(why)
                        statuses.append(form.fails)
                    program = program or form.program
                    continue
                if captured_out is not None:
                    captured_out.update({k: v for k, v in captured.items() if not k.endswith("*")})
                return form, values
        if problems:      # a line whose words fit but names no device says that; else the closest forms
            unnamed = [why for _, no_device, why in problems if no_device]
            most = max(n for n, _, _ in problems)
            best = list(dict.fromkeys(unnamed or [why for n, _, why in problems if n == most]))
            error = (NoDevice if unnamed else LineError)(f"{program}: " + "; ".join(best))
            error.status = next(st for (n, no_device, _), st in zip(problems, statuses)
                                if (no_device if unnamed else n == most))
            raise error
        return None

    def lines_of_program(self, word: str) -> list:
        """The lines of the forms whose program is `word` (a path's file name, a glob's match)."""
        out = []
        for f in self.forms:
            line = f.shown_text(" ".join([f.line, *(f"[{o.text}]" for o in f.options)]))
            if _word(f.program, word, True) and line not in out:
                out.append(line)
        return out

    def line_of(self, name: str, params: dict, names: Names) -> str | None:
        """The line that is action `name` with these parameter texts (instances by label), or
        None when no form writes it now."""
        for form in self.forms:
            if form.action != name or not form.written:
                continue
            texts = dict(params)
            many = {}
            for param, placeholder in form.instance_args().items():
                texts[param] = names.name(placeholder, str(params.get(param)))
            for param, placeholder in form.count:
                label = next(str(params.get(p)) for p, v in form.args if v == f"${placeholder}")
                many[placeholder] = names.names(placeholder, label)[:int(params.get(param, 0))]
                if len(many[placeholder]) != int(params.get(param, 0)):
                    texts[param] = None                # fewer such words now than the action takes
            if any(v is None for v in texts.values()):
                continue
            line = _fill(form, texts, many)
            if line is None:
                continue
            try:
                got = self.match(shlex.split(line), names)
            except LineError:
                got = None
            if got is not None and got[0] is form and all(got[1].get(k) == str(v) for k, v in params.items()):
                return line
        return None


def _split_long_flags(pattern: tuple, words: list) -> list:
    """`--flag=VALUE` as the two words `--flag VALUE` where the pattern has `--flag` as a word
    of its own (getopt_long reads both alike: docker run --device=/dev/gcu0)."""
    flags = {w for w in pattern if w.startswith("--") and "=" not in w and not _PLACEHOLDER.search(w)}
    out = []
    for word in words:
        flag, eq, value = word.partition("=")
        out.extend([flag, value] if eq and flag in flags else [word])
    return out


def _fill(form: CommandForm, params: dict, many: dict | None = None) -> str | None:
    """The form's line with its placeholders and the options these parameters need; a word of
    a `count:` placeholder once for each of its texts in `many`."""
    line_words = []
    for word in shlex.split(form.line):
        found = _PLACEHOLDER.findall(word)
        if many and len(found) == 1 and found[0] in many:
            flag = line_words.pop() if line_words and line_words[-1].startswith("-") else None
            for text in many[found[0]]:
                line_words += [*([flag] if flag else []), word.replace(f"${found[0]}", text)]
        else:
            line_words.append(word)
    bound = {}
    for param, value in form.args:
        if value.startswith("$"):
            if param not in params:
                return None
            bound[value[1:]] = str(params[param])
        elif not form.options and str(params.get(param)) != value:
            return None
    line = _PLACEHOLDER.sub(lambda m: bound.get(m.group(1), m.group(0)), " ".join(line_words) if many else form.line)
    defaults = dict(form.args)
    words = []
    for option in form.options:
        sets = dict(option.sets)
        if option.value is not None:
            param = next(p for p, v in option.sets if v == f"${option.value}")
            if str(params.get(param)) != defaults.get(param):
                words.append(f"{option.flag} {params.get(param)}")
        elif all(str(params.get(p)) == v for p, v in sets.items()) and any(defaults.get(p) != v for p, v in sets.items()):
            words.append(option.flag)
    if _PLACEHOLDER.search(line):
        return None
    return " ".join([line, *words])


def load_command_forms(data, spec, display: str) -> CommandForms:
    if not isinstance(data, LDict):
        raise InvalidSpec("commands.yaml must be a mapping", display, 1)
    for k in data:
        if k not in ("commands", "option_lines", "scripts"):
            raise data.where(k).error(f"commands.yaml: unknown key '{k}' (allowed: commands, option_lines, scripts)",
                                      str(k))
    items = data.get("commands")
    if items is None:
        return CommandForms(scripts=_scripts(data, spec))
    if not isinstance(items, LList):
        raise data.where("commands").error("commands: expected a list")
    out = CommandForms(scripts=_scripts(data, spec))
    seen = {}
    for i, body in enumerate(items):
        w = items.where(i)
        if not isinstance(body, LDict):
            raise w.error("a command: expected a mapping")
        form = _form(body, w, spec)
        if not _PLACEHOLDER.search(form.line) and not form.instance_args():   # else the names decide
            try:
                earlier = out.match(list(form.forms[0]))
            except LineError:
                earlier = None
            if earlier is not None:
                raise body.where("line").error(f"'{form.line}' reads as {earlier[0].shown}: an earlier command "
                                               "matches it first (the first match wins)", form.line)
        for pattern in form.forms:
            key = (tuple(pattern), tuple(sorted(form.instance_args().values())))    # $N or $X: the names decide
            if key in seen:
                raise w.error(f"'{' '.join(pattern)}' means {seen[key]} already", " ".join(pattern))
            seen[key] = form.shown
        out.forms.append(form)
    return out


def _scripts(data, spec) -> dict:
    """`scripts: {PROGRAM: {FLAG: {PLACEHOLDER: ACTION}}}`: a vendor script made of the sysfs
    writes surface.yaml declares (GcuSriovMgr.sh, §9.4): FLAG on a device (a PCI slot, named
    as PLACEHOLDER's pci_function namer names it) is ACTION, written as surface.yaml writes it.
    The action's one instance parameter is the device; any other takes the flag's value."""
    raw = data.get("scripts", LDict())
    if not isinstance(raw, LDict):
        raise data.where("scripts").error("scripts: expected a mapping of program: {flag: {PLACEHOLDER: action}}")
    surface = getattr(spec, "surface", None)
    out: dict = {}
    for program, flags in raw.items():
        if not isinstance(flags, LDict) or not flags:
            raise raw.where(program).error(f"scripts: {program}: expected a mapping of --flag: {{PLACEHOLDER: action}}",
                                           str(program))
        for flag, by_device in flags.items():
            if not str(flag).startswith("--") or not isinstance(by_device, LDict):
                raise flags.where(flag).error(f"scripts: {program}: '{flag}': a --flag with a mapping of "
                                              "PLACEHOLDER: action", str(flag))
            actions: dict = {}
            for word, action in by_device.items():
                ph = surface.placeholders.get(str(word)) if surface is not None else None
                if ph is None or ph.namer != "pci_function":
                    raise by_device.where(word).error(f"scripts: {program} {flag}: '{word}' is no placeholder of "
                                                      "surface.yaml naming a PCI slot (namer: pci_function)", str(word))
                decl = spec.actions.get(str(action))
                if decl is None:
                    raise by_device.where(word).error(f"scripts: {program} {flag}: no action '{action}' in the "
                                                      "machines", str(action))
                instances = [p for p in decl.params if p.is_instance]
                if len(instances) != 1 or instances[0].type != ph.family:
                    raise by_device.where(word).error(f"scripts: {program} {flag}: {action} does not take one "
                                                      f"{ph.family} (${word})", str(action))
                if ph.family in actions:
                    raise by_device.where(word).error(f"scripts: {program} {flag}: a second slot of a {ph.family} "
                                                      f"(${word}); one placeholder a family", str(word))
                actions[ph.family] = str(action)
            out.setdefault(str(program), {})[str(flag)] = actions
    return out


_FORM_KEYS = ("action", "args", "count", "defaults", "ends", "fails", "gives", "line", "match", "options", "says",
              "waits", "written")


def _form(body: LDict, w, spec) -> CommandForm:
    for k in body:
        if k not in _FORM_KEYS:
            raise body.where(k).error(f"a command: unknown key '{k}' (allowed: {', '.join(_FORM_KEYS)})", str(k))
    for k in ("line", "action"):
        if k not in body:
            raise body.where().error(f"a command: missing key '{k}'", k)
    line = str(body["line"])
    patterns = [_split(line, body.where("line"))]
    extra = body.get("match", LList())
    if not isinstance(extra, LList):
        raise body.where("match").error(f"{line}: match: expected a list of command lines")
    patterns += [_split(str(m), body.where("match")) for m in extra]
    action = str(body["action"])
    decl = spec.actions.get(action)
    if decl is None:
        raise body.where("action").error(f"{line}: no action '{action}' in the machines", action)
    params = {p.name: p for p in decl.params}
    args = body.get("args", LDict())
    if not isinstance(args, LDict):
        raise body.where("args").error(f"{line}: args: expected a mapping of parameter: value")
    kinds: dict = {}
    texts = {}
    count = _count(body, line, params)
    for p in decl.params:
        if p.name in count:
            continue
        if p.name not in args:
            how = f" (a {p.type}: a placeholder of the line, such as $PF)" if p.is_instance else ""
            raise body.where("action").error(f"{line}: action {action} needs its parameter {p.name} in args{how}",
                                             p.name)
        texts[p.name] = _arg(p, args[p.name], args.where(p.name), line, kinds, spec)
    for k in args:
        if k not in texts:
            raise args.where(k).error(f"{line}: action {action} has no parameter '{k}'", str(k))
    options = _options(body, params, line, kinds, spec)
    if options and any(ANY_WORDS in pattern for pattern in patterns):
        raise body.where("options").error(f"{line}: a command with options cannot match '{ANY_WORDS}'")
    defaults = _defaults(body, line, kinds)
    gives = _gives(body, line, kinds, spec)
    given = {name for _, v in texts.items() if v.startswith("$") for name in [v[1:]]}
    by_option = {o.value for o in options if o.value is not None} | set(defaults) | set(gives)
    for pattern, where in zip(patterns, [body.where("line")] + [body.where("match")] * (len(patterns) - 1)):
        named = {m.group(1) for word in pattern for m in _PLACEHOLDER.finditer(word)}
        for name in named - set(kinds):
            raise where.error(f"{line}: ${name} is no parameter's value in args", f"${name}")
        for name in (given - by_option) - named:
            raise where.error(f"{line}: '{' '.join(pattern)}' does not say ${name}", " ".join(pattern))
    written = body.get("written", True)
    if not isinstance(written, bool):
        raise body.where("written").error(f"{line}: written: true or false")
    waits = body.get("waits")
    if waits is not None and getattr(spec.actions.get(str(waits)), "timed", None) is None:
        timed = sorted(a for a, d in spec.actions.items() if d.timed is not None)
        raise body.where("waits").error(f"{line}: waits: a timed action the line waits out ({', '.join(timed)}), "
                                        f"not '{waits}'", str(waits))
    if waits is not None and len([v for _, v in texts.items() if v.startswith("$") and kinds.get(v[1:]) == "instance"]) != 1:
        raise body.where("waits").error(f"{line}: a line that waits for a reset names one device (one instance "
                                        "parameter)", str(waits))
    says = body.get("says", LDict())
    if not isinstance(says, LDict) or any(k not in SAYS for k in says):
        raise body.where("says").error(f"{line}: says: a mapping of {', '.join(SAYS)} to the text printed")
    if set(says) - {"done"} and waits is None:
        raise body.where("says").error(f"{line}: says: start and dead are what a line that waits prints "
                                       "(give waits:); a line that does not wait says done: alone")
    for k, text in says.items():
        for m in _PLACEHOLDER.finditer(str(text)):
            if m.group(1) not in kinds:
                raise says.where(k).error(f"{line}: says {k}: ${m.group(1)} is no placeholder of the line",
                                          m.group(0))
    fails = body.get("fails", 1)
    if not isinstance(fails, int) or isinstance(fails, bool) or not 1 <= fails <= 255:
        raise body.where("fails").error(f"{line}: fails: the exit status of a refused line, 1 to 255, not {fails!r}",
                                        str(fails))
    surface = getattr(spec, "surface", None)
    shown_as = tuple((name, NAMER_WORDS.get(surface.placeholders[name].namer, name))
                     for name, kind in sorted(kinds.items()) if kind == "instance")
    return CommandForm(line, tuple(patterns), action, tuple(texts.items()), tuple(options),
                       tuple(sorted(kinds.items())), w, tuple(defaults.items()), written, waits,
                       tuple((str(k), str(v)) for k, v in says.items()), shown_as,
                       _ends(body, line, texts, kinds, spec), gives, tuple(count.items()),
                       tuple((name, NAMER_TEXT[surface.placeholders[name].namer]) for name, kind in sorted(kinds.items())
                             if kind == "instance" and surface.placeholders[name].namer in NAMER_TEXT), fails)


def _count(body, line, params) -> dict:
    """`count: {PARAM: $PLACEHOLDER}`: PARAM (an int) is how many words of the line name the
    placeholder's instance (docker run --device /dev/vgcu$V, once a node); each such word
    names the same instance, by a different text."""
    raw = body.get("count", LDict())
    if not isinstance(raw, LDict):
        raise body.where("count").error(f"{line}: count: expected a mapping of PARAM: $PLACEHOLDER")
    out = {}
    for param, value in raw.items():
        p = params.get(str(param))
        if p is None or p.is_instance or not str(value).startswith("$"):
            raise raw.where(param).error(f"{line}: count: {param}: a number parameter of the action, counting "
                                         "a placeholder of its instance ($V)", str(param))
        out[str(param)] = str(value)[1:]
    args = body.get("args", LDict())
    for param, placeholder in out.items():
        if param in args:
            raise raw.where(param).error(f"{line}: count: {param} is counted, so not in args", param)
        if f"${placeholder}" not in [str(v) for v in args.values()]:
            raise raw.where(param).error(f"{line}: count: ${placeholder} names no instance parameter in args",
                                         f"${placeholder}")
    return out


def _gives(body, line, kinds, spec) -> tuple:
    """`gives: PLACEHOLDER`: the line names that instance anew (a VM by `-name`), a name a user
    chooses (surface.yaml `namer: user_name`); a line may leave it out."""
    raw = body.get("gives")
    if raw is None:
        return ()
    word = str(raw).lstrip("$")
    surface = getattr(spec, "surface", None)
    ph = surface.placeholders.get(word) if surface is not None else None
    if kinds.get(word) != "instance" or ph is None or ph.namer != "user_name":
        raise body.where("gives").error(f"{line}: gives: a placeholder of the line that a user names "
                                        f"(surface.yaml namer: user_name), not '{raw}'", str(raw))
    return (word,)


def _ends(body, line, texts, kinds, spec) -> tuple | None:
    """`ends: {action, args}`: a line ending in `&` starts a program; this action is its end
    (`kill %JOB`), its instance arguments placeholders of the line (UNLD-3, RPM-5)."""
    if "ends" not in body:
        return None
    ends = body["ends"]
    if not isinstance(ends, LDict) or set(ends) != {"action", "args"} or not isinstance(ends["args"], LDict):
        raise body.where("ends").error(f"{line}: ends: {{action: ACTION, args: {{PARAM: $PLACEHOLDER}}}}")
    if not line.rstrip().endswith("&"):
        raise body.where("ends").error(f"{line}: ends: is the end of a program a line starts in the "
                                       "background (the line ends in &)")
    decl = spec.actions.get(str(ends["action"]))
    if decl is None:
        raise ends.where("action").error(f"{line}: ends: no action '{ends['action']}' in the machines",
                                         str(ends["action"]))
    args = ends["args"]
    ours = {v[1:]: p for p, v in texts.items() if v.startswith("$") and kinds.get(v[1:]) == "instance"}
    out = []
    for q in decl.params:
        value = args.get(q.name)
        if value is None:
            raise ends.where("args").error(f"{line}: ends: {decl.name} needs its parameter {q.name}", q.name)
        value = str(value)
        if q.is_instance:
            name = value[1:] if value.startswith("$") else None
            started = {p.name: p.type for p in spec.actions[str(body["action"])].params}
            if name not in ours or started.get(ours[name]) != q.type:
                raise ends.where("args").error(f"{line}: ends: {q.name} is a {q.type}: one of the line's "
                                               f"placeholders naming a {q.type}, not '{value}'", value)
        out.append((q.name, value))
    for k in args:
        if k not in {q.name for q in decl.params}:
            raise args.where(k).error(f"{line}: ends: {decl.name} has no parameter '{k}'", str(k))
    return (decl.name, tuple(out))


def _defaults(body, line, kinds) -> dict:
    """placeholder -> the text a line that leaves it out means (efsmi -r: device 0)."""
    raw = body.get("defaults", LDict())
    if not isinstance(raw, LDict):
        raise body.where("defaults").error(f"{line}: defaults: expected a mapping of PLACEHOLDER: text")
    out = {}
    for name, text in raw.items():
        if str(name) not in kinds:
            raise raw.where(name).error(f"{line}: defaults: {name} is no placeholder of the line", str(name))
        if not re.fullmatch(_VALUE_TEXT[kinds[str(name)]], str(text)):
            raise raw.where(name).error(f"{line}: defaults: '{text}' cannot be ${name}", str(text))
        out[str(name)] = str(text)
    return out


def _options(body, params, line, kinds, spec) -> list:
    raw = body.get("options", LDict())
    if not isinstance(raw, LDict):
        raise body.where("options").error(f"{line}: options: expected a mapping of option: {{parameter: value}}")
    out = []
    for text, sets in raw.items():
        ow = raw.where(text)
        words = str(text).split()
        if not words or not words[0].startswith("-") or len(words) > 2 or \
                (len(words) == 2 and not _PLACEHOLDER.fullmatch(words[1])):
            raise ow.error(f"{line}: option '{text}': expected --flag or --flag $VALUE", str(text))
        value = words[1][1:] if len(words) == 2 else None
        if not isinstance(sets, LDict):
            raise ow.error(f"{line}: option {text}: expected a mapping of parameter: value", str(text))
        done = []
        for param, v in sets.items():
            if param not in params:
                raise sets.where(param).error(f"{line}: option {text}: no parameter '{param}'", str(param))
            shown = _arg(params[param], v, sets.where(param), line, kinds, spec)
            if shown.startswith("$") and shown[1:] != value:
                raise sets.where(param).error(f"{line}: option {text} does not take {shown}", shown)
            done.append((str(param), shown))
        if value is not None and not any(v == f"${value}" for _, v in done):
            raise ow.error(f"{line}: option {text}: no parameter takes ${value}", str(text))
        if any(o.flag == words[0] for o in out):
            raise ow.error(f"{line}: option {words[0]} twice", words[0])
        out.append(CommandOption(words[0], value, tuple(done)))
    return out


def _arg(param, value, w, line, kinds, spec) -> str:
    """A parameter's value in args or an option: its text, or a placeholder ($N) typed by it;
    an instance's placeholder is one of surface.yaml's of its family."""
    if isinstance(value, str) and _PLACEHOLDER.fullmatch(value):
        kind = "instance" if param.is_instance else "int" if isinstance(param.type, IntT) else "word"
        name = value[1:]
        if param.is_instance:
            known = getattr(getattr(spec, "surface", None), "placeholders", None) or {}
            ph = known.get(name)
            if ph is None or ph.family != param.type:
                fits = sorted(f"${k}" for k, p in known.items() if p.family == param.type)
                raise w.error(f"{line}: {value} is no placeholder of surface.yaml naming a {param.type}"
                              f" ({', '.join(fits) or 'it has none'})", value)
        if kinds.get(name, kind) != kind:
            raise w.error(f"{line}: {value} stands for values of two kinds", value)
        kinds[name] = kind
        return value
    if param.is_instance:
        raise w.error(f"{line}: {param.name} names an instance ({param.type}); a command line names it with a "
                      "placeholder such as $PF", param.name)
    return value_text(param, value, w, line)


def value_text(param, value, w, line) -> str:
    t = param.type
    if isinstance(t, EnumT):
        if value not in t.values:
            raise w.error(f"{line}: '{value}' is not a value of {param.name} (one of {', '.join(t.values)})", str(value))
        return str(value)
    if isinstance(t, BoolT):
        if not isinstance(value, bool):
            raise w.error(f"{line}: {param.name} is true or false, not '{value}'", str(value))
        return str(value).lower()
    if isinstance(t, IntT) and (isinstance(value, bool) or not isinstance(value, int)):
        raise w.error(f"{line}: {param.name} is a number, not '{value}'", str(value))
    return str(value)


def _split(line: str, w) -> tuple:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise w.error(f"'{line}': {exc}", line) from None
    words = _without_sudo(words)
    if not words:
        raise w.error("an empty command line", line)
    return tuple(words)


def _without_sudo(words):
    words = list(words)
    while words and words[0] == "sudo":
        words = words[1:]
    return words


def _word(pattern: str, word: str, program: bool) -> bool:
    """A glob, or the program by its file name, matches the file name of a word with a path
    (/usr/src/.../sign-file, ./enflame-1.0.run); any other word matches itself."""
    glob = any(c in pattern for c in "*?[")
    subject = word.rsplit("/", 1)[-1] if (glob or program) and "/" not in pattern else word
    return fnmatch.fnmatchcase(subject, pattern) if glob else subject == pattern
