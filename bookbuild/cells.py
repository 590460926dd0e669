"""What a cell of a source notebook is: prose of one language, an answer, a test.

The nbgrader roles come from nbgrader's own helpers and the text surgery from
nbgrader's own preprocessors, configured by the course's nbgrader_config.py
(autograder/markers.py), so the book hides exactly what the student release hides.
"""

from __future__ import annotations

import ast
import copy

from nbformat import NotebookNode
from nbgrader import utils as nbgrader_utils

from autograder import markers, pruning

from .languages import PROSE_TAGS
from .layout import ROOT


def course_markers() -> markers.Markers:
    """The book's course: this repository, configured by its nbgrader_config.py."""
    return markers.of_course(ROOT)


def tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def prose_tag(cell: NotebookNode) -> str | None:
    """``lang-zh`` or ``lang-en`` for a prose cell, None otherwise."""
    found = [t for t in tags(cell) if t in PROSE_TAGS]
    return found[0] if len(found) == 1 else None


def is_answer(cell: NotebookNode) -> bool:
    """A cell the student writes (nbgrader solution cell)."""
    return cell.cell_type == "code" and nbgrader_utils.is_solution(cell)


def is_test(cell: NotebookNode) -> bool:
    """An autograded test cell (nbgrader grade cell that is not itself an answer)."""
    return cell.cell_type == "code" and nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell)


def has_hidden_tests(cell: NotebookNode) -> bool:
    return course_markers().has_hidden_tests(cell.source)


def without_hidden_tests(cell: NotebookNode) -> NotebookNode:
    cell = copy.deepcopy(cell)
    _, clear_hidden_tests = markers.preprocessors(ROOT)
    clear_hidden_tests.preprocess_cell(cell, {}, 0)
    return cell


def as_student_sees_it(cell: NotebookNode) -> NotebookNode:
    """The answer cell with its solution replaced by nbgrader's stub."""
    cell = copy.deepcopy(cell)
    clear_solutions, _ = markers.preprocessors(ROOT)
    clear_solutions.preprocess_cell(cell, {"language": "python"}, 0)
    return cell


def without_solution_markers(source: str) -> str:
    return course_markers().without_solution_markers(source)


def exercise_path(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` cut to what its exercises need, in order: the cells the grader would run
    (setup, imports, answers and every cell defining a name they read, see autograder/pruning.py)
    plus the test cells and the cells defining the names those read. Prose is dropped."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    roles = [{"role": "student" if is_answer(c) or is_test(c) else "master", "source": c.source}
             for c in code]
    cut = copy.deepcopy(nb)
    cut.cells = [copy.deepcopy(code[i]) for i in pruning.needed(roles, [])]
    return cut


def reads_of_answers(nb: NotebookNode) -> list[tuple[int, set[str]]]:
    """(cell index, names) for every code cell, neither answer nor test, that reads a name whose
    latest binding above it is in an answer cell: such a cell fails in the student's notebook until
    the exercise is done, and the grader's pruning would skip what it needs."""
    from_answers: set[str] = set()
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        seen = pruning.names(cell.source)
        if is_answer(cell):
            from_answers |= seen.binds
        elif not is_test(cell):
            if seen.reads & from_answers:
                found.append((index, seen.reads & from_answers))
            from_answers -= seen.binds
    return found


def trailing_check(source: str) -> tuple[str, str] | None:
    """Split a cell's source into (work, check) when it ends in checks: ``assert`` statements,
    calls of an ``assert*`` function (``np.testing.assert_allclose``, ``torch.testing.assert_close``)
    and loops or ``with`` blocks made of nothing else, with the comment lines just above them.
    ``work`` is empty when the whole cell checks. None when the cell does not end in a check or
    is not plain Python (a cell magic).

    A passing check prints nothing and has no value, so the executed cell's outputs all belong to
    ``work``: the book can fold the check away without moving an output."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    first = len(body)
    while first and _is_check(body[first - 1]):
        first -= 1
    if first == len(body):
        return None
    lines = source.splitlines()
    start = body[first].lineno - 1
    while start and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[:start]).rstrip(), "\n".join(lines[start:]).strip()


def _is_check(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Assert):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        function = statement.value.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        return name.startswith("assert")
    if isinstance(statement, (ast.For, ast.With)):
        return all(_is_check(s) for s in statement.body) and not getattr(statement, "orelse", None)
    return False
