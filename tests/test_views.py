"""Language views: one language each, hidden tests gone, solutions folded or left out."""

from __future__ import annotations

import pytest

from bookbuild import cells
from bookbuild.languages import LANGUAGES, ZH_TAG
from bookbuild.views import language_view

TRADITIONAL_ONLY = "門與體們裡這說"   # characters that never survive conversion to Simplified Chinese


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_view_keeps_only_its_language(executed, chapter, lang):
    nb = executed[chapter.id]
    view = language_view(nb, lang)
    prose = [c for c in view.cells if c.cell_type == "markdown"]
    assert len(prose) == sum(cells.prose_tag(c) == lang.tag for c in nb.cells)
    assert all(cells.prose_tag(c) is None for c in prose)
    text = "".join(c.source for c in prose)
    if lang.simplified:
        assert not set(TRADITIONAL_ONLY) & set(text)
    elif lang.tag == ZH_TAG:
        assert set(TRADITIONAL_ONLY) & set(text)


def test_view_removes_hidden_tests_and_folds_solutions(executed, chapter):
    nb = executed[chapter.id]
    view = language_view(nb, LANGUAGES[1])
    code = [c for c in view.cells if c.cell_type == "code"]
    assert len(code) == sum(c.cell_type == "code" for c in nb.cells)
    text = "\n".join(c.source for c in code)
    assert "HIDDEN TESTS" not in text and "autograder" not in text and "BEGIN SOLUTION" not in text
    answers = [s for s, c in zip(code, (c for c in nb.cells if c.cell_type == "code")) if cells.is_answer(c)]
    assert answers and all("hide-input" in a.metadata.tags for a in answers)
    assert all(a.metadata.mystnb["code_prompt_show"] == "Show solution" for a in answers)


def test_omitting_solutions_leaves_the_stub_and_no_output(executed, chapter):
    nb = executed[chapter.id]
    view = language_view(nb, LANGUAGES[0], solutions="omit")
    source_answers = [c for c in nb.cells if cells.is_answer(c)]
    view_code = [c for c in view.cells if c.cell_type == "code"]
    source_code = [c for c in nb.cells if c.cell_type == "code"]
    for original, shown in zip(source_code, view_code):
        if cells.is_answer(original):
            assert "raise NotImplementedError()" in shown.source and not shown.outputs
            solution = original.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            assert all(line.strip() not in shown.source for line in solution.splitlines() if len(line.strip()) > 12)
    assert source_answers


def test_other_code_cells_are_the_executed_source(executed, chapter):
    nb = executed[chapter.id]
    view = language_view(nb, LANGUAGES[2])
    pairs = zip((c for c in nb.cells if c.cell_type == "code"), (c for c in view.cells if c.cell_type == "code"))
    for original, shown in pairs:
        if not (cells.is_answer(original) or cells.is_test(original)):
            assert shown.source == original.source and shown.outputs == original.outputs
