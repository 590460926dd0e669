"""What each student scored on each grade cell, and why points were lost.

Every graded notebook leaves a JSON record in ``.autograder/results/<assignment>/``;
``python -m autograder report`` prints them as a table, JSON, a CSV for a gradebook
import, or per-exercise statistics (``htmlreport`` draws them as a page), and ``grade``
uses them to skip submissions already graded with the same key, so a run that was
interrupted resumes where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import course
from .grading import GRADER_ERROR, NotebookResult

GRADER_VERSION = "1"


def results_dir(root: Path, assignment: str) -> Path:
    return course.state_dir(root) / "results" / assignment


def save(root: Path, result: NotebookResult, key_fingerprint: str, sandboxed: bool = True) -> None:
    folder = results_dir(root, result.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    data = {**result.as_dict(), "key": key_fingerprint, "grader": GRADER_VERSION, "sandboxed": sandboxed}
    path = folder / f"{result.student}.{result.notebook}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
    temporary.replace(path)  # a reader never sees half a record


def load(root: Path, assignment: str) -> list[dict]:
    folder = results_dir(root, assignment)
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def already_graded(root: Path, assignment: str, student: str, notebook: str, submission_sha256: str,
                   key_fingerprint: str) -> bool:
    """True when this very submission was judged with this very key (keys.content_fingerprint)."""
    path = results_dir(root, assignment) / f"{student}.{notebook}.json"
    if not path.is_file():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    return (data.get("submission_sha256") == submission_sha256 and data.get("key") == key_fingerprint
            and data.get("grader") == GRADER_VERSION and data.get("sandboxed", True))


def with_gradebook(records: list[dict], scores: dict[tuple[str, str], dict]) -> list[dict]:
    """The records with the gradebook's word on every score (gradebook.current_scores): a manual
    grade from the formgrader replaces the automatic one, and the late penalty is subtracted, so
    the report says what `nbgrader export` says."""
    merged = []
    for record in records:
        now = scores.get((record["student"], record["notebook"]), {"cells": {}, "late_penalty": 0.0})
        cells = [{**cell, **now["cells"].get(cell["grade_id"], {})} for cell in record["cells"]]
        merged.append({**record, "cells": cells, "late_penalty": now["late_penalty"]})
    return merged


def total(record: dict) -> tuple[float, float]:
    """(score after the late penalty, maximum) of one record."""
    raw = sum(c["score"] or 0 for c in record["cells"])
    return max(0.0, raw - record.get("late_penalty", 0.0)), sum(c["max_score"] for c in record["cells"])


def table(records: list[dict]) -> str:
    """Per student: total, per-cell scores, then every reason for a lost point."""
    if not records:
        return "no graded submissions"
    lines = []
    for record in records:
        points, maximum = total(record)
        late = f", late penalty {record['late_penalty']:g}" if record.get("late_penalty") else ""
        late += ", no sandbox" if not record.get("sandboxed", True) else ""
        lines.append(f"{record['student']}  {record['notebook']}  {points:g}/{maximum:g}  (run: {record['run']}{late})")
        lines += [f"    {problem['kind']}: {problem['message']}" for problem in record["problems"]]
        for cell in record["cells"]:
            score = "to grade by hand" if cell["score"] is None else f"{cell['score']:g}/{cell['max_score']:g}"
            lines.append(f"    {cell['grade_id']:<28} {score}{'  (graded by hand)' if cell.get('manual') else ''}")
            for reason in cell["reasons"]:
                if cell["score"] is not None and not cell.get("manual"):
                    lines.append(f"        - {reason}")
    return "\n".join(lines)


def summary(records: list[dict]) -> str:
    """One line per student: the summary table printed at the end of a grading run."""
    rows = [("student", "notebook", "score", "errors")]
    for record in records:
        points, maximum = total(record)
        errors = sorted({p["kind"] for p in record["problems"]} |
                        ({record["run"]} if record["run"] not in ("done",) else set()) |
                        {GRADER_ERROR for c in record["cells"] if any(r.startswith(GRADER_ERROR) for r in c["reasons"])} |
                        ({"no sandbox"} if not record.get("sandboxed", True) else set()) |
                        set(record.get("answer_errors", [])))
        rows.append((record["student"], record["notebook"], f"{points:g}/{maximum:g}", ", ".join(errors) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)


def as_json(records: list[dict]) -> str:
    return json.dumps(records, indent=1)


def as_csv(records: list[dict]) -> str:
    """One row per student and notebook, sorted by student: every grade cell's score, the late
    penalty and the total. Plain columns and a header row, the shape a learning-management
    system's gradebook import reads; a cell waiting for a manual grade is left empty."""
    grade_ids = list(dict.fromkeys(c["grade_id"] for r in records for c in r["cells"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "notebook", *grade_ids, "late_penalty", "total", "max_score"])
    for record in sorted(records, key=by_student):
        scores = {c["grade_id"]: c["score"] for c in record["cells"]}
        points, maximum = total(record)
        writer.writerow([record["student"], record["notebook"],
                         *("" if scores.get(g) is None else f"{scores[g]:g}" for g in grade_ids),
                         f"{record.get('late_penalty', 0.0):g}", f"{points:g}", f"{maximum:g}"])
    return out.getvalue()


# Numbers and quoted values vary from student to student; what remains names the mistake.
_SPECIFICS = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?|'[^']*'|\([^()]*\)")


