"""`nbgrader validate`, as a student runs it before handing in, on the pilot chapter.

It runs a chapter twice in nbgrader's kernel; once is enough to show the
student's path works (every chapter's reference and blank notebooks are also
graded in tests/test_chapter_grading.py, without running them again in full).

A notebook whose answer cells hold the reference solutions passes; the notebook as released, with
every exercise unanswered, fails on each test cell. The solved notebook is the student notebook
with each answer cell's source replaced by the reference's (matched by nbgrader ``grade_id``,
without the ``### BEGIN/END SOLUTION`` lines), in a copy of the chapter's folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bookbuild import cells, execute, layout
from bookbuild.release import solved

TIMEOUT = 600


def _copy_of_chapter(chapter, folder: Path) -> Path:
    """The chapter's release folder copied (files the notebook reads included); the notebook's path."""
    shutil.copytree(chapter.student.parent, folder / chapter.id)
    return folder / chapter.id / chapter.student.name


PILOT = layout.chapter("ch03_losses")  # the quickest chapter to run; the path is the same for every chapter


@pytest.mark.slow
def test_nbgrader_validate_passes_solved_and_fails_unanswered(tmp_path):
    chapter = PILOT
    nbgrader = Path(sys.executable).with_name("nbgrader")
    assert nbgrader.exists(), f"{nbgrader} is missing"
    unanswered = _copy_of_chapter(chapter, tmp_path / "unanswered")
    answered = _copy_of_chapter(chapter, tmp_path / "solved")
    nbformat.write(solved(chapter), answered)
    tests = sum(cells.is_test(c) for c in nbformat.read(chapter.student, as_version=4).cells)

    threads = str(execute.KERNEL_THREADS)  # as in the build
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    runs = {name: subprocess.Popen([str(nbgrader), "validate", str(path)], cwd=layout.ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
            for name, path in (("solved", answered), ("unanswered", unanswered))}
    out = {}
    try:
        for name, process in runs.items():
            out[name] = process.communicate(timeout=TIMEOUT)[0]
    finally:
        for process in runs.values():
            if process.poll() is None:
                os.killpg(process.pid, 9)
                process.wait()

    assert runs["solved"].returncode == 0 and "Success! Your notebook passes all the tests." in out["solved"], \
        f"{chapter.id}: nbgrader validate fails the solved notebook:\n{out['solved'][-3000:]}"
    failed = re.search(r"VALIDATION FAILED ON (\d+) CELL\(S\)", out["unanswered"])
    assert failed, f"{chapter.id}: nbgrader validate does not fail the unanswered notebook:\n{out['unanswered'][-3000:]}"
    assert int(failed.group(1)) == tests, \
        f"{chapter.id}: {failed.group(1)} of {tests} test cells fail without answers:\n{out['unanswered'][-3000:]}"


def test_solved_notebook_has_no_solution_markers_and_differs_from_the_release(chapter):
    nb, student = solved(chapter), nbformat.read(chapter.student, as_version=4)
    for before, after in zip(student.cells, nb.cells):
        if cells.is_answer(before):
            assert "### BEGIN SOLUTION" not in after.source and "### END SOLUTION" not in after.source
            assert "NotImplementedError" not in after.source, f"{chapter.id}: {after.metadata.nbgrader.grade_id}"
            assert after.source != before.source
        else:
            assert after.source == before.source
