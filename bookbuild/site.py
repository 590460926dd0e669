"""Build the HTML site: one Jupyter Book per language, plus a language chooser.

For each language a Sphinx source tree is staged under ``_build/stage/<lang>``:
the language view of every executed chapter at the path of its student
notebook (so the Colab and Binder buttons open the student version) and the
book pages; a Chinese page carries the ids of its English sections, which its
sections take (``sphinx_ext.use_english_section_ids``). Files are rewritten
only when their content changed, which keeps Sphinx's incremental rebuild (and
a warm ``make book``) fast. Sphinx then runs with ``_config.yml`` and
``_toc.yml`` and this language's overrides; any warning fails the build.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from html import escape
from pathlib import Path

import nbformat
import yaml

from . import execute, layout, pages, pdf_link, sphinx_ext, widgets
from .languages import LANGUAGES, ZH_TAG, Language, language
from .views import language_view

THEME_WORDS = Path(__file__).parent / "locale"  # the theme's words in each Chinese edition's own script
STAGED_LOCALE = "_locale"


def stage(lang: Language, solutions: str) -> Path:
    """Write this language's Sphinx source tree; return its folder."""
    root = layout.STAGE / lang.code
    executed = [(ch, execute.executed(ch)) for ch in layout.chapters()]
    views = {chapter.page: partial(language_view, nb, solutions=solutions) for chapter, nb in executed}
    views.update({page: partial(pages.page_view, page, chapters=executed) for page in layout.pages()})
    english = language("en")
    wanted: dict[Path, str] = {}
    pictures: dict[str, bytes] = {}
    for page, view_in in views.items():
        view = view_in(lang)
        if "widgets" in view.metadata:
            to_static = "../" * page.count("/") + "_static"
            view.metadata["widgets"], shown = widgets.page_state(view.metadata["widgets"],
                                                                 f"{to_static}/{widgets.PICTURES}")
            pictures.update(shown)
        if lang != english:  # the page's sections take the English edition's anchors (sphinx_ext)
            view.metadata["bookbuild"][sphinx_ext.SECTION_IDS] = sphinx_ext.section_ids(view_in(english))
        wanted[root / f"{page}.ipynb"] = nbformat.writes(view)
    catalog = THEME_WORDS / lang.sphinx / "LC_MESSAGES" / "sphinx.po"
    if catalog.exists():  # Sphinx compiles it into a .mo next to the staged copy
        wanted[root / STAGED_LOCALE / catalog.relative_to(THEME_WORDS)] = catalog.read_text(encoding="utf-8")
    for path, text in wanted.items():
        _write_if_changed(path, text)
    for stale in root.rglob("*.ipynb"):
        if stale not in wanted:
            stale.unlink()
    _stage_pictures(root / widgets.STATIC_FOLDER / widgets.PICTURES, pictures)
    return root