@dataclass
class CellStatistics:
    """How one grade cell went: its scores (a cell waiting for a manual grade has none yet), and the
    most common reasons for lost points, each with the number of submissions it was the first for."""
    grade_id: str
    max_score: float
    scores: list[float]
    waiting: int
    reasons: list[tuple[str, int]]

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores)

    @property
    def full_marks(self) -> float:
        """The share of the scored cells with full marks."""
        return sum(score >= self.max_score for score in self.scores) / len(self.scores)


def cell_statistics(records: list[dict], common: int = 3) -> list[CellStatistics]:
    """Per grade cell, in the notebook's order: the scores, and the ``common`` most frequent first
    reasons for lost points, their numbers masked so that one mistake counts once."""
    by_cell: dict[str, list[dict]] = {}
    for record in records:
        for cell in record["cells"]:
            by_cell.setdefault(cell["grade_id"], []).append(cell)
    found = []
    for grade_id, cells in by_cell.items():
        scored = [c for c in cells if c["score"] is not None]
        reasons = Counter(_SPECIFICS.sub("#", reason) for c in scored if c["score"] < c["max_score"]
                          for reason in c["reasons"][:1])
        found.append(CellStatistics(grade_id, cells[0]["max_score"], [c["score"] for c in scored],
                                    len(cells) - len(scored), reasons.most_common(common)))
    return found


def statistics(records: list[dict], common: int = 3) -> str:
    """Per grade cell: how many were graded, the mean score, the share with full marks, and the
    most common reasons for lost points."""
    if not records:
        return "no graded submissions"
    lines = [f"{len(records)} graded notebook(s)"]
    for cell in cell_statistics(records, common):
        if not cell.scores:
            lines.append(f"{cell.grade_id:<28} {cell.waiting} waiting for a manual grade")
            continue
        lines.append(f"{cell.grade_id:<28} mean {cell.mean:.2f}/{cell.max_score:g}   "
                     f"full marks {cell.full_marks:.0%}   graded {len(cell.scores)}/{len(cell.scores) + cell.waiting}")
        lines += [f"    {count:>3} x {reason}" for reason, count in cell.reasons]
    return "\n".join(lines)


def changes(before: list[dict], after: list[dict]) -> list[str]:
    """What a regrade changed: for every notebook whose automatic score moved, the old and new
    totals and the grade cells that moved, with the first new reason of each that lost points."""
    previous = {(r["student"], r["notebook"]): r for r in before}
    lines = []
    for record in sorted(after, key=by_student):
        old = previous.get((record["student"], record["notebook"]))
        if old is None:
            continue
        old_cells = {c["grade_id"]: c for c in old["cells"]}
        moved = []
        for cell in record["cells"]:
            was = old_cells.get(cell["grade_id"], {}).get("score")
            if was != cell["score"]:
                why = f" ({cell['reasons'][0]})" if cell["reasons"] and cell["score"] != cell["max_score"] else ""
                moved.append(f"{cell['grade_id']} {_score(was)} -> {_score(cell['score'])}{why}")
        if moved:
            (a, _), (b, _) = total(old), total(record)
            lines.append(f"{record['student']}  {record['notebook']}  {a:g} -> {b:g} ({b - a:+g}): "
                         + "; ".join(moved))
    return lines


def by_student(record: dict) -> tuple[str, str]:
    return record["student"], record["notebook"]


def _score(score: float | None) -> str:
    return "by hand" if score is None else f"{score:g}"
