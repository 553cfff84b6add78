"""The guide's command line for each step of a suite (issue 16, item 5), so that a person can
run a case by hand and `gcu-model conform --via surface` can drive a target through its
commands, sysfs files and clock instead of `apply`: time passing (a runbook's `@wait`) is
`sleep SECONDS`, since a step that time brings takes its time on the host however it comes.

While a case is generated, a second reference host plays it as an operator would: each
step's action is written as its runbook line (runbook/render.py) and that line is played
through the host's shell. The line becomes the step's `command` when it is exactly that
one action, with the same outcome, and leaves both hosts alike. A step with no command
form (a program's ioctl, a refusal no command reaches) is applied to the operator's host as
it is to the suite's, and the case goes on by hand. A line that does more (`efsmi -r` waits
for the reset it starts) is that step's command when the suite's next steps are what the
line went on to do: they are marked `within` (a target driven by its commands does them
inside the line; generate.py takes the marks back if the suite goes another way). When
the hosts no longer agree, the case's commands end there: the later steps are actions only.
"""
from __future__ import annotations

import re

from ..runbook.parse import parse_runbook
from ..runbook.play import Player
from ..runbook.render import render


class ByHand:
    def __init__(self, spec, config: str, ahead: bool = False):
        """`ahead`: the caller knows the steps to come (a suite), so a line that does more may
        be a step's command, its later steps `within` it; lockstep draws its next step at
        random and keeps to lines of one action."""
        self.player = Player(spec, config)
        self.ahead = ahead
        self.live = False
        self.pending: list = []          # (action, accepted) a line did that the suite has yet to

    def start(self, choose: dict) -> None:
        """A new case from the initial state `choose` picks."""
        self.player.reset(choose)
        self.live = True
        self.pending = []

    def within(self, action: str, got, suite_host) -> bool | None:
        """While a line's later steps are pending: True when `action` is the next of them (and,
        at the last, the hosts agree), False when the suite went another way (the case is by
        action from now on); None when no line is pending."""
        if not self.pending:
            return None
        if self.pending.pop(0) != (action, got.accepted):
            self.pending, self.live = [], False
            return False
        if not self.pending and not self._alike(suite_host):
            self.live = False
            return False
        return True

    def command(self, action: str, got, suite_host) -> str | None:
        """The line that is `action` here, played on the operator's host; None when there is
        none (then the action was applied there, or the case is by action from now on). A
        line that did more leaves its later steps in `pending`."""
        if not self.live:
            return None
        host = self.player.host
        line = render(action, self.player)
        wait = re.fullmatch(r"#\s*@wait\s+(\d+)", line.strip()) if line else None
        if wait:                                                 # time passing: `sleep`, as by hand
            ms = int(wait.group(1))
            line = f"sleep {ms // 1000}.{ms % 1000:03d}"
        if line is None or line.lstrip().startswith("#"):       # no command, or an annotation (@ras)
            host.apply(action)
            self.live = self._alike(suite_host)
            return None
        played = self.player.play(parse_runbook(line).lines[0])
        self.live = (self._first_step_is(played, action, got)
                     and (self._just_that(played, suite_host) or self._more_to_come(played)))
        self.pending = [(str(s.action), s.accepted) for s in played.steps[1:]] if self.live else []
        return line if self.live else None

    @staticmethod
    def _first_step_is(played, action, got) -> bool:
        """The line did `action` first, with the suite's outcome, and its exit status says so."""
        first = played.steps[0] if played.steps else None
        return (first is not None and first.action == action and first.accepted == got.accepted
                and getattr(first.outcome, "errno", None) == getattr(got.outcome, "errno", None)
                and (played.status == 0) == got.accepted)

    def _just_that(self, played, suite_host) -> bool:
        """The line was that one step and left both hosts alike."""
        return len(played.steps) == 1 and self._alike(suite_host)

    def _more_to_come(self, played) -> bool:
        """The line did more (efsmi waits out its reset), all accepted, and the suite's next
        steps are known ahead to compare with what it did."""
        return len(played.steps) > 1 and self.ahead and all(s.accepted for s in played.steps)

    def _alike(self, suite_host) -> bool:
        host = self.player.host
        mine, theirs = host.device, suite_host.device
        return (host.state == suite_host.state and host.clock_ms == suite_host.clock_ms
                and mine.cards == theirs.cards and mine.detached == theirs.detached
                and mine.driver_override == theirs.driver_override and mine.mdev_holders == theirs.mdev_holders)
