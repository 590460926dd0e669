"""Shared, session-wide work: each chapter is executed once and the site built once.

Every test that needs an executed chapter, a student run or the built site
reads it from these fixtures, so the suite's cost grows with the runs of each chapter, not with the
number of tests: the build, the nbval rerun, the portability run, and the short run of the cells its
exercises need in the student notebook. The reruns start on the spare core as soon as the chapters are
executed (``Ahead``), while the browser checks go on.

``make test TEST_WORKERS=2`` runs the suite in two pytest-xdist workers (the default, one process,
is the fastest on two cores). The tests with costly shared work form lanes (LANES), and each lane
runs whole in one worker, so that work is done once; the long lanes are handed out first and the
cheap tests fill the gaps. The work several lanes need, the executed chapters and the site, is done
by whichever worker asks first, while the other waits for it (``one_worker_at_a_time``) and then
reads it from _build/.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import nbformat
import pytest

import chapter_course
from bookbuild import cells, execute, figures, layout, portability, site
from bookbuild.pdf import CHROMIUM, CHROMIUM_ARGS, serving
from bookbuild.pdf import build as print_pdfs

JOBS = max(1, min(2, os.cpu_count() or 1))
# `BOOK_CHAPTERS=ch10_rnn make test` tests one chapter (listed in _toc.yml or not yet).
CHAPTERS = layout.selected_chapters(os.environ.get("BOOK_CHAPTERS"))

# The Simplified Chinese edition is the Traditional one converted, page by page (bookbuild/languages.py).
# tests/test_site.py checks that each of its pages holds what the zh-Hant page holds (the formulas
# converted, widgets, figures, toggles, sections and scripts) and loads no more bytes of its own. So the
# browser (tests/test_browser.py) visits every page of the two written editions, and of the converted
# one only these: the book's own pages and the two chapters whose widgets differ in kind (chapter 1's
# tabs, chapter 6's two views). What the conversion could break that only a browser shows (its fonts,
# its words in the scripts) shows on any page. The 19 other visits took 80 CPU s, 49 s.
CONVERTED_SAMPLE = {*layout.pages(), *(layout.chapter(c).page for c in ("ch01_models", "ch06_convolution"))}


# What a Chinese page may name in Latin letters alone: the switcher's English edition, the services that
# open a notebook, the search's keyboard shortcut and the downloads' formats.
LATIN_NAMES = {"English", "Colab", "Binder", "Ctrl", "K", ".ipynb", ".pdf"}


def english_labels(labels) -> set[str]:
    """The labels (tooltips, screen readers' names, placeholders, alt texts) written in Latin letters
    alone, LATIN_NAMES aside: on a Chinese page, English the theme or a script left (tests/test_site.py
    reads the built pages' labels, tests/test_browser.py the page's once its scripts ran)."""
    return {label for label in labels if re.search("[A-Za-z]", label) and not re.search(r"[\u3400-\u9fff]", label)
            and label not in LATIN_NAMES}

# Tests that share costly module- or session-scoped work form a lane, which one xdist worker runs whole,
# named by module or by module::function (which wins). Listed from the longest to the shortest, which
# is the order the workers take them up in; the tests in no lane are cheap and are handed out one by
# one once the lanes have begun.
LANES = {
    "test_browser": "browser",                          # every page in headless Chromium
    "test_execution": "portability",                    # every chapter in another numeric environment
    "test_grading": "grading",                          # the quiz graded with hostile submissions
    "test_chapter_grading": "chapter-grading",          # the course that holds every chapter, graded
    "test_execution::test_outputs_are_reproducible": "nbval",  # every chapter rerun by nbval
    "test_execution::test_nbval_notices_an_unseeded_output": "nbval",
    "test_site": "site", "test_jupyterlab": "site",     # the built pages read as files; JupyterLab
    "test_student_notebooks": "student-runs",           # the student notebooks' pruned runs
    "test_visible_agrees_with_grader": "visible-checks",
    "test_pdf": "pdf",                                  # the PDF printed once, read by every PDF test
}
LANE_ORDER = list(dict.fromkeys(LANES.values()))


def lane(nodeid: str) -> str | None:
    """The lane of a test (by its node id: ``tests/test_x.py::test_f[param]``), if it has one."""
    path, _, rest = nodeid.partition("::")
    module = path.rsplit("/", 1)[-1].removesuffix(".py")
    return LANES.get(f"{module}::{rest.split('[')[0]}", LANES.get(module))


# In one process (the default) the order packs the work onto the two cores. The spare core reruns every
# chapter, prints the PDF and then grades every chapter's course (``Ahead``) while this one runs the
# browser checks and then the tests that read those reruns' results. Next come the site's tests and
# those in no lane, which wait for nothing and use one core (among them the grader's small runs and
# the formula rewrites), while the spare core is still busy; then the students' runs and the PDF's
# tests, read once that core has done them. The attack quiz comes last: it grades two submissions at
# once, and plain nbgrader two more, so it keeps both cores busy on its own (run beside the reruns, it
# ran at half speed, and before the spare core graded the chapters, the last minutes used one core).
SERIAL_ORDER = ["browser", "portability", "nbval", "site", None, "student-runs", "visible-checks", "pdf",
                "grading", "chapter-grading"]


def pytest_collection_modifyitems(items):
    """Under xdist, the lanes first, longest first; in one process, SERIAL_ORDER. (sorted() is stable:
    within a lane the tests keep their collection order.)"""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {name: index for index, name in enumerate(LANE_ORDER)}
        items.sort(key=lambda item: rank.get(lane(item.nodeid), len(rank)))
    else:
        unplaced = set(LANE_ORDER) - set(SERIAL_ORDER)
        assert not unplaced, f"tests/conftest.py: give the lanes {sorted(unplaced)} a place in SERIAL_ORDER"
        items.sort(key=lambda item: SERIAL_ORDER.index(lane(item.nodeid)))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, called in the controlling process
def pytest_xdist_make_scheduler(config, log):
    """Hand each lane to one worker as a whole, in the order of the collection.

    (xdist's own ``--dist loadgroup`` cannot do it under pytest 9: it renames ``item._nodeid``,
    which pytest 9 no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class LaneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return lane(nodeid) or nodeid

    config.option.loadscopereorder = False  # xdist would put the lanes with the most tests first
    return LaneScheduling(config, log)


@contextlib.contextmanager
def one_worker_at_a_time(name: str):
    """Hold a lock in _build/ that the other xdist worker (or another pytest) waits for."""
    layout.BUILD.mkdir(parents=True, exist_ok=True)
    with open(layout.BUILD / f".{name}.lock", "w") as handle:  # closing the file releases the lock
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def pytest_generate_tests(metafunc):
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])


