"""One chapter as a course of its own, with its reference solution and its blank release handed in and graded.

A course per chapter, not one course for them all, so that chapters can be graded at the same time in
different processes (the spare core takes them up early, tests/conftest.py's ``Ahead``) without two
of them writing to one gradebook. The answer key comes from the records the book build's single
execution of the chapter left behind (seed 0), so no chapter is executed again; the grader runs only
the cells the answers need.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import nbformat

from autograder import course, keys, report
from autograder.__main__ import main as autograder_main
from bookbuild import execute, layout
from bookbuild.release import solved

from grading_course import environment

STUDENTS = {"reference": solved, "blank": lambda chapter: nbformat.read(chapter.student, as_version=4)}


def graded(chapter: layout.Chapter, root: Path) -> dict[str, dict]:
    """The grader's record of each student in STUDENTS, by student, from a new course in ``root``."""
    make(chapter, root)
    with inside(root), contextlib.redirect_stdout(io.StringIO()):
        autograder_main(["grade", chapter.id, "--jobs", "2"])
    return {record["student"]: record for record in report.load(root, chapter.id)}


def make(chapter: layout.Chapter, root: Path) -> None:
    """The chapter released into ``root``'s gradebook, with its key and a submission from each student."""
    from nbgrader.apps import NbGraderAPI

    shutil.copy2(layout.ROOT / course.CONFIG_FILE, root)
    (course.state_dir(root) / "secret-seed").write_text("0\n")
    shutil.copytree(chapter.source.parent, root / course.SOURCE_DIR / chapter.id)
    key = course.key_path(root, chapter.id)
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(json.dumps(keys.from_records(execute.key_records(chapter), chapter.source, seed=0)))
    with inside(root):
        assert NbGraderAPI(config=course.nbgrader_config(root)).generate_assignment(chapter.id, force=True)["success"], chapter.id
    for student, notebook in STUDENTS.items():
        folder = root / "submitted" / student / chapter.id
        folder.mkdir(parents=True)
        nbformat.write(notebook(chapter), folder / f"{chapter.id}.ipynb")


@contextlib.contextmanager
def inside(folder: Path):
    """In ``folder``, with the environment nbgrader and the grader need, as an instructor's shell is."""
    previous, saved_env = Path.cwd(), dict(os.environ)
    os.chdir(folder)
    os.environ.update(environment())
    try:
        yield
    finally:
        os.chdir(previous)
        os.environ.clear()
        os.environ.update(saved_env)
