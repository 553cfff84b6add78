"""The names of the spec's refusing rules, one format and one parse."""
from __future__ import annotations

import re
from dataclasses import dataclass

GUARD, CHECK, OTHERWISE = "guard", "check", "otherwise"
_RULE_TEXT = re.compile(r"^(?P<owner>\S+?)(?: guard (?P<guard>\d+)|: check (?P<check>\d+)|: (?P<otherwise>otherwise))$")


@dataclass(frozen=True, order=True)
class RuleRef:
    """A rule of the spec that can refuse: guard k of a transition, check k of an action, or
    an action's `otherwise` (no transition applies). Its text is the one name that
    refusals, suites, traces and docs use: 'pf.write_sriov_numvfs#1 guard 2',
    'write_sriov_numvfs: check 1', 'write_sriov_numvfs: otherwise'."""
    owner: str            # the transition's id or the action's name
    kind: str             # GUARD, CHECK or OTHERWISE
    number: int = 0       # 1-based, for GUARD and CHECK

    @classmethod
    def guard(cls, transition_id: str, number: int) -> "RuleRef":
        return cls(transition_id, GUARD, number)

    @classmethod
    def check(cls, action_name: str, number: int) -> "RuleRef":
        return cls(action_name, CHECK, number)

    @classmethod
    def otherwise(cls, action_name: str) -> "RuleRef":
        return cls(action_name, OTHERWISE)

    @classmethod
    def parse(cls, text: str) -> "RuleRef | None":
        m = _RULE_TEXT.match(text)
        if not m:
            return None
        if m.group("guard"):
            return cls.guard(m.group("owner"), int(m.group("guard")))
        if m.group("check"):
            return cls.check(m.group("owner"), int(m.group("check")))
        return cls.otherwise(m.group("owner"))

    @property
    def is_check(self) -> bool:
        """A written check (a guard or an action's check), not the fall-through."""
        return self.kind != OTHERWISE

    def __str__(self) -> str:
        if self.kind == GUARD:
            return f"{self.owner} guard {self.number}"
        if self.kind == CHECK:
            return f"{self.owner}: check {self.number}"
        return f"{self.owner}: otherwise"
