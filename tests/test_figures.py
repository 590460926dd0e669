"""Figures: every figure of a chapter declares its caption and alt text in both languages."""

from __future__ import annotations

import re
from types import SimpleNamespace

from bookbuild import figures, vocabulary
from bookbuild.languages import SEPARATOR

CJK = re.compile(r"[\u4e00-\u9fff]")


def halves(bilingual: str) -> tuple[str, str]:
    zh, _, en = bilingual.partition(SEPARATOR)
    return zh.strip(), en.strip()


def test_every_figure_declares_a_caption_and_alt_text_in_both_languages(executed, chapter):
    found = []
    for index, cell in enumerate(executed[chapter.id].cells):
        declared = figures.declaration(cell)
        if cell.cell_type != "code" or not figures.is_figure(cell):
            if declared is not None:
                found.append(f"cell {index} declares a figure but shows none")
            continue
        if declared is None or set(declared) != set(figures.FIELDS):
            found.append(f"cell {index} ({cell.id}) shows a figure without a caption and alt text")
            continue
        (caption_zh, caption_en), (alt_zh, alt_en) = halves(declared["caption"]), halves(declared["alt"])
        for name, zh, en in (("caption", caption_zh, caption_en), ("alt", alt_zh, alt_en)):
            if not (CJK.search(zh) and en and not CJK.search(en)):
                found.append(f"cell {index}: the {name} is not 'Chinese | English': {declared[name]!r}")
            found += [f"cell {index}: the {name} writes {word!r}; the book writes {advice}"
                      for word, advice in vocabulary.zh_problems(zh) + vocabulary.en_problems(en)]
        if caption_zh == alt_zh or caption_en == alt_en:
            found.append(f"cell {index}: the alt text repeats the caption instead of describing the picture")
        if re.search(r"\$|\.(?:svg|png)\b|_build|\.\./", alt_en):
            found.append(f"cell {index}: the alt text holds TeX or a path: {alt_en!r}")
    assert not found, "\n".join(found)


def test_figure_numbers_restart_in_every_chapter_with_its_number():
    """Sphinx counts figures over the whole book; a chapter's page shows (chapter, k)."""
    fignumbers = {"notebooks/ch10_rnn/ch10_rnn": {"figure": {"fig-b": (31,), "fig-a": (30,)}},
                  "book/intro": {"figure": {"fig-c": (7,)}}}
    app = SimpleNamespace(env=SimpleNamespace(toc_fignumbers=fignumbers))
    for docname in fignumbers:
        figures.number_by_chapter(app, None, docname)
    assert fignumbers["notebooks/ch10_rnn/ch10_rnn"]["figure"] == {"fig-a": (10, 1), "fig-b": (10, 2)}
    assert fignumbers["book/intro"]["figure"] == {"fig-c": (1,)}
    assert figures.chapter_number("notebooks/ch00_pytorch/ch00_pytorch") == 0
