"""Shared, session-wide work: each chapter is executed once and the site built once.

Every test that needs an executed chapter, a student run or the built site
reads it from these fixtures, so the suite's cost grows with one execution per
chapter (plus one run of each student notebook), not with the number of tests.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest

from bookbuild import execute, layout, site

JOBS = max(1, min(2, os.cpu_count() or 1))
CHAPTERS = layout.chapters()


def pytest_generate_tests(metafunc):
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])


@pytest.fixture(scope="session")
def executed():
    """Executed reference notebooks by chapter id (from the build cache when fresh)."""
    execute.execute_all(CHAPTERS, jobs=JOBS)
    return {ch.id: execute.executed(ch) for ch in CHAPTERS}


@pytest.fixture(scope="session")
def student_runs():
    """Each student notebook run top to bottom with its exercises unanswered (errors allowed)."""
    threads = execute.threads_per_kernel(JOBS, len(CHAPTERS))
    with ProcessPoolExecutor(max_workers=JOBS) as pool:
        runs = pool.map(_run_student, CHAPTERS, [threads] * len(CHAPTERS))
        return dict(zip((c.id for c in CHAPTERS), runs))


def _run_student(chapter, threads):
    nb = nbformat.read(chapter.student, as_version=4)
    return execute.run_notebook(nb, chapter.student.parent, threads, allow_errors=True)


@pytest.fixture(scope="session")
def built_site(executed):
    """The HTML site of every language (Sphinx rebuilds incrementally)."""
    return site.build("show", jobs=JOBS).parent
