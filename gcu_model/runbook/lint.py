"""Checking a runbook before touching a machine (issue 7): a verdict per line and, for a
refused one, the requirement IDs and guide sections that forbid it and a fix.

The runbook is played on the reference host. When a line is refused, its fix is found
on a second host brought to the same point (the runbook's earlier lines replayed) and
the lines of the fix played there; the runbook itself goes on from the refusal, as an
operator's session would.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .fix import NoFix, fix_lines
from .play import Player


@dataclass
class Verdict:
    number: int
    text: str
    verdict: str                    # legal, refused, failed, error
    output: str = ""
    errno: str | None = None
    message: str = ""
    action: str | None = None
    reqs: list = field(default_factory=list)
    sections: list = field(default_factory=list)
    fix: list | None = None         # runbook lines, or None when no fix exists
    fix_note: str = ""
    expected: tuple | None = None
    meets_expectation: bool = True

    def as_dict(self) -> dict:
        d = {"line": self.number, "text": self.text, "verdict": self.verdict}
        if self.verdict == "refused":
            d.update({"action": self.action, "errno": self.errno, "message": self.message, "reqs": self.reqs,
                      "sections": self.sections, "fix": self.fix, "fix_note": self.fix_note})
        elif self.verdict in ("failed", "error"):
            d["message"] = self.message
        if self.expected is not None:
            d["expected"] = " ".join(x for x in self.expected if x)
            d["meets_expectation"] = self.meets_expectation
        return d


def lint(spec, lines: list, config: str, initial: dict | None = None, with_fix: bool = True) -> list:
    player = Player(spec, config, initial)
    out = []
    for k, line in enumerate(lines):
        played = player.play(line)
        v = Verdict(line.number, line.text, played.verdict, played.stdout + played.stderr)
        if played.verdict in ("failed", "error"):
            v.message = played.stderr.strip() or played.stdout.strip()
        refusal = played.refusal
        if refusal is not None:
            o = refusal.outcome
            # as the shell shows it: devices by their PCI address, never by the model's labels
            v.errno, v.message, v.action = (getattr(o, "errno", None), player.shell.present(getattr(o, "message", str(o))),
                                            refusal.action)
            v.reqs = list(getattr(o, "reqs", ()))
            v.sections = sorted({part.strip() for r in v.reqs if r in spec.requirements
                                 for part in str(spec.requirements[r].section).split(",") if part.strip()},
                                key=lambda x: [int(n) if n.isdigit() else n for n in x.split(".")])
            if with_fix:
                v.fix, v.fix_note = _fix(spec, lines[:k], config, initial, refusal.action)
        if line.expect is not None:
            v.expected = line.expect
            want = line.expect
            if want[0] == "refused":
                v.meets_expectation = v.verdict == "refused" and (want[1] is None or want[1] == v.errno)
            else:
                v.meets_expectation = v.verdict == {"accepted": "legal"}.get(want[0], want[0])
        out.append(v)
    return out


def _fix(spec, before: list, config, initial, action):
    replica = Player(spec, config, initial)
    for line in before:
        replica.play(line)
    try:
        return fix_lines(replica, action), ""
    except NoFix as exc:
        return None, str(exc)
