"""The pytest plugin of the conformance kit (issue 6): `pytest conformance
--gcu-target=TARGET` runs every case of the suites as a test of its own.

Registered under the `pytest11` entry point, so its options exist wherever gcu-model is
installed: `--gcu-target` (default `reference`), `--gcu-suite PATH` (repeatable; default
conformance/suites), `--gcu-config NAME` (repeatable; default every suite). The test
function itself is conformance/test_conformance.py: it asks for the `gcu_case` and
`gcu_runner` fixtures this plugin provides. A failing case reports its first diverging
step, expected and observed side by side, and the replayable prefix.

A lockstep campaign (issue 8, item 4) is `--gcu-lockstep N`: N shards per configuration,
each a test of its own running `--gcu-lockstep-examples K` random lockstep examples from
its own seed (`--gcu-seed S` plus the shard's number), so pytest-xdist (`-n auto`) spreads
the campaign over processes, or over machines with its remote workers, and a failing
shard names the seed that replays it.
"""
from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("gcu-model", "gcu-model conformance")
    group.addoption("--gcu-target", default="reference", metavar="TARGET",
                    help="implementation under test: reference, python:MODULE:FACTORY, exec:COMMAND, sysfs:ROOT, "
                         "mutant:NAME")
    group.addoption("--gcu-suite", action="append", default=[], metavar="PATH",
                    help="suite file or directory (repeatable; default conformance/suites)")
    group.addoption("--gcu-config", action="append", default=[], metavar="NAME",
                    help="only the suites of these configurations (repeatable)")
    group.addoption("--gcu-lockstep", type=int, default=0, metavar="N",
                    help="also run N lockstep shards per configuration (one test each; spread them with -n)")
    group.addoption("--gcu-lockstep-examples", type=int, default=50, metavar="K",
                    help="random lockstep examples per shard (default 50)")
    group.addoption("--gcu-seed", type=int, default=0, metavar="S",
                    help="seed of shard 0; shard i uses S + i (default 0)")


def pytest_configure(config):
    config.addinivalue_line("markers", "reqs(*ids): requirement IDs the test covers")
    if config.getoption("gcu_lockstep", 0) < 0 or config.getoption("gcu_lockstep_examples", 1) < 1:
        raise pytest.UsageError("gcu-model: --gcu-lockstep takes N >= 0 and --gcu-lockstep-examples K >= 1")


def _cases(config):
    from . import default_suite_dir
    from .suite import SuiteError, load_suite, suite_files
    try:
        suites = [load_suite(f) for f in suite_files(config.getoption("gcu_suite") or [default_suite_dir()])]
    except SuiteError as exc:
        raise pytest.UsageError(f"gcu-model: {exc}") from None
    wanted = config.getoption("gcu_config")
    if wanted:
        unknown = sorted(set(wanted) - {s.config for s in suites})
        if unknown:
            raise pytest.UsageError(f"gcu-model: no suite for configuration '{unknown[0]}'")
        suites = [s for s in suites if s.config in wanted]
    return [case for s in suites for case in s.cases]


def pytest_generate_tests(metafunc):
    if "gcu_case" in metafunc.fixturenames:
        cases = _cases(metafunc.config)
        metafunc.parametrize("gcu_case", [pytest.param(c, id=c.id, marks=pytest.mark.reqs(*c.reqs))
                                          for c in cases])
    if "gcu_shard" in metafunc.fixturenames:
        metafunc.parametrize("gcu_shard", [pytest.param(s, id=f"{s.config}/shard{s.index}")
                                           for s in _shards(metafunc.config)])


class Shard:
    """One lockstep shard: a configuration, its number, its seed and its examples."""

    def __init__(self, config, index, seed, examples):
        self.config, self.index, self.seed, self.examples = config, index, seed, examples


def _shards(config):
    """The same list in every xdist worker: it depends only on the options and the suites."""
    n = config.getoption("gcu_lockstep")
    if n == 0:
        return []
    configs = list(dict.fromkeys(c.config for c in _cases(config)))
    seed, examples = config.getoption("gcu_seed"), config.getoption("gcu_lockstep_examples")
    return [Shard(name, i, seed + i, examples) for name in configs for i in range(n)]


@pytest.fixture(scope="session")
def gcu_runner(request):
    from ..adapters.targets import TargetError, UsageError, open_target
    from .runner import Runner
    description = request.config.getoption("gcu_target")
    try:
        target = open_target(description)
    except (UsageError, TargetError) as exc:
        raise pytest.UsageError(f"gcu-model: target {description}: {exc}") from None
    yield Runner(target)
    target.close()
