"""Derive a one-language page from an executed bilingual notebook.

A view keeps the prose cells of its language (converted to Simplified Chinese
for that site), every code cell with the outputs of the single execution,
visible tests without their hidden part, and reference solutions collapsed
behind a "show solution" toggle -- or, when the book is built with
``--solutions omit``, replaced by the stub students get and stripped of outputs.
The checks that end a demonstration cell (its asserts) fold behind a "show
check" toggle of their own, so the page reads as a book; the notebooks keep
them where they are. A figure's bilingual caption and alt text become this
language's numbered caption and alt text (bookbuild/figures.py), and its widgets show their
pictures and labels in this language (bookbuild/widget_words.py).
"""

from __future__ import annotations

import copy

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from . import cells, figures, widget_words
from .languages import PROSE_TAGS, Language

SHOW_SOLUTION = "顯示解答 | Show solution"
HIDE_SOLUTION = "隱藏解答 | Hide solution"
SHOW_CHECK = "顯示驗算 | Show check"
HIDE_CHECK = "隱藏驗算 | Hide check"
KEPT_METADATA = ("kernelspec", "language_info", "widgets")


def language_view(nb: NotebookNode, lang: Language, solutions: str = "show") -> NotebookNode:
    if solutions not in ("show", "omit"):
        raise ValueError("solutions is 'show' or 'omit'")
    view = new_notebook(metadata={k: copy.deepcopy(nb.metadata[k]) for k in KEPT_METADATA if k in nb.metadata})
    view.metadata["bookbuild"] = {"language": lang.code, "solutions": solutions}
    if "widgets" in view.metadata:
        pictures = nb.metadata.get("bookbuild", {}).get(widget_words.KEY, {})
        view.metadata["widgets"] = widget_words.in_language(view.metadata["widgets"], pictures, lang)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if cells.prose_tag(cell) == lang.tag:
                view.cells.append(_prose(cell, lang))
        elif cell.cell_type == "code":
            view.cells.extend(_code(cell, lang, solutions))
    return view


def _prose(cell: NotebookNode, lang: Language) -> NotebookNode:
    prose = copy.deepcopy(cell)  # keeps the cell id, so unchanged pages stay byte-identical
    prose.source = lang.text(cell.source)
    prose.metadata = {"tags": [t for t in cells.tags(cell) if t not in PROSE_TAGS]}
    if not prose.metadata["tags"]:
        del prose.metadata["tags"]
    return prose


def _code(cell: NotebookNode, lang: Language, solutions: str) -> list[NotebookNode]:
    """The cell as the page shows it: one cell, or two when a demonstration ends in checks."""
    if cells.is_test(cell):
        shown = [cells.without_hidden_tests(cell)]
    elif cells.is_answer(cell):
        shown = [_answer(cell, lang, solutions)]
    else:
        shown = _with_checks_folded(copy.deepcopy(cell), lang)
    for each in shown:
        each.metadata.pop("nbgrader", None)
        figures.in_language(each, lang)
    return shown


def _answer(cell: NotebookNode, lang: Language, solutions: str) -> NotebookNode:
    if solutions == "omit":
        cell = cells.as_student_sees_it(cell)
        cell.outputs = []
        cell.execution_count = None
    else:
        cell = copy.deepcopy(cell)
        cell.source = cells.without_solution_markers(cell.source)
        _fold(cell, lang, SHOW_SOLUTION, HIDE_SOLUTION)
    return cell


def _with_checks_folded(cell: NotebookNode, lang: Language) -> list[NotebookNode]:
    split = cells.trailing_check(cell.source)
    if split is None:
        return [cell]
    work, check = split
    if not work:
        _fold(cell, lang, SHOW_CHECK, HIDE_CHECK)
        return [cell]
    checked = new_code_cell(check, metadata={"tags": [t for t in cells.tags(cell) if t != "hide-input"]})
    checked.id = f"{cell.id}-check"  # derived, so an unchanged page stays byte-identical
    _fold(checked, lang, SHOW_CHECK, HIDE_CHECK)
    cell.source = work
    return [cell, checked]


def _fold(cell: NotebookNode, lang: Language, show: str, hide: str) -> None:
    """Collapse the cell's code behind a toggle labelled in the page's language."""
    cell.metadata.setdefault("tags", [])
    if "hide-input" not in cell.metadata.tags:
        cell.metadata.tags.append("hide-input")
    cell.metadata.setdefault("mystnb", {}).update(code_prompt_show=lang.pick(show), code_prompt_hide=lang.pick(hide))
