"""Value types of spec variables, parameters and constants (issue 2, item 2).

Every value is stored in a state as a small int or bool: enums by the index of their
value, small sets as bit masks over their element enum, so states stay small tuples.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoolT:
    def describe(self) -> str:
        return "bool"


@dataclass(frozen=True)
class IntT:
    """A bounded int in the explorer; the bounds may name config constants."""
    lo: object = None   # int | str (constant name) | None
    hi: object = None

    def describe(self) -> str:
        return "int"


@dataclass(frozen=True)
class EnumT:
    name: str
    values: tuple
    # an open enum (constants.yaml `open_enums:`): users may give any value of `syntax`;
    # `other` is the value that stands for every one the rules leave unnamed
    other: str | None = None
    syntax: str | None = None

    @property
    def named(self) -> tuple:
        """The values rules may name (all but `other`)."""
        return tuple(v for v in self.values if v != self.other)

    def describe(self) -> str:
        return f"enum {self.name} {{{', '.join(self.values)}}}"

    def index(self, value: str) -> int:
        return self.values.index(value)


@dataclass(frozen=True)
class SetT:
    """A small set of enum values (a bit mask) or, for constants only, of ints."""
    elem: object  # EnumT | IntT

    def describe(self) -> str:
        return f"set of {self.elem.describe()}"


BOOL = BoolT()
INT = IntT()


def same_kind(a, b) -> bool:
    """Types that may be compared with == / assigned to one another."""
    if isinstance(a, IntT) and isinstance(b, IntT):
        return True
    if isinstance(a, EnumT) and isinstance(b, EnumT):
        return a.name == b.name
    if isinstance(a, SetT) and isinstance(b, SetT):
        return same_kind(a.elem, b.elem)
    return type(a) is type(b)


@dataclass(frozen=True)
class RefT:
    """A variable that names one instance of a family, or none (stored as -1)."""
    family: str

    def describe(self) -> str:
        return f"ref[{self.family}]"
