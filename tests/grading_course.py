"""A small nbgrader course for the grader's tests, the submissions students hand in to it, and how
the tests read what the grader reports.

The quiz has one exercise of each kind (a function, a value, a derivation, a
choice; 6 points) and imports only numpy and sympy, so a sandboxed run takes
about a second and the suite can afford dozens of them, hostile ones included.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "quiz"
POINTS = {"double-tests": 2, "count-tests": 1, "deriv-tests": 2, "pick-tests": 1}
TOTAL = sum(POINTS.values())

REFERENCE = {
    "double-answer": "def double(x):\n    return 2 * np.asarray(x, dtype=float)\n",
    "count-answer": "count = 4 * (30 * (1 + 30) + 30)\n",
    "deriv-answer": "deriv = sp.cos(x) * y\n",
    "pick-answer": 'pick = "b"\n',
}
WRONG_DOUBLE = "def double(x):\n    return np.asarray(x, dtype=float)\n"  # the commonest mistake: x, not 2x


def correct(**changes) -> dict[str, str]:
    """The reference's answers, with ``changes`` (answers by grade id) made to them."""
    return {**REFERENCE, **changes}


def _answer(grade_id: str, body: str) -> nbformat.NotebookNode:
    return new_code_cell(body, metadata={"nbgrader": {
        "grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True, "task": False}})


def _test(grade_id: str, body: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(body).strip() + "\n", metadata={"nbgrader": {
        "grade": True, "grade_id": grade_id, "locked": True, "points": POINTS[grade_id], "schema_version": 3,
        "solution": False, "task": False}})


def _solution(grade_id: str) -> str:
    lines = REFERENCE[grade_id].rstrip("\n").splitlines()
    if lines[0].startswith("def "):
        return "\n".join([lines[0], "    ### BEGIN SOLUTION", *lines[1:], "    ### END SOLUTION"])
    return "\n".join(["### BEGIN SOLUTION", *lines, "### END SOLUTION"])


def reference_notebook() -> nbformat.NotebookNode:
    cells = [
        new_code_cell("import numpy as np\nimport sympy as sp"),
        new_markdown_cell("Write `double(x)`, which returns `2 * x` as a float array."),
        _answer("double-answer", _solution("double-answer")),
        _test("double-tests", """
            assert np.allclose(double([1, 2]), [2, 4])
            ### BEGIN HIDDEN TESTS
            from autograder.authoring import Function
            Function("double", cases=[([1.0, 2.0],), (np.arange(3.0),)],
                     random_cases=lambda rng: (rng.normal(size=4),), n_random=5, rtol=1e-9).check(globals())
            ### END HIDDEN TESTS
            """),
        new_markdown_cell("How many parameters has a Keras `LSTM(30)` on one feature? Store it in `count`."),
        _answer("count-answer", _solution("count-answer")),
        _test("count-tests", """
            assert isinstance(count, int)
            ### BEGIN HIDDEN TESTS
            from autograder.authoring import Value
            Value("count", rtol=0, atol=0).check(globals())
            ### END HIDDEN TESTS
            """),
        new_code_cell('x, y = sp.symbols("x y", real=True)'),
        new_markdown_cell("Differentiate `sin(x) * y` with respect to `x`; store the result in `deriv`."),
        _answer("deriv-answer", _solution("deriv-answer")),
        _test("deriv-tests", """
            assert deriv.free_symbols <= {x, y}
            ### BEGIN HIDDEN TESTS
            from autograder.authoring import Formula
            Formula("deriv", symbols={"x": (-2, 2), "y": (-2, 2)}).check(globals())
            ### END HIDDEN TESTS
            """),
        new_markdown_cell('Which letter is "b"? Store `"a"`, `"b"` or `"c"` in `pick`.'),
        _answer("pick-answer", _solution("pick-answer")),
        _test("pick-tests", """
            assert pick in ("a", "b", "c")
            ### BEGIN HIDDEN TESTS
            from autograder.authoring import Choice
            Choice("pick", options=["a", "b", "c"]).check(globals())
            ### END HIDDEN TESTS
            """),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "grading-tests"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# plain nbgrader, for the comparison: a stuck cell gives up after a few seconds (as many as
# tests/test_grading.py gives our grader, so an honest cell never meets it on a loaded machine)
c.Execute.timeout = 8
c.Execute.interrupt_on_timeout = True
"""


def environment() -> dict:
    """The environment nbgrader and the grader need: the virtual environment's commands first."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def make_course(root: Path) -> Path:
    """A course folder with the quiz generated into notebooks/ and registered in the gradebook.

    It is a copy of one course generated per process, with its own configuration: ``nbgrader
    generate_assignment`` costs about 10 CPU seconds (nbgrader's start and a new gradebook), and a
    dozen tests each want a fresh course."""
    shutil.copytree(_generated_course(), root, dirs_exist_ok=True)  # root may be an empty folder
    _configure(root)
    return root


@functools.cache
def _generated_course() -> Path:
    root = Path(tempfile.mkdtemp(prefix="quiz-course-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "solutions" / ASSIGNMENT).mkdir(parents=True)
    _configure(root)
    nbformat.write(reference_notebook(), root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    run(root, "nbgrader", "generate_assignment", ASSIGNMENT, "--log-level=ERROR")
    return root


def _configure(root: Path) -> None:
    """nbgrader's configuration names the course's absolute path."""
    (root / "nbgrader_config.py").write_text(CONFIG.format(root=str(root)))


def run(root: Path, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    if command[0] == "nbgrader":
        command = (sys.executable, "-m", *command)
    elif command[0] == "autograder":
        command = (sys.executable, "-m", *command)
    return subprocess.run(command, cwd=root, env=environment(), capture_output=True, text=True, check=check)


def release(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(root / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def submit(root: Path, student: str, answers: dict[str, str] | None = None, edit=None,
           raw: bytes | None = None, filename: str = f"{ASSIGNMENT}.ipynb") -> Path:
    """Hand in the release with ``answers`` (grade id -> source), optionally edited by ``edit(nb)``."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    if raw is not None:
        path.write_bytes(raw)
        return path
    nb = release(root)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell.source = answers[grade_id]
    if edit:
        edit(nb)
    nbformat.write(nb, path)
    return path


def results(root: Path) -> dict[str, dict]:
    """The grader's records by student."""
    folder = root / ".autograder" / "results" / ASSIGNMENT
    return {json.loads(p.read_text())["student"]: json.loads(p.read_text()) for p in folder.glob("*.json")}


def total(record: dict) -> float:
    """The points of one graded submission (one of :func:`results`)."""
    return sum(c["score"] or 0 for c in record["cells"])


def html_report(root: Path, folder: Path) -> dict[str, list[str]]:
    """``report --html``'s students table: the cells of each student's row ("*": graded by hand)."""
    run(root, "autograder", "report", ASSIGNMENT, "--html", str(folder))
    page = (folder / "index.html").read_text()
    rows = re.findall(rf'<tr id="([^"]+)\.{ASSIGNMENT}">(.*?)</tr>', page)
    cell = re.compile(r'<td( class="manual")?[^>]*>([^<]*)</td>')
    return {student: [text + ("*" if manual else "") for manual, text in cell.findall(row)][2:]
            for student, row in rows}


# A bar of a histogram in the SVG: its group id (plots.histogram names them), the y of its base and of its top.
SVG_BAR = re.compile(r'<g id="bar-(\d+)">\s*<path d="M [-\d.]+ ([-\d.]+)\s+L [-\d.]+ [-\d.]+\s+L [-\d.]+ ([-\d.]+)')


def bar_heights(svg: str) -> list[float]:
    bars = SVG_BAR.findall(svg)
    assert [int(index) for index, _, _ in bars] == list(range(len(bars)))
    return [float(base) - float(top) for _, base, top in bars]


def assert_bars_count(svg: str, counts: list[int]) -> None:
    """The SVG has one bar per count, each as high as its count (in the unit of the highest)."""
    heights = bar_heights(svg)
    assert len(heights) == len(counts), (heights, counts)
    unit = max(heights) / max(counts)
    assert heights == pytest.approx([count * unit for count in counts], abs=0.01), (heights, counts)
