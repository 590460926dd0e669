"""Language views: one language each, hidden tests gone, solutions folded or left out."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell

from bookbuild import cells, figure_words, figures
from bookbuild.languages import LANGUAGES, ZH_TAG, language
from bookbuild import views
from bookbuild.views import language_view

CHECK_SUFFIX = "-check"

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
    code = [c for c in view.cells if c.cell_type == "code" and not c.id.endswith(CHECK_SUFFIX)]
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
    shown_by_id = {c.id: c for c in view.cells if c.cell_type == "code"}
    for original in nb.cells:
        if cells.is_answer(original):
            shown = shown_by_id[original.id]
            assert "raise NotImplementedError()" in shown.source and not shown.outputs
            solution = original.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            assert all(line.strip() not in shown.source for line in solution.splitlines() if len(line.strip()) > 12)
    assert source_answers


def test_other_code_cells_are_the_executed_source(executed, chapter):
    """A demonstration shows its executed source and outputs, its closing checks (if any) split off
    into a folded cell of their own that has no output."""
    nb = executed[chapter.id]
    view = language_view(nb, language("en"))  # the Chinese views show their editions' drawings (test_figures)
    shown = {c.id: c for c in view.cells if c.cell_type == "code"}
    for original in nb.cells:
        if original.cell_type != "code" or cells.is_answer(original) or cells.is_test(original):
            continue
        work, check = shown[original.id], shown.get(original.id + CHECK_SUFFIX)
        assert work.outputs == [figures.without_editions(output) for output in original.outputs]
        if check is None:
            assert work.source == original.source
        else:
            assert f"{work.source}\n{check.source}".split() == original.source.split()
            assert not check.outputs and "hide-input" in check.metadata.tags


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_checks_that_end_a_demonstration_are_folded(executed, chapter, lang):
    """No code the page shows unfolded ends in an assert: the reader meets the checks behind a
    "Show check" toggle in the page's language."""
    nb = executed[chapter.id]
    exercises = {c.id for c in nb.cells if cells.is_answer(c) or cells.is_test(c)}  # visible tests stay in view
    view = language_view(nb, lang)
    for cell in view.cells:
        if cell.cell_type != "code" or "hide-input" in cells.tags(cell) or cell.id in exercises:
            continue
        assert cells.trailing_check(cell.source) is None, f"unfolded check:\n{cell.source[-300:]}"
    folded = [c for c in view.cells if c.get("metadata", {}).get("mystnb", {}).get("code_prompt_show")
              == lang.pick(views.SHOW_CHECK)]
    assert all(cells.trailing_check(c.source) == ("", c.source.strip()) for c in folded)


@pytest.mark.parametrize("source, split", [
    ("y = f(x)\nprint(y)\n# matches the closed form\nassert y == 2\nnp.testing.assert_allclose(y, 2.0)",
     ("y = f(x)\nprint(y)", "# matches the closed form\nassert y == 2\nnp.testing.assert_allclose(y, 2.0)")),
    ("for a, b in pairs:\n    torch.testing.assert_close(a, b)", ("", "for a, b in pairs:\n    torch.testing.assert_close(a, b)")),
    ("assert x > 0\ny = x + 1", None),                     # a check in the middle stays
    ("assert_x = 3\nassert_x", None),                      # a name that merely starts with assert
    ("%%time\nassert 1", None),                             # a cell magic is not Python
    ("for a in pairs:\n    assert a\nelse:\n    done()", None),
])
def test_trailing_checks_are_found(source, split):
    assert cells.trailing_check(source) == split


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_figures_take_their_caption_and_alt_text_in_the_pages_language(executed, chapter, lang):
    """The source's one bilingual declaration becomes myst-nb's caption, name and alt text of each edition."""
    nb = executed[chapter.id]
    declared = {c.id: figures.declaration(c) for c in nb.cells if figures.declaration(c)}
    view = language_view(nb, lang)
    shown = {c.id: c.metadata.mystnb for c in view.cells if "figure" in c.get("metadata", {}).get("mystnb", {})}
    assert declared and shown.keys() == declared.keys()
    for cell_id, mystnb in shown.items():
        assert mystnb["figure"] == {"caption": lang.pick(declared[cell_id]["caption"]), "name": f"fig-{cell_id}"}
        assert mystnb["image"] == {"alt": lang.pick(declared[cell_id]["alt"])}
    assert not any(figures.KEY in c.metadata for c in view.cells)


def test_a_folded_figure_cell_keeps_both_its_toggle_and_its_caption():
    cell = new_code_cell("plt.plot(x)", metadata={"figure": {"caption": "圖說 | Caption", "alt": "描述 | Picture"}})
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "plot", "locked": False}
    cell.source = "### BEGIN SOLUTION\nplt.plot(x)\n### END SOLUTION"
    (shown,) = views._code(cell, LANGUAGES[1], "show")
    assert shown.metadata.mystnb["code_prompt_show"] == "Show solution"
    assert shown.metadata.mystnb["figure"]["caption"] == "Caption"
    assert shown.metadata.mystnb["image"]["alt"] == "Picture"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_each_edition_shows_its_own_drawing_of_a_figure(executed, chapter, lang):
    """A Chinese page shows the figure its kernel drew in that edition's words; the English page the
    figure as the chapter drew it. No page carries the other editions' drawings."""
    nb = executed[chapter.id]
    shown = {c.id: c for c in language_view(nb, lang).cells if c.cell_type == "code"}
    for cell in nb.cells:
        for output, page_output in zip(cell.get("outputs", []), shown.get(cell.id, {}).get("outputs", [])):
            drawings = output.get("data", {}).get(figure_words.EDITIONS_KEY, {})
            assert figure_words.EDITIONS_KEY not in page_output.get("data", {})
            if "image/svg+xml" in output.get("data", {}):
                expected = drawings.get(lang.code, output.data["image/svg+xml"])
                assert page_output.data["image/svg+xml"] == expected, cell.id

