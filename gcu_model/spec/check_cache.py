"""Which spec trees passed the configurations' static checks, by digest.

`gcu-model check` grounds every configuration to look for ambiguous transitions and ones
that can never fire (spec/static_checks.py); a tree that passed once need not be ground
again. The key covers the spec's bytes and the code that grounds and checks it (spec/ and
core/), so an edit of either checks again (spec/disk_cache.py: where, and how to turn it off).
"""
from __future__ import annotations

from . import disk_cache

_CHECKER_CODE = ("spec", "core")        # the packages whose code decides what passes


def key(spec) -> str | None:
    return disk_cache.key("static", spec, _CHECKER_CODE)


def passed(key: str) -> bool:
    return disk_cache.load(key) == "passed"


def record(key: str) -> None:
    disk_cache.store(key, "passed")
