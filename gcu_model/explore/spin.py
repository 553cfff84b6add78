"""Run SPIN on an exported Promela model (issue 8, item 3): `spin -a`, a C compiler, then
`pan` in breadth-first safety mode, and read back what it stored and found.

SPIN is optional: `missing()` says what is not installed (Debian: `apt-get install spin
gcc`), and the bench and the tests say so rather than fail.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SpinRun:
    states: int              # "states, stored"
    errors: int
    seconds: float           # pan's own search time ("elapsed time")
    compile_seconds: float   # spin -a and the C compiler
    output: str              # pan's report, for a failure message


def missing() -> str | None:
    """What is needed and not on PATH, or None."""
    absent = [tool for tool in ("spin", "cc") if shutil.which(tool) is None]
    return f"{' and '.join(absent)} not installed (Debian: apt-get install spin gcc)" if absent else None


def run(source: str, workdir: Path, timeout: int = 600) -> SpinRun:
    """Compile the model in `workdir` and search it once."""
    compiled = compile_model(source, workdir, timeout)
    result = search(workdir, timeout)
    result.compile_seconds = compiled
    return result


def compile_model(source: str, workdir: Path, timeout: int = 600) -> float:
    """spin -a and the C compiler: `workdir/pan`; returns the seconds they took."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.pml").write_text(source, encoding="utf-8")
    started = time.perf_counter()
    _call(["spin", "-a", "model.pml"], workdir, timeout)
    # BFS: shortest counterexamples, no depth limit to tune; SAFETY: no never claim; one
    # process, so partial-order reduction has nothing to reduce
    _call(["cc", "-O2", "-DBFS", "-DSAFETY", "-DNOREDUCE", "-DMEMLIM=8192", "-o", "pan", "pan.c"], workdir, timeout)
    return time.perf_counter() - started


def search(workdir: Path, timeout: int = 600) -> SpinRun:
    """Run the compiled `pan` of `workdir`."""
    workdir = Path(workdir)
    proc = subprocess.run(["./pan"], cwd=workdir, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    states = re.search(r"(\d+) states, stored", out)
    errors = re.search(r"errors: (\d+)", out)
    elapsed = re.search(r"elapsed time ([\d.e+-]+) seconds", out)
    if states is None or errors is None:
        raise RuntimeError(f"pan gave no state count:\n{out[-2000:]}")
    return SpinRun(int(states.group(1)), int(errors.group(1)), float(elapsed.group(1)) if elapsed else 0.0,
                   0.0, out)


def _call(argv, cwd, timeout):
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
