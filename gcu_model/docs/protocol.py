"""protocol.md: the adapter protocol's vocabulary, as the spec and the reference host give it
(issue 7, "the adapter protocol reference").

The wire format (ops, fields, errors) is fixed code and is described by hand in
docs/adapter-protocol.md and its JSON Schema. What an implementation must understand
inside those messages changes with the spec, so it is generated here:

  reset     the configurations, and the variables whose initial value `initial` may pick
  apply     every action, its parameters, the errnos it may be refused with, its requirements
  ras       the IP blocks of constants.yaml `device: ip_blocks` and the event each becomes
  observe   every state variable and quantity, by label pattern
  sysfs     every file the reference host serves, found by walking its sysfs along the
            explorer's shortest path to each goal of each configuration, with a sample
            read, whether it is writable, and what it means (specs/surface.yaml)
"""
from __future__ import annotations


from ..core.outcome import Action
from ..core.system import System
from ..explore.explorer import explore
from ..reference.host import ReferenceHost
from ..reference.protocol import OPS, PROTOCOL_VERSION
from ..reference.sysfs import Sysfs, SysfsError
from .generate import cell, code, once_per_spec, reqs_text, table, type_text, value_text


def protocol_page(spec) -> list:
    return ["# Adapter protocol reference", "",
            f"Protocol version {PROTOCOL_VERSION}; ops: {', '.join(code(op) for op in OPS)}. The wire format",
            "(requests, responses, errors) is [../adapter-protocol.md](../adapter-protocol.md) with its JSON",
            "Schema; this page is the vocabulary inside those messages, derived from the spec and the",
            "reference host, so it is what an implementation under test must understand.",
            *_configs(spec), *_actions(spec), *_ras(spec), *_observe(spec), *_sysfs(spec), *_commands(spec)]


# ------------------------------------------------------------ reset
def initial_choices(system) -> dict:
    """label -> the values it takes among the initial states, for the labels that differ."""
    seen: dict = {}
    for state in system.initial:
        for label, value in system.describe(state).items():
            seen.setdefault(label, [])
            if value not in seen[label]:
                seen[label].append(value)
    return {label: values for label, values in seen.items() if len(values) > 1}


def _configs(spec) -> list:
    rows = []
    every = once_per_spec(spec, "initial_choices",
                          lambda: {name: initial_choices(ReferenceHost(spec, name).system) for name in spec.configs})
    for name, config in spec.configs.items():
        choices = every[name]
        rows.append([code(name), cell(config.description),
                     "<br>".join(f"{code(label)}: {', '.join(value_text(v) for v in values)}"
                                 for label, values in sorted(choices.items())) or "one initial state"])
    return ["", "## `reset`: configurations and initial states", "",
            "`config` names one of these; `initial` picks an initial state by the variables that tell",
            "them apart (the first value is the default).", "",
            *table(["config", "what it is", "`initial` may set"], rows)]


# ------------------------------------------------------------ apply
def _domain(param, spec) -> str:
    if isinstance(param.type, str):                       # an instance of a family
        return f"a {param.type} label"
    dom = param.domain
    if dom is None:
        return type_text(param.type)
    if dom[0] == "range":
        return f"{dom[1]}..{dom[2]}"
    if dom[0] == "values":
        return ", ".join(value_text(v) for v in dom[1])
    if dom[0] == "constant":
        return f"the configuration's `{dom[1]}`"
    return type_text(param.type)


def refusal_errnos(spec, action) -> list:
    """Every errno the spec may refuse the action with: its checks, its transitions'
    guards, and its `otherwise` (no transition from the current state)."""
    errnos = {c.errno for c in action.checks} | {action.otherwise_errno}
    errnos |= {c.errno for t in spec.transitions if t.trigger == action.name for c in t.checks}
    return sorted(e for e in errnos if e)


def _actions(spec) -> list:
    lines = ["", "## `apply`: actions", "",
             "An action is written `name(param=value, ...)` with every parameter, in this order; an",
             "instance is named by its label (`card0`, `card0.vf1`, `vm0`, `ctr0`). Which actions a",
             "configuration offers depends on its constants (an action outside it is `ok: false`).",
             "Refused with: every errno the spec may answer it with."]
    for m in spec.machines.values():
        rows = []
        for a in (a for a in spec.actions.values() if a.machine == m.name):
            params = ", ".join(f"{p.name}={_domain(p, spec)}" for p in a.params)
            trans_reqs = {r for t in spec.transitions if t.trigger == a.name for r in t.reqs}
            rows.append([code(f"{a.name}({', '.join(p.name for p in a.params)})"), cell(params), cell(a.doc),
                         cell(", ".join(refusal_errnos(spec, a))), reqs_text(sorted(set(a.reqs) | trans_reqs))])
        if rows:
            lines += ["", f"### {m.name}", "", *table(["action", "parameters", "what it is", "refused with", "reqs"],
                                                      rows)]
    return lines


