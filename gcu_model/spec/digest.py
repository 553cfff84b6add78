"""The digest of a spec tree: every *.yaml byte, comments included, with its path."""
from __future__ import annotations

import hashlib
from pathlib import Path


def spec_digest(spec_dir: Path | str) -> str:
    h = hashlib.sha256()
    spec_dir = Path(spec_dir)
    for path in sorted(spec_dir.rglob("*.yaml")):
        h.update(path.relative_to(spec_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
