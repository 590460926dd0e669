"""The instructor's whole loop, from release to the LMS export, as README's Grading section tells it.

Three students of the small quiz course (tests/grading_course.py) fetch the assignment through
nbgrader's exchange, answer and submit it: alice rightly, bob with a wrong ``double`` that the
instructor then grades by hand, carol rightly but after the due date. The instructor collects,
grades with ``python -m autograder grade``, gives bob's cell a manual grade as the formgrader
saves it, generates and releases the feedback, which each student fetches, and exports the CSV.

Each command is a shell line run as written; ``test_readme_tells_the_loop_the_test_runs`` holds
README to the same lines (for ``ch10_rnn`` instead of ``quiz``). A student is a separate user on
one machine: a home folder of their own (so nbgrader's submission cache is theirs) and
``--student``, which nbgrader's ``submit`` and ``fetch_feedback`` take instead of the login name.
"""

from __future__ import annotations

import csv
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import nbformat

import grading_course as gc

README = Path(__file__).resolve().parents[1] / "README.md"

# The loop's commands in README's order: (who runs it, the step's name, the shell line). README shows
# them for ch10_rnn, student alice and the due date of README_VALUES.
STEPS = [
    ("instructor", "due date", "nbgrader db assignment add {assignment} --duedate={duedate}"),
    ("instructor", "release", "nbgrader release_assignment {assignment}"),
    ("student", "fetch", "nbgrader fetch_assignment {assignment}"),
    ("student", "submit", "nbgrader submit {assignment} --student {student}"),
    ("instructor", "collect", "nbgrader collect {assignment}"),
    ("instructor", "grade", "python -m autograder grade {assignment}"),
    ("instructor", "feedback", "nbgrader generate_feedback {assignment}"),
    ("instructor", "release feedback", "nbgrader release_feedback {assignment}"),
    ("student", "fetch feedback", "nbgrader fetch_feedback {assignment} --student {student}"),
    ("instructor", "csv", "python -m autograder report {assignment} --csv > {assignment}.csv"),
    ("instructor", "export", "nbgrader export"),
]
README_VALUES = {"assignment": "ch10_rnn", "student": "alice", "duedate": '"2026-12-15 23:59:00 UTC"'}
COMMAND = {name: template for _, name, template in STEPS}

ANSWERS = {"alice": gc.REFERENCE, "bob": {**gc.REFERENCE, "double-answer": gc.WRONG_DOUBLE}, "carol": gc.REFERENCE}
MANUAL_COMMENT = "Right idea; the factor 2 is missing."


