"""Shared fixtures: the embedded spec is loaded once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gcu_model.core.system import System
from gcu_model.spec.loader import default_spec_dir, load_spec


def embedded_config_names() -> list:
    """Every embedded configuration, read from configs.yaml so parametrised tests follow it."""
    import yaml
    with open(default_spec_dir() / "configs.yaml", encoding="utf-8") as f:
        return list(yaml.safe_load(f)["configs"])


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def systems(spec):
    return {name: System(spec, name) for name in spec.configs}


@pytest.fixture
def spec_copy(tmp_path):
    """A writable copy of the embedded spec tree at tmp_path/specs."""
    dest = tmp_path / "specs"
    shutil.copytree(default_spec_dir(), dest)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence of `old` (fails loudly when the spec text moved)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"expected exactly one {old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
