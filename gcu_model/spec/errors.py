"""The one error type a spec problem raises (issue 2, item 3)."""
from __future__ import annotations


class InvalidSpec(Exception):
    """A spec file is malformed: says which file, which line and what is wrong.

    `culprit` is the offending name, construct or value, quoted in the message so a
    reader can search for it.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 culprit: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.culprit = culprit
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class Where:
    """A position in a spec file, carried along so later stages can blame the source."""

    __slots__ = ("file", "line")

    def __init__(self, file: str, line: int | None):
        self.file = file
        self.line = line

    def error(self, message: str, culprit: str | None = None, line_offset: int = 0) -> InvalidSpec:
        line = None if self.line is None else self.line + line_offset
        return InvalidSpec(message, self.file, line, culprit)

    def __repr__(self) -> str:
        return f"{self.file}:{self.line}"
