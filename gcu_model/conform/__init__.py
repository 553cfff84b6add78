"""The conformance kit (issue 6): suites generated from the reachability graph, a runner
for any target, lockstep property tests, and the mutants they must catch."""
from __future__ import annotations

from pathlib import Path


def kit_dir() -> Path:
    """conformance/ of the source tree: the generated suites and the mutants."""
    return Path(__file__).resolve().parent.parent.parent / "conformance"


def default_suite_dir() -> Path:
    return kit_dir() / "suites"
