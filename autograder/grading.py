"""From a submission to a score for every grade cell, with the reason for every lost point.

``prepare`` (in the grader's process) rebuilds the submission from the master
copy and turns it into a job: the code cells to run and the inputs of every
exercise, never the expected outputs. The job runs in the sandbox
(``sandbox.run_job``, on any executor). ``decide`` (back in the grader's
process) judges the plain data that came back against the answer key.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbformat import NotebookNode
from nbgrader import utils as nbgrader_utils

from . import integrity, kinds, pruning


@dataclass
class CellResult:
    grade_id: str
    max_score: float
    score: float | None              # None: graded by hand
    reasons: list[str] = field(default_factory=list)


@dataclass
class NotebookResult:
    student: str
    assignment: str
    notebook: str
    cells: list[CellResult]
    problems: list[dict]
    run: str = ""                    # how the sandboxed run ended (done, timeout, ...)
    seconds: float = 0.0
    submission_sha256: str = ""
    answer_errors: list[str] = field(default_factory=list)   # "answer raised", "answer timed out", ...

    @property
    def score(self) -> float:
        return sum(c.score or 0 for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    student: str
    notebook: str
    rebuilt: integrity.Rebuilt
    job: dict | None                 # None when nothing can run (e.g. invalid JSON)
    submission_sha256: str


def prepare(student: str, notebook: str, master: NotebookNode, submission: Path, exercises: list[dict],
            max_bytes: int = integrity.MAX_BYTES, prune: bool = True) -> Prepared:
    """Rebuild the submission and plan its run: the cells to execute (only those the answers
    need, unless ``prune`` is false) and the inputs of every exercise."""
    rebuilt = integrity.rebuild(master, submission, max_bytes)
    digest = hashlib.sha256(submission.read_bytes()).hexdigest() if submission.is_file() else ""
    if any(integrity.ALL_CELLS in p.cells for p in rebuilt.problems):
        return Prepared(student, notebook, rebuilt, None, digest)
    cells = []
    for cell in rebuilt.notebook.cells:
        if cell.cell_type != "code" or _is_test(cell):
            continue
        role = "student" if nbgrader_utils.is_solution(cell) else "master"
        cells.append({"role": role, "source": cell.source, "grade_id": _grade_id(cell)})
    if prune:
        cells = [cells[i] for i in pruning.needed(cells, [e["name"] for e in exercises])]
    job = {"cells": cells, "requests": [kinds.request_for(e) for e in exercises]}
    return Prepared(student, notebook, rebuilt, job, digest)


def decide(prepared: Prepared, assignment: str, exercises: list[dict], outcome: dict | None) -> NotebookResult:
    """Score every grade cell of the master from the key and what the sandbox sent back."""
    master = prepared.rebuilt.notebook
    records = (outcome or {}).get("records", [])
    answers = {}
    for record in records:
        if record.get("type") == "exercise" and isinstance(record.get("name"), str):
            answers.setdefault(record["name"], record)
    cell_failures = _failed_answer_cells(prepared, records)
    run = _describe_run(outcome)
    results = []
    for cell in master.cells:
        if not nbgrader_utils.is_grade(cell):
            continue
        grade_id = _grade_id(cell)
        points = float(cell.metadata.nbgrader["points"])
        declared = [e for e in exercises if e.get("grade_id") == grade_id]
        zeroed = prepared.rebuilt.zeroed(grade_id)
        if zeroed:  # a problem of the whole notebook is told once, in the record's problems
            results.append(CellResult(grade_id, points, 0.0, _unique(
                [WHOLE_NOTEBOOK if integrity.ALL_CELLS in p.cells else p.message for p in zeroed])))
        elif not declared:
            results.append(CellResult(grade_id, points, None, ["graded by hand"]))
        else:
            reasons, grader_errors = cell_failures.get(grade_id, []), []
            for entry in declared:
                try:
                    reasons = reasons + _judge(entry, answers.get(entry["name"]), run)
                except GraderError as error:
                    grader_errors.append(str(error))
            if grader_errors:  # no score rather than a wrong one: the cell waits for a manual grade
                results.append(CellResult(grade_id, points, None, _unique(grader_errors)))
            else:
                results.append(CellResult(grade_id, points, 0.0 if reasons else points, _unique(reasons)))
    return NotebookResult(prepared.student, assignment, prepared.notebook, results,
                          [p.as_dict() for p in prepared.rebuilt.problems],
                          (outcome or {}).get("status", "not run"), (outcome or {}).get("seconds", 0.0),
                          prepared.submission_sha256, _answer_errors(prepared, records))


GRADER_ERROR = "grader error"
WHOLE_NOTEBOOK = "the notebook could not be graded (see its problem)"
ANSWER_FAILED = {"error": "answer raised", "timeout": "answer timed out", "crashed": "answer crashed",
                 "skipped": "answer crashed"}


def _answer_errors(prepared: Prepared, records: list[dict]) -> list[str]:
    """How the student's code failed while it ran (the summary's errors column): an answer cell or
    a call of the student's function that raised, hung or crashed. A release stub still raising
    NotImplementedError is an unanswered exercise, not an error."""
    found = set()
    cells = prepared.job["cells"] if prepared.job else []
    for record in records:
        status = record.get("status")
        if record.get("type") == "cell" and status in ANSWER_FAILED and isinstance(record.get("index"), int) \
                and 0 <= record["index"] < len(cells) and cells[record["index"]]["role"] == "student" \
                and not str(record.get("error", "")).startswith("NotImplementedError"):
            found.add(ANSWER_FAILED[status])
        elif record.get("type") == "exercise":
            replies = record.get("replies")
            if status in ANSWER_FAILED:
                found.add(ANSWER_FAILED[status])
            elif isinstance(replies, list) and any(isinstance(r, dict) and r.get("raised") for r in replies):
                found.add(ANSWER_FAILED["error"])
    return sorted(found)


class GraderError(RuntimeError):
    """The grader's own code failed while judging an exercise: not a verdict on the student."""


