"""Shared fixtures: the embedded spec is loaded once per session."""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from gcu_model.core.system import System
from gcu_model.spec.loader import default_spec_dir, load_spec


def pytest_configure(config):
    """One results cache for the whole run, new and empty (spec/disk_cache.py): what a test
    takes from it was computed in this run, by this code, never by an earlier one. Workers
    of xdist inherit it; a GCU_MODEL_CACHE the caller set is kept."""
    if "GCU_MODEL_CACHE" not in os.environ and not hasattr(config, "workerinput"):
        import tempfile
        config._gcu_model_cache = tempfile.mkdtemp(prefix="gcu-model-cache-")
        os.environ["GCU_MODEL_CACHE"] = config._gcu_model_cache


def pytest_unconfigure(config):
    made = getattr(config, "_gcu_model_cache", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop("GCU_MODEL_CACHE", None)


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


def host_with_cards(spec, base_name, products, parts, **more):
    """A System for the host of configuration `base_name` with cards of the given products
    and parts (issue 8): the base's host-wide values, each card's own from its rows."""
    from gcu_model.spec.model import PerInstance
    base = spec.configs[base_name]
    host = {k: v for k, v in base.values.items() if spec.constants[k].per is None}
    values = dict(host, cards=len(products), product=PerInstance(products), part_number=PerInstance(parts), **more)
    return System(spec, spec.derive_config(f"{'+'.join(products)} host", values, base.initial))


def run_actions(system, actions, state=None):
    """Step through `actions`, each of which must be accepted; returns the final state."""
    from gcu_model.core.outcome import Accepted
    state = system.initial[0] if state is None else state
    for a in actions:
        outcome = system.step(state, a)
        assert isinstance(outcome, Accepted), f"{a}: {outcome.summary()}"
        state = outcome.state
    return state


def refused_with(system, state, action, errno):
    """`action` is refused in `state` with `errno` and leaves the state as it was."""
    from gcu_model.core.outcome import Refused
    outcome = system.step(state, action)
    assert isinstance(outcome, Refused), f"{action} was not refused: {outcome}"
    assert outcome.errno == errno, outcome.summary()
    assert outcome.state == state
    return outcome


@contextlib.contextmanager
def fuse_mount(point, *args):
    """`gcu-model serve-sysfs POINT ARGS...` for the duration of the block; skips with the
    reason when FUSE cannot work on this machine."""
    from gcu_model.reference.fuse_fs import MountError, available, mounted
    why = available() or (None if shutil.which("fusermount3") else "fusermount3 is not installed (Debian: fuse3)")
    if why:
        pytest.skip(f"FUSE unavailable: {why}")
    try:
        with mounted(point, *args) as where:
            yield where
    except MountError as exc:
        pytest.fail(str(exc))
