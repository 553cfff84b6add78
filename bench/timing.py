"""Helpers shared by the bench scripts (run as `python bench/NAME.py`, which puts this
folder on sys.path): their common options and timing."""
from __future__ import annotations

import argparse
import time


def bench_parser(doc: str, repeat: bool = True) -> argparse.ArgumentParser:
    """--config NAME (repeatable; default every configuration), [--repeat N], --json."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--config", action="append", default=[])
    if repeat:
        parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    return parser


def chosen_configs(parser, spec, names) -> list:
    """The configurations asked for (all when none is), an unknown one a usage error."""
    for name in names:
        if name not in spec.configs:
            parser.error(f"unknown configuration {name!r}; known: {', '.join(spec.configs)}")
    return list(names) or list(spec.configs)


def best(fn, repeat: int = 1):
    """(fastest seconds of `repeat` calls, the last call's value)."""
    times, value = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value