def _judge(entry: dict, answer: dict | None, run: str) -> list[str]:
    name = entry["name"]
    if answer is None:
        return [f"{name}: no answer came back ({run})"]
    if "replies" not in answer:
        return [f"{name}: {answer.get('error', answer.get('status', 'failed'))}"]
    replies = answer["replies"]
    if not isinstance(replies, list):
        return [f"{name}: malformed answer"]
    try:
        return kinds.judge(entry, replies)
    except Exception as error:  # the student's data is decoded and checked inside judge: this is ours
        raise GraderError(f"{GRADER_ERROR} while judging {name} ({type(error).__name__}: {error}); "
                          "the student is not at fault: grade the cell by hand or fix the grader") from error


def _failed_answer_cells(prepared: Prepared, records: list[dict]) -> dict[str, list[str]]:
    """Grade cell -> why an answer cell feeding it raised, timed out or crashed."""
    if prepared.job is None:
        return {}
    tested_by = integrity.feeds(prepared.rebuilt.notebook)
    failures: dict[str, list[str]] = {}
    for record in records:
        index = record.get("index")
        if record.get("type") != "cell" or not isinstance(index, int) or not 0 <= index < len(prepared.job["cells"]):
            continue
        cell = prepared.job["cells"][index]
        if cell["role"] == "student" and record.get("status") != "ok":
            target = tested_by.get(cell["grade_id"])
            if target:
                what = {"timeout": "did not finish", "crashed": "crashed",
                        "skipped": "stopped the whole run and was left out"}.get(record.get("status"), "raised")
                failures.setdefault(target, []).append(
                    f"the answer cell {cell['grade_id']!r} {what}: {record.get('error', '')}"[:300])
    return failures


def _describe_run(outcome: dict | None) -> str:
    if outcome is None:
        return "the notebook could not be run"
    status, detail = outcome.get("status"), outcome.get("detail", "")
    return {"done": "the run finished", "timeout": f"time limit: {detail}",
            "output-flood": f"output flood: {detail}", "crashed": f"the run crashed: {detail}",
            "no-sandbox": f"no sandbox: {detail}"}.get(status, f"{status}: {detail}")


def _is_test(cell: NotebookNode) -> bool:
    return nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell)


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
