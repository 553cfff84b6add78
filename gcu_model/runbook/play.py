"""Playing a runbook on the reference host, line by line, with a verdict per line (issue 7).

Verdicts:
- `legal`: the line ran, and every action of the model it stands for was accepted;
- `refused`: the model refused one of its actions (the errno, requirement IDs and guide
  sections come from the refusal);
- `failed`: it exited non-zero for a reason outside the model (a `grep` that found
  nothing, a `cat` of a missing file, a number sysfs cannot parse);
- `error`: the line is not one the reference host knows (unknown command, bad options).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core.outcome import Accepted
from ..reference.host import HostError, ReferenceHost
from ..reference.shell import Shell
from .parse import Line


@dataclass
class Played:
    line: Line
    verdict: str
    status: int
    stdout: str = ""
    stderr: str = ""
    steps: list = field(default_factory=list)      # host Steps the line applied, in order

    @property
    def refusal(self):
        return next((s for s in self.steps if not s.accepted), None)


class Player:
    def __init__(self, spec, config: str, initial: dict | None = None):
        self.spec = spec
        self.config = config
        self.initial = dict(initial or {})
        self.host = ReferenceHost(spec, config, self.initial)
        self.shell = Shell(self.host)
        self.variables: dict = {}          # NAME=value lines, for $NAME / ${NAME} in later ones (§9.5's $vf_bdf)

    def reset(self, initial: dict | None = None) -> None:
        """Start over from the initial state `initial` picks, with a fresh shell (no jobs, no
        names, no variables), without building the host's machines again."""
        self.initial = dict(initial or {})
        self.host.reset_to(self.initial)
        self.shell = Shell(self.host)
        self.variables = {}

    def play(self, line: Line) -> Played:
        before = len(self.host.history)
        try:
            status, out, err = self._run(line)
        except HostError as exc:
            return Played(line, "error", 2, "", f"{exc}\n")
        steps = self.host.history[before:]
        refused = any(not s.accepted for s in steps)
        if refused:
            verdict = "refused"
        elif status in (2, 127) and not steps:
            verdict = "error"
        elif status != 0:
            verdict = "failed"
        else:
            verdict = "legal"
        return Played(line, verdict, status, out, err, steps)

    def _run(self, line: Line):
        host = self.host
        if line.kind == "command":
            m = re.fullmatch(r"([A-Za-z_]\w*)=(\S*)", line.text)
            if m:
                self.variables[m.group(1)] = m.group(2)
                return 0, "", ""
            text = re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda v: self.variables.get(v.group(1), v.group(0)), line.text)
            r = self.shell.run(text)
            return r.status, r.stdout, r.stderr
        if line.kind == "wait":
            fired = host.advance(line.args[0])
            return 0, self.shell.present("".join(f"{ln}\n" for s in fired for ln in s.log)), ""
        if line.kind == "ras":
            ip, device = line.args
            found = self.shell.fs.devices().get(device if device.count(":") == 2 else f"0000:{device}")
            if found is None:
                raise HostError(f"@ras: no device {device} on this host")
            step = host.ras(ip, found[1].label)
            if isinstance(step.outcome, Accepted):
                return 0, self.shell.present("".join(f"{ln}\n" for ln in step.log)), ""
            return 1, "", self.shell.present(f"{getattr(step.outcome, 'message', step.outcome)}\n")
        if line.kind == "action":
            step = host.apply(line.args[0])
            if step.accepted:
                return 0, self.shell.present("".join(f"{ln}\n" for ln in step.log)), ""
            return 1, "", self.shell.present(f"{getattr(step.outcome, 'message', step.outcome)}\n")
        raise HostError(f"unknown line kind {line.kind}")
