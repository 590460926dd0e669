"""The book's own pages: landing page, guide, glossary, notation, errata.

Each page is a bilingual MyST Markdown notebook in ``book/`` (prose cells
tagged like a chapter's). Two pages are completed from data kept next to the
material they describe, so nothing is written twice:

* the errata page gathers every chapter's cells tagged ``errata``;
* the glossary page is built from ``book/glossary/*.csv`` (one file per
  chapter: English, Traditional Chinese, optional Simplified Chinese when
  OpenCC's conversion is not the mainland term).
"""

from __future__ import annotations

import copy
import csv

import jupytext
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell

from . import cells
from .languages import Language, to_simplified
from .layout import BOOK, Chapter, ROOT
from .views import language_view

ERRATA_TAG = "errata"
GLOSSARY = BOOK / "glossary"


def source(page: str) -> NotebookNode:
    return jupytext.read(ROOT / f"{page}.md")


def page_view(page: str, lang: Language, chapters: list[tuple[Chapter, NotebookNode]]) -> NotebookNode:
    """One language of a book page; ``chapters`` are the executed chapters, in book order."""
    view = language_view(source(page), lang)
    if page == "book/errata":
        view.cells += errata_cells(chapters, lang)
    elif page == "book/glossary":
        view.cells.append(_generated("glossary-table", glossary_table(lang)))
    return view


def errata_cells(chapters: list[tuple[Chapter, NotebookNode]], lang: Language) -> list[NotebookNode]:
    gathered = []
    for chapter, nb in chapters:
        found = [c for c in nb.cells if ERRATA_TAG in cells.tags(c) and cells.prose_tag(c) == lang.tag]
        if not found:
            continue
        title = chapter_title(nb, lang)
        link = f"{{doc}}`{title} <../{chapter.page}>`"
        gathered.append(_generated(f"errata-{chapter.id}", f"## {link}"))
        for cell in found:
            copied = copy.deepcopy(cell)
            copied.source = lang.text(cell.source)
            copied.metadata = {}
            gathered.append(copied)
    return gathered


def chapter_title(nb: NotebookNode, lang: Language) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cells.prose_tag(cell) == lang.tag:
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return lang.text(line[2:].strip())
    raise ValueError("a chapter has no level-1 title in this language")


def glossary_rows() -> list[dict]:
    rows = []
    for path in sorted(GLOSSARY.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                row = {k: (v or "").strip() for k, v in row.items()}
                row["zh_hans"] = row.get("zh_hans") or to_simplified(row["zh_hant"])
                row["chapter"] = path.stem
                rows.append(row)
    return sorted(rows, key=lambda r: r["en"].lower())


def glossary_table(lang: Language) -> str:
    header = lang.pick("英文 | English"), lang.pick("繁體中文 | Traditional Chinese"), \
        lang.pick("簡體中文 | Simplified Chinese"), lang.pick("章 | Chapter")
    lines = ["| " + " | ".join(header) + " |", "|---|---|---|---|"]
    for row in glossary_rows():
        chapter = f"{{doc}}`../{Chapter(row['chapter']).page}`"  # shows the chapter's title
        lines.append(f"| {row['en']} | {row['zh_hant']} | {row['zh_hans']} | {chapter} |")
    return "\n".join(lines)


def _generated(cell_id: str, text: str) -> NotebookNode:
    cell = new_markdown_cell(text)
    cell.id = cell_id  # fixed ids keep unchanged pages byte-identical between builds
    return cell
