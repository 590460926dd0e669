"""The reference notebooks and book pages follow the book's conventions (nothing is executed here)."""

from __future__ import annotations

import copy
import csv

import nbformat
import pytest

from bookbuild import conventions, layout, pages
from bookbuild.languages import EN_TAG, ZH_TAG


def test_chapter_follows_the_conventions(chapter):
    assert conventions.chapter_problems(chapter) == []


@pytest.mark.parametrize("page", layout.pages())
def test_book_page_is_bilingual(page):
    assert conventions.bilingual_problems(pages.source(page), page) == []


def test_landing_page_links_every_chapter():
    intro = (layout.BOOK / "intro.md").read_text(encoding="utf-8")
    for chapter in layout.chapters():
        assert intro.count(f"<../{chapter.page}>") == 2, f"{chapter.id} is missing from a language of the chapter map"


def test_glossary_files_belong_to_chapters_and_are_complete():
    ids = {c.id for c in layout.chapters()}
    seen = set()
    for path in sorted(pages.GLOSSARY.glob("*.csv")):
        assert path.stem in ids, f"{path.name} does not name a chapter of _toc.yml"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and set(rows[0]) == {"en", "zh_hant", "zh_hans"}
        for row in rows:
            assert row["en"].strip() and row["zh_hant"].strip(), row
            assert row["en"].lower() not in seen, f"{row['en']} is defined twice"
            seen.add(row["en"].lower())


# The checks above only mean something if they can fail: break a copy of a source and see them object.

def _pilot():
    return nbformat.read(layout.chapters()[0].source, as_version=4)


def test_conventions_notice_a_missing_english_partner():
    nb = _pilot()
    index = next(i for i, c in enumerate(nb.cells) if EN_TAG in c.metadata.get("tags", []))
    del nb.cells[index]
    assert any("English partner" in p for p in conventions.bilingual_problems(nb, "broken"))


def test_conventions_notice_mismatched_headings():
    nb = _pilot()
    index = next(i for i, c in enumerate(nb.cells) if EN_TAG in c.metadata.get("tags", []) and "\n## " in "\n" + c.source)
    nb.cells[index].source = nb.cells[index].source.replace("## ", "", 1)
    assert any("different headings" in p for p in conventions.bilingual_problems(nb, "broken"))


def test_conventions_notice_stored_outputs_and_undeclared_exercises():
    nb = _pilot()
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="leftover")]
    test_cell = next(c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                     and not c.metadata["nbgrader"].get("solution"))
    test_cell.source = test_cell.source.split("### BEGIN HIDDEN TESTS")[0]
    assert conventions.stored_outputs(nb, "broken")
    assert any("declares no exercise" in p for p in conventions.exercise_problems(nb, "broken"))


def test_conventions_notice_a_zh_cell_without_tag():
    nb = _pilot()
    cell = next(c for c in nb.cells if ZH_TAG in c.metadata.get("tags", []))
    cell.metadata["tags"] = []
    assert any("needs exactly one of the tags" in p for p in conventions.bilingual_problems(copy.deepcopy(nb), "x"))
