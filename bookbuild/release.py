"""Generate the student notebooks with nbgrader.

``notebooks/`` is nbgrader's release directory: the reference notebooks with
solutions replaced by stubs, hidden tests removed, checksums added. It is
committed so Colab and Binder can open it, and regenerated -- never edited --
with ``make release``. The test suite regenerates it into a temporary folder
and compares, so a stale student notebook cannot land.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from . import cells
from .layout import NOTEBOOKS, ROOT, Chapter


def generate(chapters: list[Chapter], release_dir: Path = NOTEBOOKS) -> None:
    for chapter in chapters:
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", chapter.id,
                   "--force", "--no-db", "--log-level=ERROR",
                   f"--CourseDirectory.release_directory={release_dir}"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"nbgrader could not release {chapter.id}:\n{result.stdout}{result.stderr}")


def solved(chapter: Chapter) -> nbformat.NotebookNode:
    """The student notebook with every answer cell holding the reference solution.

    What a perfect student hands in: the tests use it to check that the
    reference passes ``nbgrader validate`` and scores full marks in the grader.
    """
    reference = {c.metadata.nbgrader.grade_id: cells.without_solution_markers(c.source)
                 for c in nbformat.read(chapter.source, as_version=4).cells if cells.is_answer(c)}
    nb = nbformat.read(chapter.student, as_version=4)
    answers = [c for c in nb.cells if cells.is_answer(c)]
    if {c.metadata.nbgrader.grade_id for c in answers} != set(reference):
        raise ValueError(f"{chapter.id}: the student notebook's answer cells differ from the reference's "
                         "(run `make release`)")
    for cell in answers:
        cell.source = reference[cell.metadata.nbgrader.grade_id]
    return nb
