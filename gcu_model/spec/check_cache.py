"""Which spec trees passed the configurations' static checks, by digest.

`gcu-model check` grounds every configuration to look for ambiguous transitions and ones
that can never fire (spec/static_checks.py); a tree that passed once need not be ground
again. The key covers the spec's bytes and the code that grounds and checks it, so an
edit of either checks again. The cache lives in $GCU_MODEL_CACHE, else
$XDG_CACHE_HOME/gcu-model, else ~/.cache/gcu-model; GCU_MODEL_CACHE=off turns it off.
A cache that cannot be read or written is no cache: nothing fails for it.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from .digest import spec_digest

_CHECKER_CODE = ("spec", "core")        # the packages whose code decides what passes


def cache_dir() -> Path | None:
    chosen = os.environ.get("GCU_MODEL_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gcu-model"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for sub in _CHECKER_CODE:
        for path in sorted((package / sub).glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def key(spec) -> str | None:
    if cache_dir() is None:
        return None
    try:
        return f"static-{spec_digest(spec.root)}-{_code_digest()}"
    except OSError:
        return None


def passed(key: str) -> bool:
    directory = cache_dir()
    return directory is not None and (directory / key).is_file()


def record(key: str) -> None:
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            f.write("passed\n")
        os.replace(tmp, directory / key)
    except OSError:
        pass
