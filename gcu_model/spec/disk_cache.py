"""Results that take seconds, kept on disk by the digest of everything they are computed from.

A key names the spec's bytes (spec/digest.py) and the code that computes the result, so an
edit of either computes again; what is stored is a pure function of the key. The cache
lives in $GCU_MODEL_CACHE, else $XDG_CACHE_HOME/gcu-model, else ~/.cache/gcu-model;
GCU_MODEL_CACHE=off turns it off. A cache that cannot be read or written is no cache:
nothing fails for it, and an entry is written whole or not at all (a temporary file
renamed over it).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

from .digest import spec_digest

PACKAGE = Path(__file__).resolve().parent.parent


def cache_dir() -> Path | None:
    chosen = os.environ.get("GCU_MODEL_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gcu-model"


@lru_cache(maxsize=None)
def code_digest(packages: tuple | None = None) -> str:
    """The digest of the Python files of these subpackages of gcu_model (None: all of it)."""
    h = hashlib.sha256()
    roots = [PACKAGE] if packages is None else [PACKAGE / p for p in packages]
    for root in roots:
        for path in sorted(root.rglob("*.py") if packages is None else root.glob("*.py")):
            h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def key(kind: str, spec, packages: tuple | None = None) -> str | None:
    """`kind-SPEC-CODE`, or None when there is no cache (turned off, or the spec unreadable)."""
    if cache_dir() is None:
        return None
    try:
        return f"{kind}-{spec_digest(spec.root)}-{code_digest(packages)}"
    except OSError:
        return None


MISSING = object()


def load(key: str | None):
    """The stored value, or MISSING."""
    directory = cache_dir()
    if key is None or directory is None:
        return MISSING
    try:
        with open(directory / key, "rb") as f:
            return pickle.load(f)
    except Exception:       # absent, unreadable or cut short: computed again
        return MISSING


def store(key: str | None, value) -> None:
    directory = cache_dir()
    if key is None or directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, directory / key)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError):
        pass
