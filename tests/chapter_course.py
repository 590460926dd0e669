"""One nbgrader course holding every chapter, with the reference and the blank release handed in for
each, graded in one run of the sandboxed grader (tests/test_chapter_grading.py reads the results).

Under ``make test`` the grading is the last job of the spare core (``ahead`` in tests/conftest.py), so
it runs beside the grader's smaller tests, which use one core; otherwise the fixture runs it in place.
The answer keys come from the records of the build's single execution of each chapter (seed 0), so no
chapter is executed again; the grader runs only the cells the answers need.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import nbformat

from autograder import course, keys
from autograder.__main__ import main as autograder_main
from bookbuild import execute, layout
from bookbuild.release import solved
from grading_course import environment


def graded(root: Path, chapters: list[layout.Chapter]) -> Path:
    """The course of ``chapters`` made in ``root`` and graded, two sandboxes at a time: a chapter's
    slow reference leaves the other core to the next chapter's submissions instead of idle."""
    _make(root, chapters)
    with inside(root):
        autograder_main(["grade", *(chapter.id for chapter in chapters), "--jobs", "2"])
    return root


def _make(root: Path, chapters: list[layout.Chapter]) -> None:
    """Every chapter registered in the course's gradebook, with its key and two submissions."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    shutil.copy2(layout.ROOT / course.CONFIG_FILE, root)
    (root / course.STATE_DIR).mkdir()
    (root / course.STATE_DIR / "secret-seed").write_text("0\n")
    for chapter in chapters:
        shutil.copytree(chapter.source.parent, root / course.SOURCE_DIR / chapter.id)
        key = keys.from_records(execute.key_records(chapter), chapter.source, seed=0)
        path = course.key_path(root, chapter.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(key))
    with inside(root):
        config = PyFileConfigLoader(course.CONFIG_FILE, path=str(root)).load_config()
        api = NbGraderAPI(config=config)
        for chapter in chapters:
            assert api.generate_assignment(chapter.id, force=True)["success"], chapter.id
    for chapter in chapters:
        _submit(root, "reference", chapter, solved(chapter))
        _submit(root, "blank", chapter, nbformat.read(chapter.student, as_version=4))


def _submit(root: Path, student: str, chapter: layout.Chapter, nb) -> None:
    folder = root / "submitted" / student / chapter.id
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{chapter.id}.ipynb")


@contextlib.contextmanager
def inside(folder: Path):
    """Work in the course ``folder`` with the grader's environment, as an instructor's shell would."""
    previous, saved_env = Path.cwd(), dict(os.environ)
    os.chdir(folder)
    os.environ.update(environment())
    try:
        yield
    finally:
        os.chdir(previous)
        os.environ.clear()
        os.environ.update(saved_env)