def _stage_pictures(folder: Path, pictures: dict[str, bytes]) -> None:
    """The widgets' pictures, each written once (its name is its content's hash); others removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in pictures.items():
        if not (folder / name).exists():
            (folder / name).write_bytes(data)
    for stale in folder.iterdir():
        if stale.name not in pictures:
            stale.unlink()


def build_language(code: str, solutions: str) -> None:
    """Stage and build one language (runs in its own process, see ``build``)."""
    from jupyter_book.sphinx import build_sphinx

    lang = language(code)
    config = yaml.safe_load(layout.CONFIG.read_text(encoding="utf-8"))
    overrides = {
        "external_toc_path": str(layout.TOC),
        "latex_individualpages": False,
        "language": lang.sphinx,
        "locale_dirs": [STAGED_LOCALE],
        "html_title": lang.pick(config["title"]),
        "book_language": lang.code,
        "book_pdf_editions": sorted(path.stem for path in (layout.HTML / pdf_link.SITE_FOLDER).glob("*.pdf")),
    }
    output = layout.LANG_BUILDS / lang.code
    if lang.tag == ZH_TAG:
        overrides["html_search_options"] = {"dict": str(search_words(output))}
    result = build_sphinx(stage(lang, solutions), output / "html", noconfig=True,
                          path_config=str(layout.CONFIG), confoverrides=overrides,
                          doctreedir=str(output / "doctrees"), warningiserror=True,
                          keep_going=True, quiet=True)
    if result:
        raise SystemExit(f"the {lang.label} site did not build cleanly (see the warnings above)")
    _synchronise(output / "html", layout.HTML / lang.code)


def search_words(folder: Path) -> Path:
    """The glossary's Chinese terms as a jieba dictionary for Sphinx's Chinese search index.

    Without it jieba cuts 遗忘门 into 遗忘 + 门 and 梯度消失 into 梯度 + 消失, and the search page,
    which looks the query up whole, finds no page for a term of the glossary. The file is named
    after its content: a new term changes the configuration, and Sphinx then re-indexes every page.
    """
    words = sorted({row[form] for row in pages.glossary_rows() for form in ("zh_hant", "zh_hans")
                    if row[form] and not any(c.isspace() for c in row[form])})
    text = "".join(f"{word}\n" for word in words)
    path = folder / f"search-words-{hashlib.sha256(text.encode()).hexdigest()[:12]}.txt"
    _write_if_changed(path, text)
    for stale in folder.glob("search-words-*.txt"):
        if stale != path:
            stale.unlink()
    return path


def build(solutions: str = "show", jobs: int = 2) -> Path:
    """Build every language, ``jobs`` Sphinx processes at a time; return the site's index."""
    if solutions != _last_solutions():
        shutil.rmtree(layout.LANG_BUILDS, ignore_errors=True)  # pages change without their sources changing

    def run(code: str) -> int:
        cmd = [sys.executable, "-m", "bookbuild", "html-language", code, "--solutions", solutions]
        return subprocess.run(cmd, cwd=layout.ROOT).returncode

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        failed = [lang.code for lang, rc in zip(LANGUAGES, pool.map(run, [l.code for l in LANGUAGES])) if rc]
    if failed:
        raise SystemExit(f"the book did not build: {', '.join(failed)}")
    (layout.BUILD / "solutions-mode").write_text(solutions)
    return write_index()


def _last_solutions() -> str:
    path = layout.BUILD / "solutions-mode"
    return path.read_text() if path.exists() else "show"


def write_index() -> Path:
    """The site's front door: one link per language, chosen for the reader when possible."""
    root_page = yaml.safe_load(layout.TOC.read_text(encoding="utf-8"))["root"]
    links = "\n".join(
        f'    <li><a href="{lang.code}/{root_page}.html" hreflang="{lang.sphinx.replace("_", "-")}" '
        f'lang="{lang.sphinx.replace("_", "-")}">{escape(lang.label)}</a></li>' for lang in LANGUAGES)
    title = yaml.safe_load(layout.CONFIG.read_text(encoding="utf-8"))["title"]
    html = INDEX_TEMPLATE.format(title=escape(title), links=links, root_page=root_page)
    path = layout.HTML / "index.html"
    _write_if_changed(path, html)
    return path


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-Hant">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; }}
    li {{ font-size: 1.4rem; margin: .6rem 0; }}
  </style>
</head>
<body>
  <h1>{title}</h1>
  <ul>
{links}
  </ul>
  <script>
    // Open the reader's language directly; the list above stays for everyone else.
    const wanted = (navigator.languages || [navigator.language || ""]).map(l => l.toLowerCase());
    const pick = l => l.startsWith("zh") ? (/(hans|cn|sg)/.test(l) ? "zh-hans" : "zh-hant")
                                         : (l.startsWith("en") ? "en" : null);
    const code = wanted.map(pick).find(Boolean);
    if (code && !location.hash) location.replace(code + "/{root_page}.html");
  </script>
</body>
</html>
"""


def _synchronise(source: Path, target: Path) -> None:
    """Make ``target`` a copy of ``source``, copying only files whose size or time changed."""
    wanted = set()
    for path in source.rglob("*"):
        if path.is_dir():
            continue
        relative = path.relative_to(source)
        wanted.add(relative)
        copy = target / relative
        stat = path.stat()
        if copy.exists() and copy.stat().st_size == stat.st_size and copy.stat().st_mtime == stat.st_mtime:
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    for path in list(target.rglob("*")):
        if path.is_file() and path.relative_to(target) not in wanted:
            path.unlink()


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
