"""The grader against honest and hostile submissions, next to what plain nbgrader awards.

Every submission below is handed in to a small course (tests/grading_course.py)
and graded by ``python -m autograder grade`` in the sandbox. The same
submissions (except the ones that would harm the machine running the tests)
are also graded by plain ``nbgrader autograde``; its scores are recorded in
``_build/grading-comparison.md`` so the README can show the difference.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_output

import grading_course as gc
from bookbuild import layout


@dataclass
class Case:
    student: str
    what: str
    expected: int                         # our total out of gc.TOTAL
    reason: str | tuple[str, ...] = ""    # must appear among the reasons for lost points (one of them, if several)
    answers: dict = field(default_factory=dict)
    edit: object = None
    raw: bytes | None = None
    filename: str = f"{gc.ASSIGNMENT}.ipynb"
    honest: bool = False
    harmful: bool = False                 # would harm the machine under plain nbgrader: not run there


# A memory bomb is stopped by whichever limit it meets first: the address space (MemoryError) or, on a
# loaded machine where allocating is slow, the cell's time limit. Either is a named resource limit.
RESOURCE_LIMIT = ("MemoryError", "did not finish")
# Per-cell time limit of these tests: loops must hit it, honest answers must never come near it,
# even on a machine loaded far beyond its cores.
CELL_TIMEOUT = "8"


def _alternatives(reason: str | tuple[str, ...]) -> tuple[str, ...]:
    return (reason,) if isinstance(reason, str) else reason


def _drop(grade_id):
    return lambda nb: nb.cells.remove(next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id))


def _duplicate(grade_id):
    def edit(nb):
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        copy = nbformat.from_dict(json.loads(json.dumps(cell)))
        copy.id = f"{cell.id}-copy"
        nb.cells.insert(nb.cells.index(cell), copy)
    return edit


def _retype(grade_id):
    def edit(nb):
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        old = nb.cells[index]
        nb.cells[index] = new_markdown_cell(old.source, metadata=old.metadata)
    return edit


def _points(grade_id, points):
    def edit(nb):
        next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id).metadata.nbgrader.points = points
    return edit


def _test_source(grade_id, source):
    def edit(nb):
        next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id).source = source
    return edit


def _bloat(nb):
    nb.cells[0].outputs = [new_output("stream", name="stdout", text="x" * (6 * 2**20))]


def cases(port: int) -> list[Case]:
    return [
        # ---------------------------------------------------------------- honest
        Case("correct", "fully correct", 6, answers=gc.correct(), honest=True),
        Case("partial", "double is wrong, the rest right", 4, "values differ", answers=gc.correct(**{"double-answer": gc.WRONG_DOUBLE}), honest=True),
        Case("tolerance", "double off by 1e-12", 6, answers=gc.correct(**{"double-answer": "def double(x):\n    return 2 * np.asarray(x, dtype=float) + 1e-12\n"}), honest=True),
        Case("wrong", "every answer wrong", 0, "values differ", honest=True, answers={
            "double-answer": gc.WRONG_DOUBLE, "count-answer": "count = 3960\n", "deriv-answer": "deriv = sp.sin(x)\n",
            "pick-answer": 'pick = "a"\n'}),
        Case("blank", "nothing answered", 0, "NotImplementedError", honest=True),
        Case("warns", "correct, but double issues a UserWarning (stderr)", 6, honest=True, answers=gc.correct(**{"double-answer":
            "import warnings\n\ndef double(x):\n    warnings.warn('a harmless warning')\n    return 2 * np.asarray(x, dtype=float)\n"})),
        # ---------------------------------------------------------------- answers that cheat
        Case("always_equal", "double returns an object whose __eq__ is always True", 4, "cannot send",
             answers=gc.correct(**{"double-answer": "class _Yes:\n    def __eq__(self, other):\n        return True\n\ndef double(x):\n    return _Yes()\n"})),
        Case("patch_numpy", "replaces np.isclose and np.allclose, wrong double", 4, "values differ", answers=gc.correct(**{"double-answer":
            "np.allclose = lambda *a, **k: True\n"
            "np.isclose = lambda a, b, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)\n"
            + gc.WRONG_DOUBLE})),
        Case("patch_judge", "replaces the grader's judge function and np.allclose; every answer wrong", 0, "values differ",
             answers={"double-answer": "import autograder.kinds as _kinds\n_kinds.judge = lambda entry, replies: []\n"
                                       "np.allclose = lambda *a, **k: True\n" + gc.WRONG_DOUBLE,
                      "count-answer": "count = 1\n", "deriv-answer": "deriv = x * y\n", "pick-answer": 'pick = "a"\n'}),
        Case("read_solutions", "finds the reference notebook on disk and runs it", 4, "values differ", answers=gc.correct(**{"double-answer":
            "import json, os\n\ndef double(x):\n    here = os.path.abspath(os.getcwd())\n"
            "    while True:\n        path = os.path.join(here, 'solutions', 'quiz', 'quiz.ipynb')\n"
            "        if os.path.exists(path):\n            cells = json.load(open(path))['cells']\n"
            "            source = ''.join(next(c['source'] for c in cells if c['metadata'].get('nbgrader', {}).get('grade_id') == 'double-answer'))\n"
            "            scope = {'np': np}\n            exec(source, scope)\n            return scope['double'](x)\n"
            "        if here == '/':\n            return np.asarray(x, dtype=float)\n        here = os.path.dirname(here)\n"})),
        Case("network", "asks a server on the grading machine's loopback for help", 4, "values differ", answers=gc.correct(**{"double-answer":
            f"import urllib.request\n\ndef double(x):\n    try:\n        urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2).read()\n"
            "        return 2 * np.asarray(x, dtype=float)\n    except Exception:\n        return np.asarray(x, dtype=float)\n"})),
        # ---------------------------------------------------------------- answers that break the run
        Case("infinite_loop", "an infinite loop in the double cell", 4, "did not finish", answers=gc.correct(**{"double-answer": "while True:\n    pass\n"})),
        Case("loop_swallows_interrupt", "a loop that swallows KeyboardInterrupt", 4, "did not finish", answers=gc.correct(**{"deriv-answer":
            "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"})),
        Case("slow_function", "double never returns", 4, "did not finish", answers=gc.correct(**{"double-answer": "def double(x):\n    while True:\n        pass\n"})),
        Case("memory_bomb", "allocates memory until it fails", 5, RESOURCE_LIMIT, harmful=True, answers=gc.correct(**{"count-answer":
            "blocks = []\nwhile True:\n    blocks.append(bytearray(100 * 2**20))\n"})),
        Case("fork_bomb", "forks without end", 5, "pick", harmful=True, answers=gc.correct(**{"pick-answer": "import os\nwhile True:\n    os.fork()\n"})),
        Case("sys_exit", "calls sys.exit", 4, "SystemExit", answers=gc.correct(**{"deriv-answer": "import sys\nsys.exit('bye')\n"})),
        Case("os_exit", "calls os._exit", 5, "ended the process", answers=gc.correct(**{"count-answer": "import os\nos._exit(3)\n"})),
        Case("kill_kernel", "kills its own process", 4, "was killed", answers=gc.correct(**{"double-answer": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"})),
        Case("segfault", "crashes the interpreter", 5, "segmentation fault", answers=gc.correct(**{"pick-answer": "import ctypes\nctypes.string_at(0)\n"})),
        Case("print_flood", "prints 20 MB before a correct answer", 6, answers=gc.correct(**{"double-answer":
            "for _ in range(20):\n    print('x' * 2**20)\n\n" + gc.REFERENCE["double-answer"]})),
        Case("channel_flood", "finds the grader's result pipe and floods it", 5, "output flood", answers=gc.correct(**{"pick-answer":
            "import gc, os\nchannel = next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')\n"
            "os.write(channel.fd, b'x' * (24 * 2**20))\npick = 'b'\n"})),
        Case("fill_disk", "writes a file until the disk is full", 5, "File too large", harmful=True, answers=gc.correct(**{"count-answer":
            "with open('filler.bin', 'wb') as f:\n    for _ in range(300):\n        f.write(bytes(2**20))\ncount = 3840\n"})),
        # ---------------------------------------------------------------- notebooks that are not what was released
        Case("invalid_json", "the file is not JSON", 0, "not valid JSON", raw=b"{this is not json"),
        Case("wrong_nbformat", "an nbformat 3 notebook", 0, "nbformat 4", raw=json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}).encode()),
        Case("missing_cell", "deleted the test cell of double", 4, "missing", answers=gc.correct(), edit=_drop("double-tests")),
        Case("duplicated_cell", "duplicated the double answer cell", 4, "appears 2 times", answers=gc.correct(), edit=_duplicate("double-answer")),
        Case("retyped_cell", "turned the count answer into markdown", 5, "changed from a code cell", answers=gc.correct(), edit=_retype("count-answer")),
        Case("edited_points", "raised the points of a test to 200", 4, "points", answers=gc.correct(), edit=_points("double-tests", 200)),
        Case("edited_test", "replaced a test by `pass`, wrong double", 4, "values differ",
             answers=gc.correct(**{"double-answer": gc.WRONG_DOUBLE}), edit=_test_source("double-tests", "pass\n")),
        Case("renamed", "handed in under another file name", 0, "renamed", answers=gc.correct(), filename="quiz (1).ipynb"),
        Case("oversized", "a 6 MB notebook", 0, "the limit is", answers=gc.correct(), edit=_bloat),
    ]


class _Helper(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"the answer is 2x")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def loopback_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Helper)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def hand_in(root: Path, all_cases: list[Case]) -> None:
    for case in all_cases:
        gc.submit(root, case.student, case.answers, case.edit, case.raw, case.filename)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, loopback_server):
    """Our grader on every case; plain nbgrader, meanwhile, on every case that cannot harm the machine."""
    all_cases = cases(loopback_server)
    ours = gc.make_course(tmp_path_factory.mktemp("ours"))
    hand_in(ours, all_cases)
    harmless = [c for c in all_cases if not c.harmful]
    with ThreadPoolExecutor(max_workers=2) as background:  # two course copies, half the students each
        halves = [background.submit(plain_nbgrader, tmp_path_factory, harmless[i::2]) for i in range(2)]
        started = time.monotonic()
        result = gc.run(ours, "autograder", "grade", gc.ASSIGNMENT, "--jobs", "2", "--timeout", CELL_TIMEOUT,
                        "--memory", "1024", check=False)
        seconds = time.monotonic() - started
        plain_scores = {**halves[0].result(), **halves[1].result()}
    print(f"\nours: {seconds:.1f} s for {len(all_cases)} submissions; plain nbgrader: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr[-3000:]
    return {"cases": all_cases, "ours": gc.results(ours), "plain": plain_scores, "root": ours, "seconds": seconds,
            "summary": result.stdout}


def plain_nbgrader(tmp_path_factory, plain_cases: list[Case]) -> dict[str, float | None]:
    """Plain ``nbgrader autograde`` on the same submissions.

    A single bad notebook stops a whole nbgrader run (it did here, on edited
    metadata), leaving everyone after it ungraded; so the run is repeated
    without the student it stopped at, until every other student has a score.
    """
    root = gc.make_course(tmp_path_factory.mktemp("plain"))
    hand_in(root, plain_cases)
    gc.run(root, "autograder", "keys", gc.ASSIGNMENT)  # the hidden blocks compare with this key
    students, stoppers = sorted(c.student for c in plain_cases), []
    while True:
        exclude = ",".join(stoppers)
        gc.run(root, "nbgrader", "autograde", gc.ASSIGNMENT, f"--CourseDirectory.student_id_exclude={exclude}",
               "--log-level=ERROR", check=False)
        scores = _scores(root)
        missing = [s for s in students if s not in scores and s not in stoppers]
        if not missing:
            return {s: scores.get(s) for s in students}
        stoppers.append(missing[0])


def _scores(root: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(gc.ASSIGNMENT)
                if (root / "autograded" / s.student.id / gc.ASSIGNMENT).is_dir()}


def test_every_case_gets_the_expected_score_and_reason(graded):
    failures = []
    for case in graded["cases"]:
        record = graded["ours"].get(case.student)
        if record is None:
            failures.append(f"{case.student}: not graded")
            continue
        reasons = " | ".join(r for c in record["cells"] for r in c["reasons"]) + json.dumps(record["problems"])
        if gc.total(record) != case.expected:
            failures.append(f"{case.student}: {gc.total(record)} instead of {case.expected}: {reasons[:400]}")
        elif case.reason and not any(r in reasons for r in _alternatives(case.reason)):
            failures.append(f"{case.student}: the reasons do not mention {case.reason!r}: {reasons[:400]}")
    assert not failures, "\n".join(failures)


def test_there_are_at_least_twenty_hostile_submissions(graded):
    assert sum(not c.honest for c in graded["cases"]) >= 20


def test_honest_submissions_agree_with_plain_nbgrader(graded):
    """Where nbgrader is not fooled, the two graders agree; the warning case is the known exception."""
    for case in graded["cases"]:
        if case.honest and case.student != "warns":
            assert graded["plain"][case.student] == case.expected, case.student


def test_comparison_with_plain_nbgrader_is_recorded(graded):
    rows = ["| submission | what it does | this grader | plain nbgrader |", "|---|---|---|---|"]
    for case in graded["cases"]:
        plain = graded["plain"].get(case.student)
        plain_text = "not run (would harm the machine)" if case.harmful else (
            "no grade (nbgrader stopped)" if plain is None else f"{plain:g}/{gc.TOTAL}")
        rows.append(f"| `{case.student}` | {case.what} | {gc.total(graded['ours'][case.student]):g}/{gc.TOTAL} | {plain_text} |")
    out = layout.BUILD / "grading-comparison.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rows) + "\n")
    fooled = [c.student for c in graded["cases"] if not c.honest and not c.harmful
              and (graded["plain"].get(c.student) or 0) > c.expected]
    assert "patch_judge" in fooled and "read_solutions" in fooled  # what the sandbox is for


def test_gradebook_is_consistent_after_hostile_submissions(graded):
    from nbgrader.api import Gradebook

    root = graded["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submissions = {s.student.id: s for s in gb.assignment_submissions(gc.ASSIGNMENT)}
        assert set(submissions) == {c.student for c in graded["cases"]}
        for student, submission in submissions.items():
            scores = {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades}
            assert set(scores) == set(gc.POINTS) and None not in scores.values(), student
            assert submission.score == gc.total(graded["ours"][student]), student
    export = gc.run(root, "nbgrader", "export", "--log-level=ERROR")
    assert export.returncode == 0 and (root / "grades.csv").read_text().count(gc.ASSIGNMENT) == len(graded["cases"])
    feedback = gc.run(root, "nbgrader", "generate_feedback", gc.ASSIGNMENT, "--student", "partial", "--log-level=ERROR")
    html = (root / "feedback" / "partial" / gc.ASSIGNMENT / f"{gc.ASSIGNMENT}.html").read_text()
    assert feedback.returncode == 0 and "values differ" in html


def test_a_rerun_gives_the_same_grades(graded):
    root = graded["root"]
    again = gc.run(root, "autograder", "grade", gc.ASSIGNMENT, "--student", "correct", "--student", "partial",
                   "--student", "tolerance", "--force", "--timeout", CELL_TIMEOUT)
    assert again.returncode == 0
    for student in ("correct", "partial", "tolerance"):
        assert gc.total(gc.results(root)[student]) == gc.total(graded["ours"][student])


def test_report_lists_reasons_and_json(graded):
    root = graded["root"]
    text = gc.run(root, "autograder", "report", gc.ASSIGNMENT).stdout
    assert "infinite_loop" in text and "did not finish" in text
    assert text.count("was it renamed?") == 1, "a problem of the whole notebook is told once, not in every cell"
    assert "the test cell was edited" in text
    data = json.loads(gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--json").stdout)
    assert {r["student"] for r in data} == {c.student for c in graded["cases"]}


def test_summary_errors_column_names_failed_answers_and_edited_tests(graded):
    """The end-of-run summary flags what an instructor should look at: answers that raised, hung or
    crashed, and a test cell the student edited (restored for grading, so it costs no points)."""
    errors = {line.split()[0]: " ".join(line.split()[3:]) for line in graded["summary"].splitlines()
              if len(line.split()) >= 4}
    expected = {"infinite_loop": "answer timed out", "slow_function": "answer timed out",
                "sys_exit": "answer raised", "segfault": "answer crashed", "edited_test": "edited-test",
                "renamed": "missing-notebook"}
    wrong = {s: errors.get(s) for s, e in expected.items() if e not in (errors.get(s) or "")}
    assert not wrong, f"errors column: {wrong}\n{graded['summary']}"
    assert errors["correct"] == "-" and errors["blank"] == "-", "an unanswered stub is not an error"


def test_report_as_csv_statistics_and_for_one_student(graded):
    root = graded["root"]
    rows = gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--csv").stdout.splitlines()
    assert rows[0].startswith("student,notebook,") and rows[0].endswith(",late_penalty,total,max_score")
    students = [row.split(",")[0] for row in rows[1:]]
    assert students == sorted(students) and set(students) == {c.student for c in graded["cases"]}
    stats = gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--stats").stdout
    assert f"{len(rows) - 1} graded notebook(s)" in stats and "full marks" in stats
    one = graded["cases"][0].student
    mine = json.loads(gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--json", "--student", one).stdout)
    assert [r["student"] for r in mine] == [one]
    missing = gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--student", "nobody", check=False)
    assert missing.returncode != 0 and "no graded submission of 'nobody'" in missing.stderr


# --------------------------------------------------------------------------- the HTML report and its plots

def students_per_point(scores: list[float], maximum: int) -> list[int]:
    return [sum(score == point for score in scores) for point in range(maximum + 1)]


def test_histogram_bins_count_the_students_of_each_score():
    from autograder import plots

    edges, counts = plots.bins([0, 1, 1, 2.5, 6, 6], 6)
    assert edges == [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]  # one bar per whole point, centred on it
    assert counts == [1, 2, 0, 1, 0, 0, 2]
    edges, counts = plots.bins([0, 4.9, 5, 99, 100, 100], 100)  # above MAX_BARS points: equal bins
    assert len(counts) == plots.MAX_BARS and edges[0] == 0 and edges[-1] == 100
    assert counts[0] == 2 and counts[1] == 1 and counts[-1] == 3 and sum(counts) == 6
    assert plots.bins([0, 0, 0], 0)[1] == [3]


def test_plots_are_the_same_bytes_for_the_same_scores(tmp_path):
    from autograder import plots

    for name in ("a", "b"):
        plots.save(plots.histogram([0, 1, 2, 2], 2, "same"), tmp_path / name)
    for suffix in (".svg", ".png"):
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes(), suffix
    gc.assert_bars_count((tmp_path / "a.svg").read_text(), [1, 1, 2])


def test_html_report_shows_histograms_statistics_and_every_student(graded, tmp_path):
    root, folder = graded["root"], tmp_path / "html"
    gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--html", str(folder))
    records = json.loads(gc.run(root, "autograder", "report", gc.ASSIGNMENT, "--json").stdout)
    page = (folder / "index.html").read_text()
    assert not re.search(r"https?:", page), "the page must open from disk, with no address outside it"
    gc.assert_bars_count((folder / "totals.svg").read_text(), students_per_point([gc.total(r) for r in records], gc.TOTAL))
    for grade_id, points in gc.POINTS.items():
        svg = folder / f"cell-{grade_id}.svg"
        assert svg.is_file() and svg.with_suffix(".png").is_file(), grade_id
        scores = [c["score"] for r in records for c in r["cells"] if c["grade_id"] == grade_id]
        gc.assert_bars_count(svg.read_text(), students_per_point(scores, points))
        assert f'<img src="cell-{grade_id}.svg"' in page and f"<h3>{grade_id}</h3>" in page
    assert '<img src="totals.svg"' in page and (folder / "totals.png").is_file()
    assert "mean " in page and "full marks" in page and "values differ" in page
    for record in records:
        row = re.search(rf'<tr id="{record["student"]}\.{gc.ASSIGNMENT}">(.*?)</tr>', page)
        assert row and f">{gc.total(record):g}/{gc.TOTAL}</td>" in row.group(1), record["student"]