# ------------------------------------------------------------ ras
def _ras(spec) -> list:
    blocks = spec.device.get("ip_blocks", {})
    if not blocks:
        return []
    event = {"vf_only": "`ras_vf_only(vf=VF)`: `device` names the VF",
             "vf_shared": "`ras_card(card=CARD, ip=vf_shared)`: `device` names the card or one of its VFs",
             "pf_only": "`ras_card(card=CARD, ip=pf_only)`: `device` names the card or one of its VFs"}
    by_class: dict = {}
    for ip, cls in blocks.items():
        by_class.setdefault(cls, []).append(ip)
    return ["", "## `ras`: IP blocks", "",
            "`ip` is one of these blocks (constants.yaml `device: ip_blocks`, SRIOV-4); the event it",
            "becomes decides what is reset (RST-5, RST-6).", "",
            *table(["class", "blocks", "event"],
                   [[code(cls), cell(", ".join(ips)), event.get(cls, "")] for cls, ips in by_class.items()])]


# ------------------------------------------------------------ observe
def _observe(spec) -> list:
    rows = [[code(f"{_label(spec, v.family)}.{v.name}"), cell(type_text(v.type)), code(v.machine), cell(v.doc)]
            for v in spec.vars.values()]
    qrows = [[code(f"{_label(spec, q.family)}.{q.name}"), cell(q.doc), reqs_text(q.reqs)]
             for q in spec.quantities.values()]
    return ["", "## `observe`: variables and quantities", "",
            "`state` holds every variable of every instance by label, `quantities` every quantity;",
            "a configuration without an instance has none of its labels.", "",
            *table(["label", "type", "machine", "meaning"], rows), "",
            *table(["quantity", "meaning", "reqs"], qrows)]


def _label(spec, family: str) -> str:
    fam = spec.families[family]
    if fam.parent is None:
        return family if fam.count == 1 else f"{family}N"
    return f"{_label(spec, fam.parent)}.{family}N"


# ------------------------------------------------------------ sysfs
def sysfs_walk(spec) -> dict:
    """pattern -> {"read": first sample text or None, "write": bool, "products": set}, over the
    files the reference host serves in every state of the explorer's shortest path to each
    goal of each configuration (the states a user most wants to see)."""
    found: dict = {}
    for name, config in spec.configs.items():
        system = System(spec, name)
        result = explore(system, graph=False)
        host = ReferenceHost(spec, name)
        fs = Sysfs(host)
        choices = set(initial_choices(system))
        for node in sorted({n for n in result.goals.values() if n is not None}):
            start = system.describe(result.states[result.root_of(node)])
            host.reset_to({label: start[label] for label in sorted(choices)})
            _visit(fs, config, found)
            for action in result.path_to(node):
                if not host.apply(str(action)).accepted:    # the reference runs the same rules
                    raise RuntimeError(f"{name}: the reference host refuses {action}, a step of the "
                                       "explorer's path to a goal")
                _visit(fs, config, found)
    return found


def _visit(fs, config, found):
    devices = fs.devices()
    nodes = {**fs.gcu_nodes(), **fs.vf_nodes()}
    for path, pattern in fs.patterns().items():
        entry = found.setdefault(pattern, {"read": None, "write": False, "products": set()})
        entry["products"].update(_products_of(path, devices, nodes, config, fs.host.roles))
        _, readable, writable = fs.mode(path)
        entry["write"] |= writable
        if readable and entry["read"] is None:
            try:
                entry["read"] = fs.read(path)
            except SysfsError as exc:
                entry["read"] = exc.errno


def _products_of(path, devices, nodes, config, roles) -> set:
    """The product of the card a file belongs to (a VF's: its card's), or of every card
    of the host for the host's own files (a host may mix products, issue 8)."""
    cards = [roles.card_index(i) for bdf, (_, i) in devices.items() if f"/{bdf}/" in path + "/"]
    cards += [roles.card_index(label) for node, label in nodes.items() if f"/{node}/" in path + "/"]
    count = len(config.values["product"])
    return {config.value_of("product", c) for c in (cards or range(count))}


def _sample(text) -> str:
    if text is None:
        return ""
    first = text.splitlines()[0] if text.strip() else "(empty)"
    more = " ..." if len(text.splitlines()) > 1 else ""
    return code(first[:48]) + more


