"""Where things are: the repository layout and the list of chapters.

The table of contents is the list of chapters: an entry ``notebooks/<id>/<id>``
is a chapter whose single source is ``solutions/<id>/<id>.ipynb``; an entry
``book/<name>`` is a bilingual page written in MyST Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from autograder import course

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
TOC = ROOT / "_toc.yml"
BOOK = ROOT / "book"
SOLUTIONS = ROOT / course.SOURCE_DIR
NOTEBOOKS = ROOT / course.RELEASE_DIR

BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"      # executed reference notebooks (the cache)
STAGE = BUILD / "stage"            # one Sphinx source tree per language
LANG_BUILDS = BUILD / "lang"       # Sphinx's own output and doctrees, per language
HTML = BUILD / "html"              # the site: index.html and one folder per language


@dataclass(frozen=True)
class Chapter:
    id: str

    @property
    def source(self) -> Path:
        return SOLUTIONS / self.id / f"{self.id}.ipynb"

    @property
    def student(self) -> Path:
        return NOTEBOOKS / self.id / f"{self.id}.ipynb"

    @property
    def executed(self) -> Path:
        return EXECUTED / f"{self.id}.ipynb"

    @property
    def page(self) -> str:
        """The page name, which is also the student notebook's path in the repository."""
        return f"{course.RELEASE_DIR}/{self.id}/{self.id}"


def toc_files() -> list[str]:
    toc = yaml.safe_load(TOC.read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def chapters() -> list[Chapter]:
    prefix = f"{course.RELEASE_DIR}/"
    return [Chapter(f.split("/")[1]) for f in toc_files() if f.startswith(prefix)]


def pages() -> list[str]:
    """The bilingual Markdown pages, as ``book/<name>``."""
    return [f for f in toc_files() if f.startswith("book/")]


def chapter(chapter_id: str) -> Chapter:
    """A chapter by id: one of _toc.yml, or a new one that has a source but is not listed yet."""
    for ch in chapters():
        if ch.id == chapter_id:
            return ch
    if Chapter(chapter_id).source.exists():
        return Chapter(chapter_id)
    raise KeyError(f"{chapter_id} is not a chapter of _toc.yml and has no source in {SOLUTIONS}")


def selected_chapters(selection: str | None) -> list[Chapter]:
    """The chapters a comma-separated selection names (``BOOK_CHAPTERS=ch10_rnn,ch11_attention``);
    every chapter of _toc.yml when the selection is empty."""
    ids = [c.strip() for c in (selection or "").split(",") if c.strip()]
    return [chapter(c) for c in ids] or chapters()
