"""The book's Sphinx extension: what makes one Jupyter Book serve several languages.

* a language switcher on every page that opens the same page in each other
  language (the sites differ only by their top folder);
* part captions of ``_toc.yml`` written "Chinese | English", reduced to the
  site's language;
* the book's own drawing of the saved widgets (``static/bookbuild-widgets.js``), on the pages that
  have widgets, instead of the ipywidgets HTML manager from a CDN;
* a repair of the stack's JavaScript, so that pages load without a console error: an inline script
  registered after the builder started (sphinx-thebe's ``const THEBE_JS_URL``) is written twice by
  Sphinx 7.4;
* MathJax, without its context menu, only on the pages that typeset something, and sphinx-design's
  stylesheet only on pages that use it;
* punctuation that closes a clause kept on the line of the inline formula before it (a Chinese
  line never starts with ，or 。);
* the scripts and styles of ``static/``: sidebar buttons that open on a phone, a one-row
  phone header, CJK fonts per edition, inline formulas too wide for the screen made to scroll
  (with a shadow at the edge that can scroll, as on displayed formulas), wide tables that show
  they scroll, headers and the sidebar title that break only where a reader would;
* one search box (pydata-sphinx-theme 0.17 adds a second one in a top bar of its own), a landing
  page whose ``<title>`` names the book once (``templates/layout.html``), the Colab button in the
  header of every chapter instead of under the rocket, and a ".ipynb" download that is the student
  notebook;
* a language switch that keeps the reader's section, and on the search page the query;
* search results that read well: snippets with typeset formulas (``static/bookbuild-search.js``
  loads MathJax when a snippet has one), chapters ranked before the book's other pages
  (``static/bookbuild-search-scorer.js``), and in the Chinese editions each section's anchor the
  English edition's readable one (``#lstm-gates-that-manage-a-memory``, not ``#id7``), so a link to a
  section works in every edition; the section's old id stays on it for links made before;
* the Chinese search index built in linear time (``ChineseSearch``);
* the labels the theme and myst-nb write in English whatever the page's language (tooltips, the
  search field's placeholder, the names screen readers give the sidebars and the folded cells' toggles)
  in the page's, from the book's catalog (``labels_in_page_language``), and the copy buttons' in
  Traditional Chinese (``static/bookbuild-copy-words.js``).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from docutils import nodes
from markdown_it.renderer import RendererHTML
from markupsafe import Markup
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from nbformat import NotebookNode
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.search.zh import SearchChinese
from sphinx.util import logging

from . import widgets
from .pdf_link import link_context as pdf_link
from .languages import LANGUAGES, language
from .layout import NOTEBOOKS, ROOT

HERE = Path(__file__).parent
logger = logging.getLogger(__name__)


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_language", "en", "env")
    # The editions whose PDF the site holds (``make pdf``): their pages link to it. A change re-reads
    # every page, so that the link appears on all of them.
    app.add_config_value("book_pdf_editions", [], "env")
    # A digest of this extension, its templates and the theme's words (bookbuild/locale): when they
    # change, every page is read again (the extension changes doctrees, not only the HTML around them,
    # and Sphinx writes no page again for a changed catalog).
    app.add_config_value("book_extension_digest", digest(), "env")
    app.connect("config-inited", configure)
    app.connect("doctree-read", translate_captions)
    app.connect("doctree-read", keep_punctuation_with_math)
    # Before the table of contents and the search index read the sections' ids (priority 500).
    app.connect("doctree-read", use_english_section_ids, priority=400)
    app.connect("html-page-context", add_language_links)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", drop_mathjax_where_unused, priority=900)
    app.connect("html-page-context", drop_design_where_unused, priority=900)
    app.connect("html-page-context", show_colab_button, priority=600)  # after the theme's launch buttons (501)
    app.connect("html-page-context", add_search_snippets)
    app.connect("html-page-context", add_pdf_link)
    app.connect("builder-inited", add_template_filters)
    app.connect("build-finished", serve_student_notebooks)
    app.add_search_language(ChineseSearch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


class ChineseSearch(SearchChinese):
    """Sphinx's Chinese search language, with the Latin words it has seen kept in a set.

    Sphinx 7.4 appends every Latin word of every page to a list and, for each word it stems, asks
    whether the word is in that list: the time grows with the square of the book's length. Each
    Chinese edition's build used 165 CPU seconds with the list and uses 34 with a set, against 27
    for the English one. Sphinx 8.1 made the list a set (sphinx-doc/sphinx#12995); Jupyter Book 1
    keeps Sphinx below 8. The words indexed are the same (tests/test_site.py compares the two).
    """

    def init(self, options: dict[str, str]) -> None:
        super().init(options)
        self.latin_terms = _WordSet()


class _WordSet(set):
    """A set that Sphinx 7.4's ``SearchChinese.split`` can ``extend`` as it would its list."""

    extend = set.update


def digest() -> str:
    files = [HERE / "sphinx_ext.py", *sorted((HERE / "templates").iterdir()), *sorted((HERE / "static").iterdir()),
             *sorted((HERE / "locale").rglob("*.po"))]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def configure(app: Sphinx, config) -> None:
    config.templates_path.append(str(HERE / "templates"))
    config.html_static_path.append(str(HERE / "static"))
    app.add_css_file("bookbuild.css")
    app.add_js_file("bookbuild-toggles.js")
    app.add_js_file("bookbuild-wide-math.js")
    app.add_js_file("bookbuild-scroll-hints.js")
    app.add_js_file("bookbuild-lang-place.js")
    app.add_js_file("bookbuild-copy-words.js")
    config.html_favicon = str(HERE / "static" / "favicon.svg")
    config.html_search_scorer = str(HERE / "static" / "bookbuild-search-scorer.js")
    options = dict(config.html_theme_options)
    options["article_header_end"] = ["lang-switcher.html", "pdf-link.html", "article-header-buttons.html"]
    # Left unset, pydata-sphinx-theme 0.17 puts a search field in a top bar above the sidebar's own.
    options["navbar_persistent"] = []
    config.html_theme_options = options
    # myst-nb adds these to the pages with saved widgets only. Async: the widgets are drawn as soon
    # as the page is parsed, not after the deferred scripts (MathJax, the theme) have downloaded.
    config.nb_ipywidgets_js = {WIDGETS_SCRIPT: {"async": "async"}}
    # The widgets' pictures, staged by bookbuild/widgets.py, go to _static/ (bookbuild-widgets.js shows them).
    if (Path(app.srcdir) / widgets.STATIC_FOLDER).is_dir():
        config.html_static_path.append(str(Path(app.srcdir) / widgets.STATIC_FOLDER))
    app.add_css_file("bookbuild-widgets.css")
    # MathJax as tex-chtml.js (1.2 MB) has it, less the context menu (ui/menu, 430 kB): its loader
    # fetches the components below from the site's copy (sphinx-mathjax-offline's).
    config.mathjax_path = MATHJAX_PATH
    config.mathjax3_config = {**(config.mathjax3_config or {}), "loader": {"load": MATHJAX_COMPONENTS}}


def add_template_filters(app: Sphinx) -> None:
    if hasattr(app.builder, "templates"):
        app.builder.templates.environment.filters["labels_in_page_language"] = labels_in_page_language


# The attributes that name or explain an element: a tooltip, a screen reader's name, a placeholder, an alt text.
LABEL = re.compile(r'\b(title|aria-label|placeholder|alt)="([^"]*)"')


def labels_in_page_language(page: str) -> Markup:
    """``page`` (HTML) with each label that the page's catalog translates in the page's language
    (``templates/layout.html`` filters the whole page through it).

    Some labels are written in English whatever the site's language: sphinx-book-theme's sidebar
    toggles and navigation names are fixed in its templates, myst-nb names every folded cell's toggle
    "Toggle hidden content", and the theme's own catalog lacks the launch buttons' tooltips. The book's
    catalog (bookbuild/locale) holds them; labels it does not hold are left as they are."""
    def translated(match: re.Match) -> str:
        english = html.unescape(match[2])
        ours = _(english)
        return match[0] if ours == english else f'{match[1]}="{html.escape(ours)}"'

    return Markup(LABEL.sub(translated, str(page)))


WIDGETS_SCRIPT = "bookbuild-widgets.js"
MATHJAX_PATH = "mathjax/startup.js"
MATHJAX_COMPONENTS = ["input/tex", "output/chtml", "a11y/assistive-mml"]


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write each script once: Sphinx 7.4 lists an inline script added after the builder started twice
    (as filename None and as ''), and sphinx-thebe's ``const`` declarations then fail the second time."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", script) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def drop_mathjax_where_unused(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Load MathJax (800 kB) only on pages with formulas or widgets (whose labels may hold TeX).

    Sphinx also loads it on every page whose table of contents reaches a page with formulas,
    which is the landing page: the book's front door paid for MathJax and typeset nothing."""
    if doctree is None or app.env.get_domain("math").data["has_equations"].get(pagename):
        return
    scripts = context.get("script_files", [])
    if any(WIDGETS_SCRIPT in (getattr(script, "filename", None) or "") for script in scripts):
        return
    context["script_files"][:] = [script for script in scripts if not _is_mathjax(script, app.config.mathjax_path)]


def _is_mathjax(script, mathjax_path: str) -> bool:
    """MathJax itself, or the inline ``window.MathJax = {...}`` configuration Sphinx writes before it."""
    body = getattr(script, "attributes", {}).get("body", "")
    filename = getattr(script, "filename", None) or ""
    return filename in (mathjax_path, f"_static/{mathjax_path}") or body.startswith("window.MathJax =")


def drop_design_where_unused(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Load sphinx-design's stylesheet (55 kB) and tab script only on pages that use its components.

    Jupyter Book enables the extension for every book, and it adds both files to every page; the
    book's pages use none of its cards, grids or tabs today."""
    if SPHINX_DESIGN_CLASS.search(context.get("body", "")):
        return
    for assets in (context.get("css_files", []), context.get("script_files", [])):
        assets[:] = [asset for asset in assets if not _is_sphinx_design(getattr(asset, "filename", None) or "")]


SPHINX_DESIGN_CLASS = re.compile(r'class="(?:[^"]* )?sd-')


def _is_sphinx_design(filename: str) -> bool:
    return Path(filename).name in ("sphinx-design.min.css", "design-tabs.js")


def add_pdf_link(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The header's link to the whole book as a PDF (``templates/pdf-link.html``), where the site has it."""
    if app.config.book_language in app.config.book_pdf_editions:
        context["book_pdf"] = pdf_link(pagename, app.config.book_language)


def add_search_snippets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The search page's script that builds its snippets, formulas typeset (``static/bookbuild-search.js``)."""
    if pagename == "search":
        app.builder.add_js_file("bookbuild-search.js")


def translate_captions(app: Sphinx, doctree: nodes.document) -> None:
    lang = language(app.config.book_language)
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption"):
            toctree["caption"] = lang.pick(toctree["caption"])


# Punctuation no line may start with: Chinese full-width closers and their ASCII counterparts.
CLOSING_PUNCTUATION = "，、。；：！？」』”’）】〉》…,.;:!?)"


def keep_punctuation_with_math(app: Sphinx, doctree: nodes.document) -> None:
    """Wrap an inline formula and the closing punctuation right after it in one unbreakable span.

    A browser may break the line between the typeset formula (an inline block) and the text after
    it, so a Chinese line would start with ，or 。, which Chinese typography never does."""
    for math in list(doctree.findall(nodes.math)):
        parent = math.parent
        index = parent.index(math)
        following = parent[index + 1] if index + 1 < len(parent) else None
        if not isinstance(following, nodes.Text):
            continue
        text = following.astext()
        rest = text.lstrip(CLOSING_PUNCTUATION)
        if rest == text:
            continue
        group = nodes.inline(classes=["book-math-nowrap"])
        parent.replace(math, group)
        group += math
        group += nodes.Text(text[:len(text) - len(rest)])
        if rest:
            parent.replace(following, nodes.Text(rest))
        else:
            parent.remove(following)


# The staged notebook's metadata key that holds the English edition's section ids of a page (site.stage).
SECTION_IDS = "english_section_ids"


def section_ids(view: NotebookNode) -> list[str]:
    """The ids Sphinx gives a page's sections, in order: docutils' id of each heading's text, as MyST
    reads it (code, formulas and a role's title are text in a heading; a ``#`` in a code block is not one)."""
    markdown = create_md_parser(MdParserConfig(enable_extensions={"dollarmath", "amsmath", "colon_fence"}),
                                RendererHTML)
    ids = []
    for cell in view.cells:
        if cell.cell_type != "markdown":
            continue
        tokens = markdown.parse(cell.source)
        for opening, inline in zip(tokens, tokens[1:]):
            if opening.type == "heading_open":
                ids.append(nodes.make_id(nodes.fully_normalize_name(_heading_text(inline))))
    return ids


def _heading_text(inline) -> str:
    text = []
    for token in inline.children:
        if token.type == "myst_role":  # {doc}`title <target>` shows its title
            text.append(re.sub(r"\s*<[^<>]*>$", "", token.content))
        elif token.type == "softbreak":
            text.append(" ")
        else:  # text, code and formulas; markup tokens have no content
            text.append(token.content)
    return "".join(text)


def use_english_section_ids(app: Sphinx, doctree: nodes.document) -> None:
    """Give a Chinese page's sections the English edition's ids: readable, and the same in every edition.

    docutils makes an id from the ASCII letters of a heading, so a Chinese section was ``#id7`` or
    ``#qkv``. The editions' pages have the same sections in the same order (their prose cells come in
    pairs); ``site.stage`` stores the English ids in the Chinese page's metadata. A section keeps its
    old id as a second one, so a link made to it still arrives."""
    staged = json.loads(Path(app.env.doc2path(app.env.docname)).read_text(encoding="utf-8"))
    english = staged["metadata"].get("bookbuild", {}).get(SECTION_IDS)
    if english is None:
        return
    sections = list(doctree.findall(nodes.section))
    if len(sections) != len(english):
        logger.warning("%d sections, but %d in the English edition: their anchors cannot be shared",
                       len(sections), len(english), location=app.env.docname)
        return
    taken = set(english)
    for section, new_id in zip(sections, english):
        section["ids"] = [new_id, *(old for old in section["ids"] if old not in taken)]
        doctree.ids[new_id] = section


# What the switcher shows of each language on a phone, where the full names do not fit one row.
SHORT_LABELS = {"zh-hant": "繁", "en": "EN", "zh-hans": "简"}


def add_language_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    current = app.config.book_language
    up = "../" * (pagename.count("/") + 1)
    context["book_language_nav_label"] = language(current).pick("語言 | Language")
    context["book_language_links"] = [
        {"label": lang.label, "short": SHORT_LABELS.get(lang.code, lang.label), "hreflang": lang.sphinx.replace("_", "-"),
         "current": lang.code == current, "href": f"{up}{lang.code}/{pagename}.html"}
        for lang in LANGUAGES
    ]


def show_colab_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Take the Colab link out of the rocket's menu (where no reader found it) into a chapter's header.

    The book's own pages are Markdown in the repository, which neither Colab nor Binder opens: their
    launch buttons, which pointed at notebooks that do not exist, go."""
    buttons = context.get("header_buttons", [])
    for group in [b for b in buttons if b.get("label") == "launch-buttons"]:
        if student_notebook(pagename) is None:
            buttons.remove(group)
            continue
        colab = [b for b in group["buttons"] if b.get("text") == "Colab"]
        group["buttons"] = [b for b in group["buttons"] if b not in colab]
        buttons[buttons.index(group):buttons.index(group)] = [{**b, "label": "colab-button"} for b in colab]
        if not group["buttons"]:
            buttons.remove(group)


def serve_student_notebooks(app: Sphinx, exception) -> None:
    """The ".ipynb" a chapter page offers for download is the student notebook of ``notebooks/``.

    Sphinx copies each page's source into ``_sources/``, and a chapter's page is built from the
    executed reference notebook, solutions included; the student's copy replaces it."""
    if exception is not None or app.builder.format != "html":
        return
    for pagename in app.env.found_docs:
        student = student_notebook(pagename)
        served = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        if student is not None and served.exists() and served.read_bytes() != student.read_bytes():
            served.write_bytes(student.read_bytes())


def student_notebook(pagename: str) -> Path | None:
    """The student notebook a chapter page is named after (its path in the repository), if the page is one."""
    path = ROOT / f"{pagename}.ipynb"
    return path if path.is_relative_to(NOTEBOOKS) and path.exists() else None
