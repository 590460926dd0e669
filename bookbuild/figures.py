"""Figures that read in every edition: a numbered caption and alt text in the page's language.

A chapter's figure is the one display output of a code cell (a matplotlib SVG, or a widget
that switches between precomputed figures). The source cell declares the figure once, in both
languages, in its metadata::

    "figure": {"caption": "中文說明 | English caption", "alt": "中文描述 | English description"}

The caption says what the figure shows and what to see in it; the alt text describes the
picture for a reader who cannot see it (what is plotted against what, the shapes and colors).
The view of each edition turns the declaration into the metadata myst-nb reads (``mystnb``:
``figure`` with the caption and a name, ``image`` with the alt text), the Simplified Chinese
edition converting the Chinese half as it converts prose; a figure drawn again for the edition
(``figure_words.py``) replaces the English drawing. Sphinx numbers the figures
(``numfig``; the Chinese locales print 圖 and 图); this module is also a Sphinx extension that
prefixes each chapter's numbers with the chapter's, so the second figure of chapter 10 is
"圖 10.2" / "Fig. 10.2" in every edition, as in a printed book.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode

from . import figure_words
from .languages import Language

KEY = "figure"  # the source cell's bilingual declaration
FIELDS = ("caption", "alt")
CHAPTER_PAGE = re.compile(r"(?:^|/)ch(\d+)_[^/]*$")


def declaration(cell: NotebookNode) -> dict | None:
    """The cell's bilingual figure declaration, or None."""
    return cell.get("metadata", {}).get(KEY)


def is_figure(cell: NotebookNode) -> bool:
    """Whether the executed cell displays a figure: an SVG image or a widget."""
    return any(output.get("output_type") in ("display_data", "execute_result")
               and ("image/svg+xml" in output.get("data", {})
                    or "application/vnd.jupyter.widget-view+json" in output.get("data", {}))
               for output in cell.get("outputs", []))


def without_editions(output: dict) -> dict:
    """An output as a kernel without the build's startup writes it: without the Chinese editions'
    drawings (what the English page shows, and what a rerun that checks the chapter compares)."""
    if figure_words.EDITIONS_KEY not in output.get("data", {}):
        return output
    return {**output, "data": {k: v for k, v in output["data"].items() if k != figure_words.EDITIONS_KEY}}


def name(cell: NotebookNode) -> str:
    """The figure's anchor: the cell's id, so it is the same in every edition."""
    return f"fig-{cell.id}"


def in_language(cell: NotebookNode, lang: Language) -> None:
    """Show the cell's figure as ``lang``'s edition draws it, and replace the cell's bilingual
    declaration with myst-nb's metadata in ``lang``."""
    for output in cell.get("outputs", []):
        drawings = output.get("data", {}).pop(figure_words.EDITIONS_KEY, None)
        if drawings and lang.code in drawings:
            output.data["image/svg+xml"] = drawings[lang.code]
    declared = cell.metadata.pop(KEY, None)
    if declared is None:
        return
    mystnb = cell.metadata.setdefault("mystnb", {})
    mystnb["figure"] = {"caption": lang.pick(declared["caption"]), "name": name(cell)}
    mystnb["image"] = {"alt": lang.pick(declared["alt"])}


def chapter_number(docname: str) -> int | None:
    """10 for the page ``notebooks/ch10_rnn/ch10_rnn``; None for a page that is not a chapter."""
    found = CHAPTER_PAGE.search(docname)
    return int(found.group(1)) if found else None


def number_by_chapter(app, doctree, docname: str) -> None:
    """Give the page's figures the numbers (chapter, k) instead of Sphinx's running count.

    Without a numbered table of contents Sphinx counts figures across the whole book. The page is
    about to be written, and the environment was saved before writing began, so the change lasts
    for this page only and Sphinx's own count stays what it compares with on the next build."""
    numbers = app.env.toc_fignumbers.get(docname, {})
    figures = numbers.get("figure")
    chapter = chapter_number(docname)
    if not figures:
        return
    ordered = sorted(figures, key=figures.get)
    prefix = () if chapter is None else (chapter,)
    numbers["figure"] = {figure_id: (*prefix, k) for k, figure_id in enumerate(ordered, start=1)}


def setup(app):
    app.connect("doctree-resolved", number_by_chapter)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