def sh(cwd: Path, step: str, env: dict | None = None, **values) -> str:
    """Run one of STEPS, filled in, through the shell, as an instructor or student types it."""
    line = COMMAND[step].format(assignment=gc.ASSIGNMENT, **values)
    done = subprocess.run(line, shell=True, cwd=cwd, env=env or gc.environment(), capture_output=True, text=True)
    assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def student_home(tmp_path: Path, exchange: Path, student: str) -> tuple[Path, dict]:
    """A student's home folder, with the course's id and exchange in their nbgrader config."""
    home = tmp_path / "home" / student
    home.mkdir(parents=True)
    (home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'grading-tests'\nc.Exchange.root = {str(exchange)!r}\n")
    env = {k: v for k, v in gc.environment().items() if not k.startswith("JUPYTER")}
    return home, {**env, "HOME": str(home)}


def answer(notebook: Path, answers: dict[str, str]) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(nb, notebook)


def fetch_and_answer(home: Path, env: dict, student: str) -> None:
    sh(home, "fetch", env)
    answer(home / gc.ASSIGNMENT / f"{gc.ASSIGNMENT}.ipynb", ANSWERS[student])


def fetch_answer_submit(home: Path, env: dict, student: str) -> None:
    fetch_and_answer(home, env, student)
    sh(home, "submit", env, student=student)


def fetch_feedback(home: Path, env: dict, student: str) -> str:
    """The feedback page the student finds after ``fetch_feedback``."""
    sh(home, "fetch feedback", env, student=student)
    found = list((home / gc.ASSIGNMENT / "feedback").glob(f"*/{gc.ASSIGNMENT}.html"))
    assert len(found) == 1, (student, found)
    return found[0].read_text()


def grade_by_hand(root: Path, student: str, grade_id: str, score: float, comment: str) -> None:
    """What the formgrader's API saves for a manual grade and its comment."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "grading-tests") as gb:
        grade = gb.find_grade(grade_id, gc.ASSIGNMENT, gc.ASSIGNMENT, student)
        grade.manual_score = score
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        answer_id = grade_id.replace("-tests", "-answer")
        gb.find_comment(answer_id, gc.ASSIGNMENT, gc.ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


def test_the_instructor_loop_from_release_to_the_lms_export(tmp_path):
    root = gc.make_course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"c.Exchange.root = {str(exchange)!r}\nc.LateSubmissionPlugin.penalty_method = 'zero'\n")
    homes = {student: student_home(tmp_path, exchange, student) for student in ANSWERS}

    # The students work at once, each in their own processes (the test's budget allows no queue).
    with ThreadPoolExecutor(max_workers=len(ANSWERS)) as at_once:
        sh(root, "release")
        on_time = [at_once.submit(fetch_answer_submit, *homes[s], s) for s in ("alice", "bob")]
        late = at_once.submit(fetch_and_answer, *homes["carol"], "carol")
        for done in on_time:
            done.result()
        # The due date falls after alice's and bob's hand-in, before carol's (README sets it first).
        sh(root, "due date", duedate=f'"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S.%f} UTC"')
        late.result()
        home, env = homes["carol"]
        sh(home, "submit", env, student="carol")

        sh(root, "collect")
        for student in ANSWERS:
            assert (root / "submitted" / student / gc.ASSIGNMENT / f"{gc.ASSIGNMENT}.ipynb").is_file(), student
        summary = sh(root, "grade")
        assert re.search(rf"carol\s+{gc.ASSIGNMENT}\s+0/{gc.TOTAL}", summary), summary
        grade_by_hand(root, "bob", "double-tests", 1, MANUAL_COMMENT)

        sh(root, "feedback")
        sh(root, "release feedback")
        feedback = {s: at_once.submit(fetch_feedback, *homes[s], s) for s in ANSWERS}
        export = at_once.submit(sh, root, "export")
        sh(root, "csv")
        feedback = {student: page.result() for student, page in feedback.items()}
        export.result()
    with (root / f"{gc.ASSIGNMENT}.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows == [["student", "notebook", *gc.POINTS, "late_penalty", "total", "max_score"],
                    ["alice", gc.ASSIGNMENT, "2", "1", "2", "1", "0", "6", "6"],
                    ["bob", gc.ASSIGNMENT, "1", "1", "2", "1", "0", "5", "6"],
                    ["carol", gc.ASSIGNMENT, "2", "1", "2", "1", "6", "0", "6"]]
    for student, total, maximum in ((row[0], row[-2], row[-1]) for row in rows[1:]):  # what the students see
        assert f"{gc.ASSIGNMENT} (Score: {float(total)} / {float(maximum)})" in feedback[student], student
        assert (MANUAL_COMMENT in feedback[student]) == (student == "bob"), student
    assert f"Late submission penalty (Score: -{float(gc.TOTAL)})" in feedback["carol"]
    with (root / "grades.csv").open() as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert exported == {row[0]: float(row[-2]) for row in rows[1:]}, "the CSV and nbgrader's export disagree"


def test_readme_tells_the_loop_the_test_runs():
    """Every command of the loop is in README's Grading section, in the order the loop runs them."""
    text = README.read_text()
    grading = text[text.index("\n## Grading\n"):]
    grading = grading[:grading.index("\n## ", 5)]
    at = 0
    for who, _, template in STEPS:
        line = template.format(**README_VALUES)
        found = grading.find(line, at)
        assert found >= 0, f"README's Grading section lacks, after the previous step, the {who}'s line: {line}"
        at = found + len(line)
