"""What to do to make a step legal (issue 7): the shortest sequence of runbook lines from
the host's state to one where an action is accepted.

The search is breadth-first over the model's own successor function (the reference
configuration's), so the sequence is a shortest path in the reachability graph. Its
actions are written back as runbook lines (render.py) and played on the host as they
are found: a line may do more than its one action (efsmi waits for the reset to end), so
the search starts again from where the line left the host, until the goal is accepted.
"""
from __future__ import annotations

from collections import deque

from ..core.outcome import Accepted
from ..explore.explorer import compiled_for
from ..prove.enabled import never_accepted
from .parse import parse_runbook
from .render import render

MAX_STATES = 150_000
MAX_LINES = 24
# never part of a fix: events that happen to the host, not commands an operator types
EVENTS = {"ras_card", "ras_vf_only"}
# a fix uses these only when nothing gentler makes the step legal
HEAVY = {"reboot", "uninstall_base", "uninstall_peermem", "uninstall_virt", "pci_remove"}


class NoFix(Exception):
    """No sequence of actions makes the step legal from here."""


def shortest_path(system, start: tuple, accepted, max_states: int = MAX_STATES):
    """Actions (texts) of a shortest path from `start` to a state where `accepted(state)`,
    avoiding a reboot or an uninstall when a path without them exists."""
    try:
        return _bfs(system, start, accepted, max_states, EVENTS | HEAVY)
    except NoFix:
        return _bfs(system, start, accepted, max_states, EVENTS)


def _injected_fault(ga) -> bool:
    """A timed action with a choice no user makes: a reset attempt that fails (the host's
    fault injection, `reset_succeeds` false; RST-2, RST-3)."""
    timed = ga.decl.timed
    return timed is not None and any(hook == "reset_succeeds" and ga.action.kwargs.get(p) == "false"
                                     for p, hook in timed.choose)


def _bfs(system, start, accepted, max_states, banned):
    if accepted(start):
        return []
    expand = compiled_for(system).expand
    texts = [str(ga.action) for ga in system.actions]
    allowed = [ga.action.name not in banned and not _injected_fault(ga) for ga in system.actions]
    parent = {start: None}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        # among equally short paths, prefer the plainer command (defaults, fewer options)
        for label, t in sorted(expand(s)[0], key=lambda e: len(texts[system.labels[e[0]][0]])):
            if t in parent or not allowed[system.labels[label][0]]:
                continue
            parent[t] = (s, texts[system.labels[label][0]])
            if accepted(t):
                path = []
                while parent[t] is not None:
                    t, a = parent[t]
                    path.append(a)
                return path[::-1]
            if len(parent) >= max_states:
                raise NoFix(f"no legal way found within {max_states:,} states")
            queue.append(t)
    raise NoFix("no sequence of actions makes it legal from here")


def fix_lines(player, action: str) -> list:
    """Play, on `player`, the lines that make `action` legal; return them (texts)."""
    system = player.host.system
    ga = system.action(action)
    reason = never_accepted(system, action)
    if reason is not None:
        raise NoFix(f"never allowed in {player.config}: {reason}")

    def accepted(state):
        return isinstance(system.step(state, ga), Accepted)

    lines = []
    for _ in range(MAX_LINES):
        path = shortest_path(system, player.host.state, accepted)
        if not path:
            return lines
        text = render(path[0], player) or f"# @action {path[0]}"
        for line in parse_runbook(text).lines:
            played = player.play(line)
            if played.verdict != "legal":
                # the line did not do what the model's path says: fall back to the action itself
                text = f"# @action {path[0]}"
                player.play(parse_runbook(text).lines[0])
        lines.append(text)
    raise NoFix(f"no legal way found within {MAX_LINES} lines")


def goal_action(player, line, max_states: int = 300):
    """The model action a command line stands for. Played on a replica of the host; when
    it stands for nothing yet (a VF that does not exist, say), played on replicas brought
    to the nearest states first (breadth first), until it names an action."""
    from .play import Player
    system = player.host.system
    expand = compiled_for(system).expand
    texts = [str(ga.action) for ga in system.actions]
    allowed = [ga.action.name not in EVENTS | HEAVY for ga in system.actions]
    seen = {player.host.state: []}
    queue = deque([player.host.state])
    while queue and len(seen) <= max_states:
        state = queue.popleft()
        replica = Player(player.spec, player.config, player.initial)
        for step in player.host.history:
            replica.host.apply(step.action)
        replica.shell.jobs, replica.shell.names = dict(player.shell.jobs), dict(player.shell.names)
        for action in seen[state]:
            replica.play(parse_runbook(render(action, replica) or f"# @action {action}").lines[0])
        played = replica.play(line)
        if played.steps:
            return (played.refusal or played.steps[0]).action
        for label, t in expand(state)[0]:
            if t not in seen and allowed[system.labels[label][0]]:
                seen[t] = seen[state] + [texts[system.labels[label][0]]]
                queue.append(t)
    raise NoFix(f"'{line.text}' stands for no action of the model in any nearby state")
