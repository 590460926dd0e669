"""Generate the student notebooks with nbgrader.

``notebooks/`` is nbgrader's release directory: the reference notebooks with
solutions replaced by stubs, hidden tests removed, checksums added. It is
committed so Colab and Binder can open it, and regenerated -- never edited --
with ``make release``. The test suite regenerates it into a temporary folder
and compares, so a stale student notebook cannot land.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder import course

from . import cells
from .layout import NOTEBOOKS, ROOT, Chapter


def generate(chapters: list[Chapter], release_dir: Path = NOTEBOOKS) -> None:
    """nbgrader's ``generate_assignment --force --no-db`` of each chapter, all in this process: a
    process per chapter spent most of its 2.5 s starting nbgrader."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(course.CONFIG_FILE, path=str(ROOT)).load_config()
    config.merge(Config({"CourseDirectory": {"release_directory": str(release_dir)},
                         "GenerateAssignment": {"no_database": True}, "SaveCells": {"enabled": False}}))
    api = NbGraderAPI(config=config)
    for chapter in chapters:
        result = api.generate_assignment(chapter.id, force=True, create=False)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not release {chapter.id}:\n{result.get('log', '')}{result.get('error', '')}")


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
