"""Rebuild a submission from the master copy: only the text of answer cells is the student's.

Every other cell, the tests included, comes from the released notebook, so
editing a test, a helper cell or the metadata changes nothing that runs. What
a student did to the structure is still reported: a notebook that is not
valid JSON or not nbformat 4, a grade cell that is missing, duplicated,
retyped or whose points or flags were edited, and a test cell whose text was
edited (restored, so it costs nothing, but the instructor should know). Each
problem names the grade cells it costs; the rest of the notebook is graded as usual.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader import utils as nbgrader_utils

MAX_BYTES = 5 * 2**20
COMPARED_METADATA = ("grade", "solution", "locked", "points", "task")
ALL_CELLS = "*"
EDITED_TEST = "edited-test"


@dataclass
class Problem:
    kind: str            # invalid-notebook | missing-notebook | tampering | edited-test (costs nothing)
    message: str
    cells: tuple = (ALL_CELLS,)   # grade ids that score zero because of it

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "cells": list(self.cells)}


@dataclass
class Rebuilt:
    notebook: NotebookNode                  # the master with the student's answers
    problems: list[Problem] = field(default_factory=list)

    def zeroed(self, grade_id: str) -> list[Problem]:
        return [p for p in self.problems if ALL_CELLS in p.cells or grade_id in p.cells]


def feeds(master: NotebookNode) -> dict[str, str]:
    """Answer cell -> the grade cell that tests it (the next grade cell in the notebook)."""
    mapping, waiting = {}, []
    for cell in master.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            waiting.append(meta["grade_id"])
        elif meta.get("grade"):
            for answer in waiting:
                mapping[answer] = meta["grade_id"]
            waiting = []
            if meta.get("solution"):
                mapping[meta["grade_id"]] = meta["grade_id"]
    return mapping


def rebuild(master: NotebookNode, path: Path, max_bytes: int = MAX_BYTES) -> Rebuilt:
    """The notebook to grade for the submission at ``path``, and what is wrong with it."""
    rebuilt = Rebuilt(copy.deepcopy(master))
    submitted = _read(path, max_bytes, rebuilt)
    if submitted is None:
        return rebuilt
    by_id: dict[str, list[dict]] = {}
    for cell in submitted:
        grade_id = _grade_id(cell)
        if grade_id is not None:
            by_id.setdefault(grade_id, []).append(cell)
    tested_by = feeds(master)
    for cell in rebuilt.notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_id = meta["grade_id"]
        affected = (tested_by.get(grade_id, grade_id),)
        copies = by_id.get(grade_id, [])
        problem = _structure_problem(cell, meta, copies)
        if problem:
            rebuilt.problems.append(Problem("tampering", f"cell {grade_id!r}: {problem}", affected))
        elif nbgrader_utils.is_solution(cell):
            cell.source = _text(copies[0].get("source"))
        elif nbgrader_utils.is_grade(cell) and _text(copies[0].get("source")) != cell.source:
            # the released test runs anyway; the instructor hears of the edit, the score does not
            rebuilt.problems.append(Problem(EDITED_TEST, f"cell {grade_id!r}: the test cell was edited "
                                                         "(the released test was run instead)", ()))
    return rebuilt


def _read(path: Path, max_bytes: int, rebuilt: Rebuilt):
    """The submitted cells, or None after recording why the file cannot be graded at all."""
    if not path.is_file():
        others = sorted(p.name for p in path.parent.glob("*.ipynb")) if path.parent.is_dir() else []
        hint = f" (found {', '.join(others)}: was it renamed?)" if others else ""
        rebuilt.problems.append(Problem("missing-notebook", f"{path.name} was not submitted{hint}"))
        return None
    size = path.stat().st_size
    if size > max_bytes:
        rebuilt.problems.append(Problem("invalid-notebook", f"{path.name} is {size} bytes; the limit is {max_bytes}"))
        return None
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        rebuilt.problems.append(Problem("invalid-notebook", f"{path.name} is not valid JSON ({error})"))
        return None
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        version = data.get("nbformat") if isinstance(data, dict) else None
        rebuilt.problems.append(Problem("invalid-notebook", f"{path.name} is not an nbformat 4 notebook "
                                                            f"(nbformat = {version!r})"))
        return None
    cells = data.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        rebuilt.problems.append(Problem("invalid-notebook", f"{path.name} has no list of cells"))
        return None
    return cells


def _grade_id(cell: dict):
    meta = cell.get("metadata")
    nb_meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nb_meta.get("grade_id") if isinstance(nb_meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _structure_problem(master_cell: NotebookNode, meta: dict, copies: list[dict]) -> str | None:
    if not copies:
        return "missing from the submission"
    if len(copies) > 1:
        return f"appears {len(copies)} times"
    cell = copies[0]
    if cell.get("cell_type") != master_cell.cell_type:
        return f"changed from a {master_cell.cell_type} cell to a {cell.get('cell_type')!r} cell"
    submitted_meta = cell["metadata"]["nbgrader"]
    for key in COMPARED_METADATA:
        expected, found = meta.get(key), submitted_meta.get(key)
        if key == "points":
            expected, found = _number(expected), _number(found)
        if expected != found:
            return f"its nbgrader metadata was edited ({key}: {expected!r} -> {found!r})"
    if _text(cell.get("source")) is None:
        return "its source is not text"
    return None


def _text(source):
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return None


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def read_master(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)