def _sysfs(spec) -> list:
    found = once_per_spec(spec, "sysfs_walk", lambda: sysfs_walk(spec))
    rows = []
    for pat in sorted(found):
        entry = found[pat]
        read_doc, write_doc = spec.surface.describe(pat, spec) or ("(undocumented)", "(undocumented)")
        rows.append([code(pat), ", ".join(sorted(entry["products"])),
                     (_sample(entry["read"]) + (f": {read_doc}" if read_doc else "")) if entry["read"] is not None
                     else "write-only (EACCES)",
                     write_doc if entry["write"] else "read-only (EACCES)"])
    return ["", "## The reference host's sysfs", "",
            "Every file the reference host serves in the states on the explorer's shortest path to",
            "each goal of each configuration (`read`, `write`, `list` and the FUSE mount see the same",
            "tree). A file exists only while what provides it does; a missing one is ENOENT. The",
            "sample is the first read seen. PF and VF stand for PCI addresses (card N is",
            "`0000:0(N+1):00.0`, its VF j function j+1), gcuN for the KMD's device N (VER-4), gcuX",
            "for a VF's node on the host KMD, UUID for an mdev.", "",
            *table(["path", "products", "read (sample: meaning)", "write"], rows)]


def _commands(spec) -> list:
    """specs/commands.yaml: the command lines of `run` and the action each is."""
    forms = spec.commands.forms if spec.commands is not None else []
    if not forms:
        return []
    rows = [[code(f.line), "<br>".join(code(" ".join(m)) for m in f.forms[1:]), code(f.shown),
             "<br>".join([code(o.text) + ": " + (", ".join(f"{k}={v}" for k, v in o.sets) or "no parameter")
                          for o in f.options] + [f"${k} left out: {v}" for k, v in f.defaults]),
             "; ".join(filter(None, [f"waits out `{f.waits}`, then says " + ", ".join(
                 f"{k}: {code(v)}" for k, v in f.says) if f.waits else "", "" if f.written else "read only",
                 f"runs until `kill %JOB`, which is {code(str(f.ends_action({p: v for p, v in f.args})))}"
                 if f.ends else ""])),
             ", ".join(spec.actions[f.action].reqs)] for f in forms]
    return ["", "## `run`: the guide's command lines", "",
            "Each line (a leading `sudo` is optional) is the one action shown; the other forms mean the",
            "same (a word with `*` is a glob on the file name, `...` any number of words; `$PF` is a card's",
            "PCI address, `$N` a card's and `$X` a VF's device id as the host numbers them now, `$N` of an",
            "option a number). Options follow the line's words in any order (`--flag N` or `--flag=N`) and",
            "set the parameters shown. Among forms whose words are alike, the first whose device the host",
            "has wins. A *read only* line is never printed for its action. A sysfs write `echo V > PATH`",
            "is the action of the sysfs table above. Lines the shell reads by its own code (docker, qemu,",
            "GcuSriovMgr, pcimem, sleep, lines in a VM) are described in `docs/runbooks.md`.", "",
            *table(["line", "also", "action", "options", "returns", "reqs"], rows), *_option_lines(spec)]


def _option_lines(spec) -> list:
    """commands.yaml option_lines: the module options an options-file line sets."""
    lines = spec.commands.option_lines if spec.commands is not None else None
    if lines is None or not lines.entries:
        return []
    rows = []
    for e in lines.entries:
        kind = e.value[0]
        if kind == "pci_address":
            values = "a card's PCI address"
        elif kind == "bits":
            masks = lines.bits[e.value[1]]["masks"]
            values = f"a word of `bits: {e.value[1]}` (" + ", ".join(f"{lines.text_of(e.key, m)}: {m}" for m in masks) + ")"
        else:
            values = ", ".join(f"{t}: {v}" for t, v in e.value[1])
            if e.value[2] is not None:
                values += f"; any other number: {e.value[2]}"
        files = "<br>".join(code(f) + (f" ({t})" if t is not None else "") for f, t in e.files)
        rows.append([code(e.key), files, code(str(Action(e.action, e.args))), values,
                     ", ".join(spec.actions[e.action].reqs)])
    return ["", "## `run`: options-file lines", "",
            "`echo 'options enflame \"KEY=VALUE[,KEY2=VALUE2]\"' > FILE` (`>>` appends): each key below is the",
            "action shown (`$FILE` the file's value, `$VALUE` the value read); any other key is kept as",
            "text in these files (PARAM-1).", "",
            *table(["key", "files", "action", "values", "reqs"], rows)]
