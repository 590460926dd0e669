"""How a grading run behaves, on small courses of its own (tests/grading_course.py): interrupted and
resumed, refused without a sandbox, on a Dask cluster, regraded after the reference is corrected, with
nbgrader's bookkeeping files, stopped by a second Ctrl-C, and after manual grades and late penalties.

Each test grades a handful of submissions one or two at a time, so under ``make test`` they run while
the spare core grades every chapter (tests/conftest.py).
"""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grading_course as gc


def test_interrupted_run_resumes_and_leaves_a_consistent_gradebook(tmp_path):
    root = gc.make_course(tmp_path / "course")
    students = [f"s{i}" for i in range(6)]
    for student in students:
        gc.submit(root, student, gc.correct())
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade", gc.ASSIGNMENT, "--jobs", "1"],
                               cwd=root, env=gc.environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while len(gc.results(root)) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    graded_before = len(gc.results(root))
    assert 2 <= graded_before < len(students) and b"interrupted" in err
    resumed = gc.run(root, "autograder", "grade", gc.ASSIGNMENT, "--jobs", "2")
    assert f"{graded_before} submission(s) were already graded" in resumed.stdout
    assert {s: gc.total(r) for s, r in gc.results(root).items()} == dict.fromkeys(students, gc.TOTAL)
    assert gc.run(root, "nbgrader", "export", "--log-level=ERROR").returncode == 0
    rows = (root / "grades.csv").read_text().strip().splitlines()[1:]
    assert sorted(r.split(",")[3] for r in rows) == students and all(r.endswith(f"{gc.TOTAL}.0,{gc.TOTAL}.0") for r in rows)


