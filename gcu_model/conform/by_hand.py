"""The guide's command line for each step of a suite (issue 16, item 5), so that a person can
run a case by hand and `gcu-model conform --via surface` can drive a target through its
commands, sysfs files and clock instead of `apply`.

While a case is generated, a second reference host plays it as an operator would: each
step's action is written as its runbook line (runbook/render.py) and that line is played
through the host's shell. The line becomes the step's `command` when it is exactly that
one action, with the same outcome, and leaves both hosts alike. A step with no command
form (a program's ioctl, a refusal no command reaches) is applied to the operator's host as
it is to the suite's, and the case goes on by hand. A line that does more (`efsmi -r`
waits for the reset it starts, so the resets' own steps happen within it) ends the case's
commands there: the later steps are actions only.
"""
from __future__ import annotations

from ..runbook.parse import parse_runbook
from ..runbook.play import Player
from ..runbook.render import render


class ByHand:
    def __init__(self, spec, config: str):
        self.player = Player(spec, config)
        self.live = False

    def start(self, choose: dict) -> None:
        """A new case from the initial state `choose` picks."""
        self.player.reset(choose)
        self.live = True

    def command(self, action: str, got, suite_host) -> str | None:
        """The line that is `action` here, played on the operator's host; None when there is
        none (then the action was applied there, or the case is by action from now on)."""
        if not self.live:
            return None
        host = self.player.host
        line = render(action, self.player)
        if line is None or line.lstrip().startswith("#"):       # no command, or an annotation (@wait, @ras)
            host.apply(action)
            self.live = self._alike(suite_host)
            return None
        played = self.player.play(parse_runbook(line).lines[0])
        one = played.steps[0] if len(played.steps) == 1 else None
        self.live = (one is not None and one.action == action and one.accepted == got.accepted
                     and getattr(one.outcome, "errno", None) == getattr(got.outcome, "errno", None)
                     and self._alike(suite_host))
        return line if self.live else None

    def _alike(self, suite_host) -> bool:
        host = self.player.host
        mine, theirs = host.device, suite_host.device
        return (host.state == suite_host.state and host.clock_ms == suite_host.clock_ms
                and mine.cards == theirs.cards and mine.detached == theirs.detached
                and mine.driver_override == theirs.driver_override and mine.mdev_holders == theirs.mdev_holders)
