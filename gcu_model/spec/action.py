"""An action of the machines as text: its name and parameters, one format and one parse.
The spec's command forms (spec/command_forms.py), the engines and every tool around them
write and read actions through this class alone."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Action:
    """A name plus parameters, e.g. write_sriov_numvfs(card=card0, n=4). `str()` is the one
    way an action is written and `Action.parse` the one way it is read back."""
    name: str
    params: tuple = ()     # ((param, display value), ...) in declaration order

    @classmethod
    def of(cls, name: str, **params) -> "Action":
        """Action.of('write_sriov_numvfs', card='card0', n=4): values shown as the model
        shows them (true/false for booleans)."""
        return cls(name, tuple((k, show_value(v)) for k, v in params.items()))

    @classmethod
    def parse(cls, text: str) -> "Action | None":
        """'name(k=v, ...)' (or a bare 'name') -> Action; None when it is not of that form."""
        m = _ACTION_TEXT.match(str(text))
        if not m:
            return None
        name, inner = m.group(1), (m.group(2) or "").strip()
        params = []
        if inner:
            for part in inner.split(","):
                if "=" not in part:
                    return None
                k, v = part.split("=", 1)
                params.append((k.strip(), v.strip()))
        return cls(name, tuple(params))

    def __str__(self) -> str:
        if not self.params:
            return f"{self.name}()"
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in self.params)})"

    @property
    def kwargs(self) -> dict:
        return dict(self.params)

    def param(self, key):
        return dict(self.params)[key]


def show_value(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def action_name(text) -> str:
    """The action name of an action text ('rmmod()' -> 'rmmod'), or the text itself."""
    parsed = Action.parse(text)
    return parsed.name if parsed is not None else str(text).strip()


_ACTION_TEXT = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(?:\((.*)\))?\s*$")
