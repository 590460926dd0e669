"""Run a chapter as a reader elsewhere would: another seed, thread count and set of CPU kernels.

The build executes each chapter once, on one machine, with seed 0. A number
that the chapter asserts may hold there only by luck: a training run, a
sample mean or a float32 reduction comes out differently on another CPU, with
another thread count, on CUDA, or with another seed. This module runs the
chapter's reference again in an environment that differs in each of those ways
it can from the build's (see :func:`elsewhere_environment`) and fails on any
error or warning.

The exercises' hidden tests run in *compare* mode against the answer key the
build recorded, exactly as when a student on another machine hands in a correct
answer: a tolerance too tight for a measured answer fails here, not in a
student's grade.

What varies, and why these variables (measured on the pinned builds; see
CONTRIBUTING.md, "Exact and measured numbers"):

* ``BOOK_SEED`` -- the setup cell's seed: a claim must not hinge on one draw;
* the thread count -- PyTorch's, MKL's and numpy's OpenBLAS reductions split
  their work by thread, which changes float rounding;
* ``ATEN_CPU_CAPABILITY=default`` -- PyTorch's own vectorized kernels fall
  back from AVX2/AVX-512 to the generic ones (other summation orders);
* ``MKL_CBWR=COMPATIBLE`` -- MKL's matrix products take its most portable
  code path, as on an older CPU.

``OPENBLAS_CORETYPE`` would also change numpy's kernels, but it is left as the
machine has it: some machines set it because older OpenBLAS builds compute
wrong results on their CPUs.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import nbformat

from autograder import course, keys, mode

from . import execute
from .layout import ROOT, Chapter

ELSEWHERE_SEED = 1


def elsewhere_environment(build_threads: int) -> dict[str, str]:
    """The kernel environment of the portability run: everything that may differ, differs."""
    threads = 2 if build_threads == 1 else 1
    return {**execute.kernel_environment(threads), "BOOK_SEED": str(ELSEWHERE_SEED),
            "OPENBLAS_NUM_THREADS": str(threads), "ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
            **mode.recording_environment(None)}  # the hidden tests judge against the build's key


def run_elsewhere(chapter: Chapter, records: Path, scratch: Path, build_threads: int = 1) -> float:
    """Run the chapter's reference in :func:`elsewhere_environment`, its hidden tests judged against
    the key in ``records`` (what the build recorded); return the seconds. Raise ExecutionError."""
    folder = _course_with_key(chapter, records, scratch)
    nb = nbformat.read(folder / chapter.source.name, as_version=4)
    started = time.perf_counter()
    try:
        execute.run_notebook(nb, folder, environment=elsewhere_environment(build_threads))
    except Exception as error:  # nbclient's CellExecutionError, or a kernel that died
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the traceback's terminal colours
        raise execute.ExecutionError(f"{chapter.id} fails in another numeric environment "
                                     f"({_described(build_threads)}):\n{plain}") from None
    execute.refuse_stderr(chapter, nb)
    return time.perf_counter() - started


def _course_with_key(chapter: Chapter, records: Path, scratch: Path) -> Path:
    """A throwaway course in ``scratch`` holding the chapter (outside ``solutions/``, so its hidden
    tests compare instead of record) and the answer key built from ``records``; the chapter's folder."""
    shutil.copy2(ROOT / course.CONFIG_FILE, scratch / course.CONFIG_FILE)
    key = course.key_path(scratch, chapter.id)
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(json.dumps(keys.from_records(records, chapter.source, seed=0)), encoding="utf-8")
    folder = scratch / "elsewhere" / chapter.id
    shutil.copytree(chapter.source.parent, folder)
    return folder


def _described(build_threads: int) -> str:
    return ", ".join(f"{k}={v}" for k, v in elsewhere_environment(build_threads).items()
                     if k in ("BOOK_SEED", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_CBWR"))
