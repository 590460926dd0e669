"""The single writer: scores into nbgrader's gradebook, graded notebooks into ``autograded/``.

Only the grader's main thread calls this module, one submission at a time, so
the gradebook (SQLite by default) never sees two writers. What it writes is
what ``nbgrader autograde`` would write -- the student and submission rows
with the submission's timestamp, an automatic score for every grade cell,
"No response." comments on untouched answers, late penalties through
nbgrader's own plugin, and a graded notebook whose test cells carry an error
output exactly when points were lost -- so the formgrader,
``generate_feedback`` and ``export`` work unchanged.
"""

from __future__ import annotations

import copy
import shutil
import warnings
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils as nbgrader_utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties
from sqlalchemy.exc import SAWarning

from .grading import NotebookResult


class GradebookWriter:
    def __init__(self, coursedir: CourseDirectory):
        self.coursedir = coursedir

    def notebooks(self, assignment: str) -> list[str]:
        """The notebooks of an assignment, as nbgrader registered them with generate_assignment."""
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                return [nb.name for nb in gb.find_assignment(assignment).notebooks]
            except MissingEntry:
                raise SystemExit(f"the gradebook has no assignment {assignment!r}: "
                                 f"run `nbgrader generate_assignment {assignment} --force` first") from None

    def timestamp(self, student: str, assignment: str) -> str | None:
        folder = self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment)
        return self.coursedir.get_existing_timestamp(folder)

    def record(self, result: NotebookResult, graded: NotebookNode) -> None:
        """Write one student's notebook: gradebook rows in one transaction, then the graded copy."""
        student, assignment, notebook = result.student, result.assignment, result.notebook
        timestamp = self.timestamp(student, assignment)
        with warnings.catch_warnings(), Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            # nbgrader's own queries trip SQLAlchemy 2's autoflush warnings; they change nothing.
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
            for cell in result.cells:
                grade = gb.find_grade(cell.grade_id, notebook, assignment, student)
                grade.auto_score = cell.score
                # An instructor's manual score stands across regrades; only an unscored cell needs one.
                grade.needs_manual_grade = cell.score is None and grade.manual_score is None
            for cell in graded.cells:
                if nbgrader_utils.is_solution(cell):
                    comment = gb.find_comment(cell.metadata.nbgrader.grade_id, notebook, assignment, student)
                    unchanged = cell.metadata.nbgrader.get("checksum") == nbgrader_utils.compute_checksum(cell)
                    comment.auto_comment = "No response." if unchanged else None
            gb.db.commit()
        resources = {"nbgrader": {"notebook": notebook, "assignment": assignment, "student": student,
                                  "db_url": self.coursedir.db_url}}
        AssignLatePenalties(parent=self.coursedir).preprocess(graded, resources)
        self._write_notebook(result, graded)

    def _write_notebook(self, result: NotebookResult, graded: NotebookNode) -> None:
        target = Path(self.coursedir.format_path(self.coursedir.autograded_directory, result.student,
                                                 result.assignment))
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(graded, target / f"{result.notebook}.ipynb")
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, result.student,
                                                    result.assignment))
        for name in NBGRADER_BOOKKEEPING:
            if (submitted / name).is_file():
                shutil.copy2(submitted / name, target / name)


# Files nbgrader keeps beside a submission and expects to find again in autograded/: the time of the
# hand-in (late penalties) and, with the exchange, the secret that `release_feedback` names feedback by.
NBGRADER_BOOKKEEPING = ("timestamp.txt", "submission_secret.txt")


def current_scores(coursedir: CourseDirectory, assignment: str) -> dict[tuple[str, str], dict]:
    """What the gradebook holds now, by (student, notebook): each grade cell's score (the manual one
    where the formgrader set it) and the late penalty. The grader's own records know neither."""
    view = {}
    with warnings.catch_warnings(), Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                view[(submission.student.id, nb.name)] = {
                    "cells": {g.name: {"score": g.score, "manual": g.manual_score is not None} for g in nb.grades},
                    "late_penalty": nb.late_submission_penalty or 0.0}
    return view


def graded_notebook(rebuilt: NotebookNode, result: NotebookResult) -> NotebookNode:
    """The rebuilt notebook with an error output on every test cell that lost points."""
    graded = copy.deepcopy(rebuilt)
    scores = {c.grade_id: c for c in result.cells}
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        outcome = scores.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if outcome is not None and outcome.score is not None and outcome.score < outcome.max_score:
            cell.outputs = [new_output("error", ename="AutograderError", evalue="; ".join(outcome.reasons),
                                       traceback=[f"- {reason}" for reason in outcome.reasons])]
    return graded
