"""Execute each chapter's reference notebook once per build, with a cache.

The executed notebook in ``_build/executed/`` is what every later step reads:
the language views of the book and the checks of the test suite. The same run
records what the exercises' hidden blocks compute (``<id>.key.jsonl``), from
which the tests build an answer key without running the chapter again, and draws
every figure, and every picture a widget shows, once more per Chinese edition
(``kernel_startup.py``, ``widget_words.py``). It is reused
as long as its cache key matches: the source notebook, requirements.txt, this
module, the autograder modules the hidden tests import (the authoring API and
what it imports; the rest of the grader does not run in a chapter's kernel) and
the modules and catalog that draw the editions' figures.

A chapter fails the build when a cell raises (unless tagged
``raises-exception``) or writes to stderr: warnings are defects in a book
whose outputs readers copy.
"""

from __future__ import annotations

import ast
import hashlib
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import psutil

from autograder import mode

from . import widget_words
from .layout import EXECUTED, ROOT, Chapter

CELL_TIMEOUT = 600
# A chapter's kernel computes on one thread. The book runs two chapters at a time, and on one thread
# a chapter's floats come out the same on every run: two threads split a reduction in an order that
# can change on a busy machine (chapter 10's loss curves differed in the sixth digit), so an nbval
# rerun would fail on a chapter built alone. The portability check tries another thread count.
KERNEL_THREADS = 1
KEY_INPUTS = ("requirements.txt",)
KERNEL_STARTUP = Path(__file__).with_name("kernel_startup.py")
# What the kernel's startup draws the Chinese editions' figures with (see figure_words.py).
FIGURE_INPUTS = [KERNEL_STARTUP, *(Path(__file__).with_name(name) for name in (
    "figure_words.py", "figure_words.csv", "languages.py", "widget_words.py"))]


class ExecutionError(RuntimeError):
    """A chapter raised an unexpected error or wrote to stderr."""


def cache_key(chapter: Chapter) -> str:
    digest = hashlib.sha256(chapter.source.read_bytes())
    for name in KEY_INPUTS:
        digest.update((ROOT / name).read_bytes())
    for path in [Path(__file__), *kernel_modules(), *FIGURE_INPUTS]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def kernel_modules(entry: str = "authoring") -> list[Path]:
    """The autograder modules a chapter's kernel loads: ``entry`` and, transitively, the package's
    modules it imports (``from . import x``, ``from .x import y``, at any depth in the code)."""
    package = ROOT / "autograder"
    found, waiting = set(), [entry]
    while waiting:
        name = waiting.pop()
        if name in found:
            continue
        found.add(name)
        for node in ast.walk(ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                waiting += [node.module] if node.module else [alias.name for alias in node.names]
    return sorted(package / f"{name}.py" for name in found)


def is_fresh(chapter: Chapter) -> bool:
    if not chapter.executed.exists():
        return False
    meta = nbformat.read(chapter.executed, as_version=4).metadata.get("bookbuild", {})
    return meta.get("cache_key") == cache_key(chapter)


def execute_all(chapters: list[Chapter], jobs: int = 2, force: bool = False) -> dict[str, float]:
    """Execute the stale chapters (all with ``force``), ``jobs`` at a time; return seconds per chapter."""
    stale = [ch for ch in chapters if force or not is_fresh(ch)]
    if not stale:
        return {}
    EXECUTED.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(stale)))) as pool:
        futures = {ch.id: pool.submit(execute_chapter, ch) for ch in stale}
        return {cid: future.result() for cid, future in futures.items()}


def execute_chapter(chapter: Chapter, threads: int = KERNEL_THREADS) -> float:
    """Run one chapter top to bottom in a fresh kernel and store the executed notebook."""
    nb, seconds, cpu_seconds = run_chapter(chapter, key_records(chapter), threads)
    nb.metadata["bookbuild"].update({"cache_key": cache_key(chapter), "seconds": round(seconds, 2),
                                     "cpu_seconds": round(cpu_seconds, 2)})
    nbformat.write(nb, chapter.executed)
    return seconds


