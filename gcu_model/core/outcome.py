"""Actions and their outcomes: refusals are data, not exceptions (issue 2, item 4)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..spec.action import Action, action_name, show_value  # noqa: F401  (the names the engines import from here)


@dataclass(frozen=True)
class Accepted:
    state: tuple
    observations: tuple = ()
    transition: str = ""        # id of the transition that fired
    accepted = True

    def summary(self) -> str:
        return "accepted" + (": " + "; ".join(self.observations) if self.observations else "")


@dataclass(frozen=True)
class Refused:
    state: tuple                # unchanged
    errno: str
    message: str
    rule: str = ""              # the transition, check or action that refused
    reqs: tuple = field(default=())
    refusal: int = field(default=-1, compare=False)    # its id in System.refusals
    accepted = False

    def summary(self) -> str:
        return f"refused {self.errno}: {self.message}"


@dataclass(frozen=True)
class OutOfBounds:
    """The action would take a counter past the configuration's exploration bound.

    Not a behaviour of the driver: the model is bounded here, so the explorer neither
    follows nor records it as a refusal."""
    state: tuple
    message: str
    accepted = False
    errno = None

    def summary(self) -> str:
        return f"beyond the model's bound: {self.message}"
