"""Timing helpers shared by the bench scripts (run as `python bench/NAME.py`, which puts
this folder on sys.path)."""
from __future__ import annotations

import time


def best(fn, repeat: int = 1):
    """(fastest seconds of `repeat` calls, the last call's value)."""
    times, value = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value