def run_chapter(chapter: Chapter, records: Path, threads: int = KERNEL_THREADS):
    """Run a chapter's source in a fresh kernel, its exercises recording into ``records``;
    return the executed notebook, the seconds it took and the kernel's CPU seconds.
    The notebook's ``metadata.bookbuild`` keeps the Chinese editions' drawings of the pictures its
    widgets show (``widget_words``). Raise ExecutionError on an error or stderr."""
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(chapter.source, as_version=4)
    records.unlink(missing_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        pictures = Path(scratch) / "widget-pictures.jsonl"
        environment = {**build_environment(threads), **recording_environment(records),
                       widget_words.ENVIRONMENT: str(pictures)}
        try:
            cpu_seconds = run_notebook(nb, chapter.source.parent, environment=environment)
        except CellExecutionError as error:
            raise ExecutionError(f"{chapter.id}: a cell raised an error\n{error}") from None
        nb.metadata["bookbuild"] = {widget_words.KEY: widget_words.read_records(pictures)}
    seconds = time.perf_counter() - started
    refuse_stderr(chapter, nb)
    return nb, seconds, cpu_seconds


def recording_environment(records: Path) -> dict[str, str]:
    """Hidden tests record the reference's answers into ``records`` (seed 0) instead of judging them."""
    return mode.recording_environment(records, seed=0)


def kernel_environment(threads: int) -> dict[str, str]:
    """The environment a chapter's kernel runs in: hashing fixed and ``threads`` threads for the maths.

    PASSIVE: idle OpenMP threads sleep instead of spinning, which otherwise slows a
    chapter many times over when the cores are shared (measured on ch15's training loop)."""
    return {"PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1", "OMP_WAIT_POLICY": "PASSIVE",
            "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def build_environment(threads: int) -> dict[str, str]:
    """The kernel environment of the build's run, whose outputs the pages show: also the startup that
    draws each figure for the Chinese editions (``kernel_startup.py``). The reruns that only check a
    chapter (nbval's, the portability run, the students' runs) leave it out: drawing every figure
    twice more raised chapter 15's kernel from 30 to 47 CPU seconds, for pictures they never look at."""
    return {**kernel_environment(threads), "PYTHONSTARTUP": str(KERNEL_STARTUP)}


def key_records(chapter: Chapter) -> Path:
    """The exercise records the execution leaves behind: an answer key for seed 0 (see autograder.keys)."""
    return EXECUTED / f"{chapter.id}.key.jsonl"


def run_notebook(nb, cwd: Path, threads: int = KERNEL_THREADS, allow_errors: bool = False,
                 environment: dict[str, str] | None = None):
    """Execute ``nb`` in place in a fresh python3 kernel started in ``cwd``, whose environment is
    this process's plus ``environment`` (by default :func:`kernel_environment` with ``threads``);
    return the CPU seconds the kernel used."""
    from nbclient import NotebookClient

    env = {**os.environ, **(environment or kernel_environment(threads))}
    clock = KernelClock()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            on_cell_executed=lambda **_: clock.sample(client))
    client.execute(env=env)
    return clock.seconds


class KernelClock:
    """The CPU seconds a kernel has used, read after every cell (the kernel is gone once the
    notebook has run). Unlike wall time it hardly grows when other work shares the cores, so a
    budget checked against it gives the same verdict on a busy machine as on a quiet one."""

    def __init__(self):
        self.seconds = 0.0

    def sample(self, client) -> None:
        times = psutil.Process(client.km.provisioner.pid).cpu_times()
        self.seconds = times.user + times.system + times.children_user + times.children_system


def refuse_stderr(chapter: Chapter, nb) -> None:
    """Raise ExecutionError if any cell of the executed ``nb`` wrote to stderr."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output.get("text", ""))[:500]
                raise ExecutionError(f"{chapter.id}: cell {index} wrote to stderr (fix the warning):\n{text}")


def executed(chapter: Chapter):
    """The executed notebook of a chapter (run ``execute_all`` first)."""
    return nbformat.read(Path(chapter.executed), as_version=4)