@pytest.fixture(scope="session")
def executed(request, tmp_path_factory):
    """Executed reference notebooks by chapter id (from the build cache when fresh). Once they are,
    the reruns this session will check start on the spare core (``ahead``)."""
    with one_worker_at_a_time("execute"):
        execute.execute_all(CHAPTERS, jobs=JOBS)
    ahead.start(request.session, tmp_path_factory)
    return {ch.id: execute.executed(ch) for ch in CHAPTERS}


class Ahead:
    """The chapter reruns, started early on a spare core and collected by the fixtures that check them.

    The suite used about one of two cores on average: the browser checks that come first (a quarter of
    it) keep one core busy, while the reruns of every chapter (nbval's, the portability run, the
    students' pruned runs) are CPU work that waits for nothing but the executed chapters. So as soon as
    those exist, the reruns the session's tests need go to a pool of one process, and by the time their
    tests come up the results are there. Then the same core prints the PDF and grades every chapter's
    course (``queue``), which the suite's last tests read. Under pytest-xdist each worker runs what its
    lanes need itself (the fixtures below, two at a time), as when a rerun's tests are not selected.
    """

    # fixture -> (the job run for each chapter, its scratch folder's name or None), in the order their
    # tests come (LANES)
    JOBS_OF = {"elsewhere": ("_run_elsewhere", "elsewhere"), "reruns": ("_rerun_with_nbval", "nbval"),
               "student_runs": ("_run_student", None)}

    def __init__(self):
        self.pool, self.futures, self.scratch = None, {}, {}

    def start(self, session, tmp_path_factory) -> None:
        if self.pool or os.environ.get("PYTEST_XDIST_WORKER"):
            return
        wanted = [name for name in self.JOBS_OF if any(name in getattr(item, "fixturenames", ()) for item in session.items)]
        if not wanted:
            return
        # Forked now, before the browser tests start Playwright's threads; it runs every job in turn.
        self.pool = ProcessPoolExecutor(max_workers=1)
        for name in wanted:
            job, folder = self.JOBS_OF[name]
            for chapter in CHAPTERS:
                args = (chapter, self.folder(tmp_path_factory, folder, chapter)) if folder else (chapter,)
                self.futures[name, chapter.id] = self.pool.submit(globals()[job], *args)

    def folder(self, tmp_path_factory, name: str, chapter) -> Path:
        key = (name, chapter.id)
        if key not in self.scratch:
            self.scratch[key] = tmp_path_factory.mktemp(f"{name}-{chapter.id}")
        return self.scratch[key]

    def results(self, name: str, tmp_path_factory) -> dict:
        """Each chapter's result of the fixture ``name``'s job, by id: those the spare core has done or
        begun are collected, the rest (none started, or not yet begun) run here two at a time."""
        job, folder = self.JOBS_OF[name]
        early = {c.id: self.futures.pop((name, c.id), None) for c in CHAPTERS}
        left = [c for c in CHAPTERS if early[c.id] is None or early[c.id].cancel()]
        args = [left] + ([[self.folder(tmp_path_factory, folder, c) for c in left]] if folder else [])
        with ProcessPoolExecutor(max_workers=JOBS) as pool:
            here = dict(zip((c.id for c in left), pool.map(globals()[job], *args)))
        return {c.id: here[c.id] if c.id in here else early[c.id].result() for c in CHAPTERS}

    def start_printing(self, session, built: Path, out: Path) -> None:
        """The PDFs the session's PDF tests read (``books`` in tests/test_pdf.py, one per edition its
        selected tests name), printed on the spare core once it has done the reruns."""
        codes = sorted({item.callspec.params["lang"].code for item in session.items
                        if "books" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")})
        if codes:
            self.queue(("books", tuple(codes)), _print_pdfs, codes, built, out)

    def start_grading(self, session, tmp_path_factory) -> None:
        """Every chapter's course graded (``graded_chapters``), the spare core's last job: it runs beside
        the grader's own tests, which use one core."""
        if any("graded_chapters" in getattr(item, "fixturenames", ()) for item in session.items):
            self.queue("graded_chapters", chapter_course.graded, tmp_path_factory.mktemp("chapters"), CHAPTERS)

    def queue(self, key, job, *args) -> None:
        """Run ``job(*args)`` on the spare core once what is queued there is done (if there is one)."""
        if self.pool:
            self.futures[key] = self.pool.submit(job, *args)

    def outcome(self, key, job, *args):
        """What ``job(*args)`` returns: from the spare core if it was queued there and has begun, else
        run here (its own arguments ``args``)."""
        early = self.futures.pop(key, None)
        if early is not None and not early.cancel():
            return early.result()
        return job(*args)

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)


ahead = Ahead()


def pytest_sessionfinish(session):
    ahead.close()


@pytest.fixture(scope="session")
def student_runs(tmp_path_factory):
    """Each student notebook run with its exercises unanswered (errors allowed), in order, but only
    the cells the exercises and their tests need (the grader's pruning, autograder/pruning.py): the
    demonstrations in between are the reference's cells, already run by the build, and no one of them
    may read an answer (tests/test_student_notebooks.py checks that without running them)."""
    return ahead.results("student_runs", tmp_path_factory)


def _run_student(chapter):
    nb = cells.exercise_path(nbformat.read(chapter.student, as_version=4))
    execute.run_notebook(nb, chapter.student.parent, allow_errors=True)
    return nb


@pytest.fixture(scope="session")
def nbval_rerun(tmp_path_factory):
    """``nbval_rerun(notebook) -> (returncode, report)``: nbval runs an executed notebook again."""
    return partial(_nbval, folder=tmp_path_factory.mktemp("nbval"))


def _nbval(notebook: Path, folder: Path) -> tuple[int, str]:
    """nbval runs an executed notebook again in a fresh kernel and compares every output with the
    stored one (images included), less the Chinese editions' drawings of the figures, which only the
    build's kernel makes: (returncode, report)."""
    copy = folder / notebook.name
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [nbformat.from_dict(figures.without_editions(o)) for o in cell.outputs]
    nbformat.write(nb, copy)
    # The kernel runs as in the build; its hidden tests record instead of looking for an answer key.
    env = {**os.environ, **execute.kernel_environment(execute.KERNEL_THREADS),
           **execute.recording_environment(copy.with_suffix(".key.jsonl"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
                           "-q", "--color=no", "--rootdir", str(folder), copy.name],
                          cwd=folder, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout[-6000:] + done.stderr[-2000:]


def _rerun_with_nbval(chapter, scratch: Path) -> tuple[int, str]:
    return _nbval(chapter.executed, scratch)


@pytest.fixture(scope="session")
def reruns(executed, tmp_path_factory):
    """Every chapter's executed notebook checked by nbval: (returncode, report) by id."""
    return ahead.results("reruns", tmp_path_factory)


@pytest.fixture(scope="session")
def elsewhere(executed, tmp_path_factory):
    """Every chapter run again in another numeric environment (bookbuild/portability.py: another seed,
    thread count and CPU kernels), its hidden tests judged against the build's key: ``None`` or the
    error, by id."""
    return ahead.results("elsewhere", tmp_path_factory)


def _run_elsewhere(chapter, scratch):
    try:
        portability.run_elsewhere(chapter, execute.key_records(chapter), scratch, execute.KERNEL_THREADS)
    except execute.ExecutionError as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def built_site(request, executed, tmp_path_factory):
    """The HTML site of every language (Sphinx rebuilds incrementally), built once per test run: a
    second worker that needs it finds it built (rebuilding would rewrite files the other is serving).
    The PDFs the session's tests read are then printed from it on the spare core (``ahead``)."""
    with one_worker_at_a_time("site"):
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # one id shared by the workers of a run
        stamp = layout.BUILD / ".site-built-in-run"
        if not (run and stamp.is_file() and stamp.read_text() == run):
            site.build("show", jobs=JOBS)
            stamp.write_text(run or "")
    ahead.start_printing(request.session, layout.HTML, tmp_path_factory.mktemp("pdf"))
    ahead.start_grading(request.session, tmp_path_factory)
    return layout.HTML


@pytest.fixture(scope="session")
def printed_pdfs(built_site, tmp_path_factory):
    """``printed_pdfs(codes) -> paths``: each edition's PDF, printed from the built site (not published)."""
    out = tmp_path_factory.mktemp("pdf")
    return lambda codes: ahead.outcome(("books", tuple(sorted(codes))), _print_pdfs, codes, built_site, out)


def _print_pdfs(codes: list[str], built: Path, out: Path) -> list[Path]:
    return print_pdfs(codes, site=built, out=out, publish=False)


@pytest.fixture(scope="session")
def graded_chapters(executed, tmp_path_factory):
    """The course of every chapter with the reference and the blank release handed in, graded
    (tests/chapter_course.py): on the spare core if it was queued there, else here."""
    return ahead.outcome("graded_chapters", chapter_course.graded, tmp_path_factory.mktemp("chapters"), CHAPTERS)


# --- A browser and the served site (tests/test_browser.py, tests/test_jupyterlab.py, tests/test_pdf.py) ---

@pytest.fixture(scope="session")
def site_server(built_site):
    """The built site, served on 127.0.0.1 for the whole session; its base URL."""
    with serving(built_site) as base:
        yield base


@pytest.fixture
def serve_folder():
    """Serve other folders for one test: ``base = serve_folder(path)``; stopped when the test ends."""
    with contextlib.ExitStack() as stack:
        yield lambda folder: stack.enter_context(serving(folder))


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium driven by Playwright, one per test module, with a fresh profile."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make setup-test` does)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