def test_grading_refuses_without_a_sandbox_unless_told(tmp_path):
    root = gc.make_course(tmp_path / "course")
    gc.submit(root, "someone", gc.correct())
    env = {**gc.environment(), "PATH": str(Path(sys.executable).parent)}  # no bwrap on the PATH
    refused = subprocess.run([sys.executable, "-m", "autograder", "grade", gc.ASSIGNMENT], cwd=root, env=env,
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "refusing to grade" in refused.stderr and "bubblewrap" in refused.stderr
    allowed = subprocess.run([sys.executable, "-m", "autograder", "grade", gc.ASSIGNMENT, "--unsafe-no-sandbox"],
                             cwd=root, env=env, capture_output=True, text=True)
    assert allowed.returncode == 0 and gc.total(gc.results(root)["someone"]) == gc.TOTAL
    assert "WITHOUT a sandbox" in allowed.stderr and "building the answer key" in allowed.stderr
    assert gc.results(root)["someone"]["sandboxed"] is False and "no sandbox" in allowed.stdout
    assert "no sandbox" in gc.run(root, "autograder", "report", gc.ASSIGNMENT).stdout


def test_an_unreachable_dask_scheduler_is_named_quickly(tmp_path):
    root = gc.make_course(tmp_path / "course")
    gc.submit(root, "someone", gc.correct())
    started = time.monotonic()
    result = gc.run(root, "autograder", "grade", gc.ASSIGNMENT, "--dask-scheduler", "tcp://127.0.0.1:9", check=False)
    assert result.returncode != 0 and "no Dask scheduler answers at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr and time.monotonic() - started < 120


def test_grading_on_a_dask_cluster(tmp_path):
    from distributed import LocalCluster

    root = gc.make_course(tmp_path / "course")
    gc.submit(root, "right", gc.correct())
    gc.submit(root, "half", gc.correct(**{"double-answer": gc.WRONG_DOUBLE}))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = gc.run(root, "autograder", "grade", gc.ASSIGNMENT, "--dask-scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stderr[-2000:]
    assert {s: gc.total(r) for s, r in gc.results(root).items()} == {"right": gc.TOTAL, "half": gc.TOTAL - 2}


def test_a_corrected_reference_regrades_exactly_the_affected_submissions(tmp_path):
    """Results remember the key they were judged with (its content, not only its seed): after the
    reference of the choice exercise changes, the next run regrades without --force."""
    root = gc.make_course(tmp_path / "course")
    gc.submit(root, "picked_b", gc.correct())
    gc.submit(root, "picked_c", gc.correct(**{"pick-answer": 'pick = "c"\n'}))
    gc.run(root, "autograder", "grade", gc.ASSIGNMENT)
    before = {s: gc.total(r) for s, r in gc.results(root).items()}
    assert before == {"picked_b": gc.TOTAL, "picked_c": gc.TOTAL - 1}
    source = root / "solutions" / gc.ASSIGNMENT / f"{gc.ASSIGNMENT}.ipynb"
    source.write_text(source.read_text().replace('pick = \\"b\\"', 'pick = \\"c\\"'))
    again = gc.run(root, "autograder", "grade", gc.ASSIGNMENT)
    assert "already graded" not in again.stdout
    changed = again.stdout.split("what changed since the last grading (2 notebook(s)):")[-1]
    assert f"picked_b  {gc.ASSIGNMENT}  {gc.TOTAL:g} -> {gc.TOTAL - 1:g} (-1): pick-tests 1 -> 0" in changed, again.stdout
    assert f"picked_c  {gc.ASSIGNMENT}  {gc.TOTAL - 1:g} -> {gc.TOTAL:g} (+1): pick-tests 0 -> 1" in changed, again.stdout
    assert {s: gc.total(r) for s, r in gc.results(root).items()} == {"picked_b": gc.TOTAL - 1, "picked_c": gc.TOTAL}
    unchanged = gc.run(root, "autograder", "grade", gc.ASSIGNMENT)
    assert "2 submission(s) were already graded" in unchanged.stdout


def test_nbgrader_bookkeeping_files_follow_the_graded_notebook(tmp_path):
    """`nbgrader release_feedback` looks for submission_secret.txt beside the autograded notebook."""
    root = gc.make_course(tmp_path / "course")
    folder = gc.submit(root, "exchanged", gc.correct()).parent
    (folder / "timestamp.txt").write_text("2026-11-30 12:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text("0123456789abcdef")
    gc.run(root, "autograder", "grade", gc.ASSIGNMENT)
    graded = root / "autograded" / "exchanged" / gc.ASSIGNMENT
    assert (graded / "submission_secret.txt").read_text() == "0123456789abcdef"
    assert (graded / "timestamp.txt").is_file()
    gc.run(root, "nbgrader", "generate_feedback", gc.ASSIGNMENT, "--log-level=ERROR")
    assert (root / "feedback" / "exchanged" / gc.ASSIGNMENT / "submission_secret.txt").is_file()


def _sandboxes_of(pid: int) -> list[int]:
    """The bubblewrap processes that ``pid`` started and that are still alive."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)[0].split("(", 1)[1], stat.read_text().rsplit(")", 1)[1]
        except (OSError, IndexError):
            continue
        if name == "bwrap" and int(rest.split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    """Before, the second Ctrl-C raised in the main thread and the executor then ran every queued
    sandbox to its time limit (six endless loops at 60 s, two at a time: three minutes)."""
    root = gc.make_course(tmp_path / "course")
    for i in range(6):
        gc.submit(root, f"loop{i}", gc.correct(**{"double-answer": "while True:\n    pass\n"}))
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "autograder", "grade", gc.ASSIGNMENT, "--jobs", "2",
                                    "--timeout", "60"], cwd=root, env=gc.environment(),
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 180
    grading = lambda: "grading" in log.read_text() and _sandboxes_of(process.pid)  # past the sandbox probe
    while not grading() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert grading(), f"no submission's sandbox started:\n{log.read_text()[-2000:]}"
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    process.wait(timeout=60)
    assert time.monotonic() - started < 20, "the run went on after the second Ctrl-C"
    assert process.returncode != 0 and "interrupted" in log.read_text(), log.read_text()[-2000:]
    assert not _sandboxes_of(process.pid)
    assert not gc.results(root), "a submission was recorded although none finished"


def test_report_follows_the_gradebook_after_manual_grading_and_late_penalties(tmp_path):
    """The report (text and HTML), the end-of-run summary and `nbgrader export` agree: a manual grade
    from the formgrader and a late penalty (penalty_method "zero") show in all of them, and a forced
    regrade keeps the manual grade without asking for it again."""
    from nbgrader.api import Gradebook

    root = gc.make_course(tmp_path / "course")
    with (root / "nbgrader_config.py").open("a") as config:
        config.write('c.LateSubmissionPlugin.penalty_method = "zero"\n')
    gc.run(root, "nbgrader", "db", "assignment", "add", gc.ASSIGNMENT, "--duedate=2026-06-01 00:00:00 UTC")
    gc.submit(root, "hand_graded", gc.correct(**{"double-answer": gc.WRONG_DOUBLE}))
    late = gc.submit(root, "late", gc.correct()).parent
    (late / "timestamp.txt").write_text("2026-06-02 00:00:00.000000 UTC")
    summary = gc.run(root, "autograder", "grade", gc.ASSIGNMENT).stdout
    assert re.search(rf"late\s+{gc.ASSIGNMENT}\s+0/{gc.TOTAL}", summary), summary
    before = gc.html_report(root, tmp_path / "before")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # what the formgrader does
        grade = gb.find_grade("double-tests", gc.ASSIGNMENT, gc.ASSIGNMENT, "hand_graded")
        grade.manual_score = 2
        gb.db.commit()
    after = gc.html_report(root, tmp_path / "after")
    assert before["hand_graded"] == ["0", "1", "2", "1", "0", f"{gc.TOTAL - 2}/{gc.TOTAL}"]
    assert after["hand_graded"] == ["2*", "1", "2", "1", "0", f"{gc.TOTAL}/{gc.TOTAL}"]
    assert before["late"] == after["late"] == ["2", "1", "2", "1", f"{gc.TOTAL}", f"0/{gc.TOTAL}"]
    gc.assert_bars_count((tmp_path / "before" / "totals.svg").read_text(), [1, 0, 0, 0, 1, 0, 0])
    gc.assert_bars_count((tmp_path / "after" / "totals.svg").read_text(), [1, 0, 0, 0, 0, 0, 1])
    text = gc.run(root, "autograder", "report", gc.ASSIGNMENT).stdout
    assert f"hand_graded  {gc.ASSIGNMENT}  {gc.TOTAL}/{gc.TOTAL}" in text and "graded by hand" in text
    assert f"late  {gc.ASSIGNMENT}  0/{gc.TOTAL}" in text and f"late penalty {gc.TOTAL}" in text
    gc.run(root, "nbgrader", "export", "--log-level=ERROR")
    with (root / "grades.csv").open() as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert exported == {"hand_graded": gc.TOTAL, "late": 0}
    gc.run(root, "autograder", "grade", gc.ASSIGNMENT, "--student", "hand_graded", "--force")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        grade = gb.find_grade("double-tests", gc.ASSIGNMENT, gc.ASSIGNMENT, "hand_graded")
        assert grade.manual_score == 2 and not grade.needs_manual_grade


