"""The reference notebooks and book pages follow the book's conventions (nothing is executed here)."""

from __future__ import annotations

import copy
import csv

import nbformat
import pytest

from bookbuild import conventions, layout, pages, vocabulary
from bookbuild.languages import EN_TAG, ZH_TAG, to_simplified


def test_chapter_follows_the_conventions(chapter):
    assert conventions.chapter_problems(chapter) == []


@pytest.mark.parametrize("page", layout.pages())
def test_book_page_is_bilingual(page):
    assert conventions.bilingual_problems(pages.source(page), page) == []


@pytest.mark.parametrize("page", layout.pages())
def test_book_page_uses_the_book_vocabulary(page):
    assert vocabulary.notebook_problems(pages.source(page), page) == []


# Taiwan words and marks that OpenCC's conversion leaves in the Simplified edition although the
# mainland writes them otherwise (gate, implementation, algorithm, parallel, inference, corner quotes);
# MAINLAND_ML_TERMS must replace every one of them.
TAIWAN_ONLY = ("闸门", "实作", "演算法", "平行", "推论", "「", "」", "『", "』")


def test_simplified_edition_writes_mainland_words(chapter):
    nb = nbformat.read(chapter.source, as_version=4)
    text = to_simplified("\n".join(c.source for c in nb.cells if ZH_TAG in c.metadata.get("tags", [])))
    assert [w for w in TAIWAN_ONLY if w in text] == []


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


def test_vocabulary_flags_planted_words_and_passes_clean_text():
    planted_zh = "模型的偏置與激活函數，先做歸一化再接邏輯迴歸；x 是行向量，第 0 列是模型 1，信息與數據。"
    found = {word for word, _ in vocabulary.zh_problems(planted_zh)}
    assert {"偏置", "激活", "歸一化", "邏輯迴歸", "行向量", "第 0 列", "信息", "數據"} <= found
    assert {w for w, _ in vocabulary.en_problems("We normalise, then regularisation; optimised and analyse.")} == {
        "normalise", "regularisation", "optimised", "analyse"}
    clean_zh = ("偏值與偏差不同；激勵函數之後做正規化與正則化，再接邏輯斯迴歸。x 是橫列向量，W 的第 2 直行，"
                "第 0 橫列是模型 1。演算法與兩種算法；程式、資料、預設、記憶體、批次。"
                "筆記 05 寫「偏置要尽量小、激活、归一化」，引文保留原文。`bias_ih` 與 $b_h$。")
    assert vocabulary.zh_problems(clean_zh) == []
    clean_en = ("We normalize and regularize; the exercise is precise, noise otherwise rises; analysis, "
                "emphasis, analyses and a premise. `normalise` in code stays as it is.")
    assert vocabulary.en_problems(clean_en) == []


def test_conventions_notice_a_word_the_book_does_not_use():
    nb = _pilot()
    zh = next(c for c in nb.cells if ZH_TAG in c.metadata.get("tags", []))
    en = next(c for c in nb.cells if EN_TAG in c.metadata.get("tags", []))
    assert conventions.vocabulary_problems(nb, "clean") == []
    zh.source += "\n\n這裡的偏置是一個參數。"
    en.source += "\n\nWe initialise the weights."
    problems = conventions.vocabulary_problems(nb, "broken")
    assert len(problems) == 2 and "偏置" in problems[0] and "initialise" in problems[1]
