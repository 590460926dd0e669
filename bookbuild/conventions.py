"""The conventions every chapter follows, as checks (``python -m bookbuild check``).

These run on the source notebooks without executing them, so an author learns
in a second what the test suite would reject: a missing English partner, an
output stored in a source, an exercise without hidden cases, a setup cell that
drifted from the common one.
"""

from __future__ import annotations

import re

import nbformat
from nbformat import NotebookNode

from . import cells, vocabulary
from .languages import EN_TAG, ZH_TAG
from .layout import Chapter

# The first code cell of every chapter, verbatim.
SETUP_CELL = '''\
# Setup: one device for the chapter (cuda, then mps, then cpu) and seeded randomness.
import os
import random

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib_inline.backend_inline import set_matplotlib_formats

SEED = int(os.environ.get("BOOK_SEED", "0"))  # the tests rerun with other seeds
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
if torch.cuda.is_available():
    device = torch.device("cuda")
elif torch.backends.mps.is_available():
    device = torch.device("mps")
else:
    device = torch.device("cpu")
# SVG figures without a timestamp: the same output on every run.
set_matplotlib_formats("svg", metadata={"Date": None})
plt.rcParams.update({"figure.figsize": (6, 3.2), "svg.hashsalt": "dl-study-book"})
print(f"device: {device}")'''

HEADING = re.compile(r"^(#{1,6})\s+(\S+)", re.M)


def chapter_problems(chapter: Chapter) -> list[str]:
    """Everything in a chapter's source that breaks the conventions."""
    try:
        nb = nbformat.read(chapter.source, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # unreadable or invalid notebook: nothing else can be checked
        return [f"{chapter.source}: not a valid notebook ({error})"]
    where = chapter.id
    problems = stored_outputs(nb, where) + bilingual_problems(nb, where) + exercise_problems(nb, where)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or code[0].source != SETUP_CELL:
        problems.append(f"{where}: the first code cell must be the common setup cell (bookbuild/conventions.py)")
    problems += numbering_problems(nb, chapter)
    problems += vocabulary_problems(nb, where)
    problems += code_width_problems(nb, where)
    return problems


# The widest code line that a desktop's text column shows without scrolling (Noto Sans Mono at the
# theme's size in the 1366 px layout); on a phone every code block scrolls anyway.
CODE_WIDTH = 88


def code_width_problems(nb: NotebookNode, where: str) -> list[str]:
    return [f"{where}: cell {index} line {number} is {len(line)} characters (at most {CODE_WIDTH})"
            for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for number, line in enumerate(cell.source.splitlines(), 1) if len(line) > CODE_WIDTH]


def vocabulary_problems(nb: NotebookNode, where: str) -> list[str]:
    """Words the book does not use (Mainland terms, bare 行/列, British -ise): see bookbuild/vocabulary.py."""
    return vocabulary.notebook_problems(nb, where)


def stored_outputs(nb: NotebookNode, where: str) -> list[str]:
    return [f"{where}: cell {i} stores outputs or an execution count; sources are kept clean"
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]


def bilingual_problems(nb: NotebookNode, where: str) -> list[str]:
    """Prose comes in adjacent pairs, Chinese then English, both non-empty, with matching headings."""
    problems = []
    prose = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    for i, cell in prose:
        if cells.prose_tag(cell) is None:
            problems.append(f"{where}: markdown cell {i} needs exactly one of the tags {ZH_TAG}, {EN_TAG}")
        elif not cell.source.strip():
            problems.append(f"{where}: markdown cell {i} is empty")
    for i, cell in prose:
        if cells.prose_tag(cell) != ZH_TAG:
            continue
        partner = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if partner is None or partner.cell_type != "markdown" or cells.prose_tag(partner) != EN_TAG:
            problems.append(f"{where}: the Chinese cell {i} is not followed by its English partner")
            continue
        if _extra_tags(cell) != _extra_tags(partner):
            problems.append(f"{where}: cells {i} and {i + 1} carry different tags")
        if _heading_levels(cell) != _heading_levels(partner):
            problems.append(f"{where}: cells {i} and {i + 1} have different headings")
    for i, cell in prose:
        previous = nb.cells[i - 1] if i > 0 else None
        if cells.prose_tag(cell) == EN_TAG and (previous is None or cells.prose_tag(previous) != ZH_TAG):
            problems.append(f"{where}: the English cell {i} has no Chinese partner before it")
    return problems


def exercise_problems(nb: NotebookNode, where: str) -> list[str]:
    problems, seen, answered = [], set(), False
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_id = meta.get("grade_id", "")
        if grade_id in seen:
            problems.append(f"{where}: grade_id {grade_id!r} is used twice")
        seen.add(grade_id)
        if cells.is_answer(cell):
            answered = True
            if not cells.course_markers().has_solution_region(cell.source):
                problems.append(f"{where}: answer cell {grade_id} has no BEGIN/END SOLUTION block")
        elif cells.is_test(cell):
            if not answered:
                problems.append(f"{where}: test cell {grade_id} has no answer cell before it")
            answered = False
            if not meta.get("points"):
                problems.append(f"{where}: test cell {grade_id} is worth no points")
            if not cells.course_markers().declarations(cell.source):
                problems.append(f"{where}: test cell {grade_id} declares no exercise in its hidden block")
            visible = cells.course_markers().visible_tests(cell.source)
            if "assert" not in visible:
                problems.append(f"{where}: test cell {grade_id} has no visible assert for students")
    if not seen:
        problems.append(f"{where}: the chapter has no exercises")
    return problems


def numbering_problems(nb: NotebookNode, chapter: Chapter) -> list[str]:
    """Titles read "第 N 章 ..." / "N ...", sections "## N.k" with k = 1, 2, 3, ..."""
    number = int(re.match(r"ch(\d+)", chapter.id).group(1))
    problems = []
    titles = {tag: [] for tag in (ZH_TAG, EN_TAG)}
    sections = {tag: [] for tag in (ZH_TAG, EN_TAG)}
    for cell in nb.cells:
        tag = cells.prose_tag(cell)
        if tag is None:
            continue
        for hashes, first in HEADING.findall(cell.source):
            if len(hashes) == 1:
                titles[tag].append(first)
            elif len(hashes) == 2 and re.fullmatch(r"\d+\.\d+", first):
                sections[tag].append(first)
    expected_title = {ZH_TAG: "第", EN_TAG: str(number)}
    for tag in (ZH_TAG, EN_TAG):
        if titles[tag] != [expected_title[tag]]:
            problems.append(f"{chapter.id}: expected one {tag} title starting with {expected_title[tag]!r}")
        expected = [f"{number}.{k}" for k in range(1, len(sections[tag]) + 1)]
        if sections[tag] != expected:
            problems.append(f"{chapter.id}: {tag} sections are numbered {sections[tag]}, expected {expected}")
    return problems


def _extra_tags(cell: NotebookNode) -> set[str]:
    return {t for t in cells.tags(cell) if t not in (ZH_TAG, EN_TAG)}


def _heading_levels(cell: NotebookNode) -> list[int]:
    return [len(h) for h, _ in HEADING.findall(_without_code_blocks(cell.source))]


def _without_code_blocks(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)
