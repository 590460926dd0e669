"""The whole book as a PDF per edition (``make pdf``, bookbuild/pdf.py), read as a reader's viewer reads it.

The PDFs are printed once from the site the suite builds (``printed_pdfs`` in conftest.py: on the spare
core once the site is built, while the browser checks go on): under ``make test`` the Traditional Chinese
edition's alone (its CJK fonts are what can go wrong; printing one edition takes about 2 minutes on two
quiet cores), under ``make test-pdf`` (``BOOK_PDF_EDITIONS=all``) all three. Poppler's
pdftohtml reads the text of each page, with where it stands and its font (the contents and their page
numbers, the running heads, the titles, raw JSON or TeX); pypdf reads the bookmarks, the fonts and the
links. The checks are first run on a small document printed with the faults they look for, so that a
check that could not fail would be noticed.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from bookbuild import layout, pdf, pdf_link, sphinx_ext
from bookbuild.languages import LANGUAGES

pytestmark = pytest.mark.browser

PRINTED = [lang for lang in LANGUAGES if os.environ.get("BOOK_PDF_EDITIONS", "zh-hant") in ("all", lang.code)]

# What a page must not show: a widget's saved JSON (the manager failed to draw it) and, in the prose, TeX
# that MathJax did not typeset.
WIDGET_JSON = ["application/vnd.jupyter.widget", '"model_id"']
RAW_TEX = ["\\(", "\\)", "$$", "\\[", "\\]"]
# The paper's margins (pdf.PAPER): the running heads stand above the top one, the page number below the bottom one.
ROW_PX = 6  # pieces of text whose tops are this close (pdftohtml's pixels, 1.5 a point) are on one line
PAGE_HEIGHT_PT, TOP_MARGIN_PT, BOTTOM_MARGIN_PT = 297 / 25.4 * 72, 20 / 25.4 * 72, 18 / 25.4 * 72
# A page of the site prints to at least one sheet, and no page of this book to more than 80.
MAX_SHEETS_A_PAGE = 80
FONT_PROGRAMS = ("/FontFile", "/FontFile2", "/FontFile3")
# The Noto Sans CJK (fonts-noto-cjk) of each Chinese edition's glyphs (bookbuild.css), as the PDF names it.
CJK_FONTS = {"zh-hant": "NotoSansCJKtc-", "zh-hans": "NotoSansCJKsc-"}


@pytest.fixture(scope="module")
def books(printed_pdfs):
    """Each edition's PDF, printed from the built site (by ``make test`` on its spare core while the
    browser checks ran), by edition code."""
    started = time.monotonic()
    paths = printed_pdfs([lang.code for lang in PRINTED])
    print(f"\nthe PDFs of {len(paths)} editions were there in {time.monotonic() - started:.0f} s")
    with ThreadPoolExecutor(max_workers=2) as pool:  # pdftohtml runs outside Python: one a core
        return dict(zip((path.stem for path in paths), pool.map(Book, paths)))


class Book:
    """A PDF and the text of each of its pages, as poppler's pdftohtml reads it (pypdf's text extraction
    took half a second a page): all of it; its running head (what stands above the top margin); its body
    (what stands between the margins); and the body's prose, what is not set in the code's monospace
    font (code may hold a regular expression's \\( or a label's dollars)."""

    def __init__(self, path: Path):
        self.reader = PdfReader(path)
        xml = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", str(path)],
                             capture_output=True, check=True).stdout
        pages = ElementTree.fromstring(xml).findall("page")
        families = {font.get("id"): font.get("family") for page in pages for font in page.findall("fontspec")}
        self.text, self.head, self.body, self.prose = [], [], [], []
        for page in pages:
            points = PAGE_HEIGHT_PT / float(page.get("height"))  # pdftohtml's pixels to points
            lines = [(float(line.get("top")) * points, families[line.get("font")], "".join(line.itertext()))
                     for line in page.findall("text")]
            self.text.append(_rows(page.findall("text")))
            self.head.append(" ".join(text for top, _, text in lines if top < TOP_MARGIN_PT))
            body = [(family, text) for top, family, text in lines
                    if TOP_MARGIN_PT <= top < PAGE_HEIGHT_PT - BOTTOM_MARGIN_PT]
            self.body.append(" ".join(text for _, text in body))
            self.prose.append(" ".join(text for family, text in body if "Mono" not in family))


def _rows(pieces) -> str:
    """The page's text, a line of the paper a line: pdftohtml gives a piece of text per font, and the
    pieces of a line (Chinese, Latin, a number) stand a few pixels apart in height."""
    rows: list[list] = []
    for piece in sorted(pieces, key=lambda piece: (float(piece.get("top")), float(piece.get("left")))):
        top = float(piece.get("top"))
        if not rows or top - rows[-1][0] > ROW_PX:
            rows.append([top])
        rows[-1].append((float(piece.get("left")), "".join(piece.itertext())))
    return "\n".join(" ".join(text for _, text in sorted(row[1:])) for row in rows)


def compact(text: str) -> str:
    """Text to compare: without white space (pypdf breaks lines where the paper did, and spaces Chinese
    apart), and with ligatures and full-width forms read as their letters (ﬃ as ffi)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def site_titles(site, code: str) -> dict[str, str]:
    """Each page's title, read from its built HTML (the heading, without its permalink sign)."""
    titles = {}
    for page in layout.toc_files():
        source = (site / code / f"{page}.html").read_text(encoding="utf-8")
        heading = re.search(r"<h1>(.*?)</h1>", source, re.S).group(1)
        titles[page] = html.unescape(re.sub(r"<a class=\"headerlink\".*?</a>|<[^>]+>", "", heading)).strip()
    return titles


def contents(book: Book) -> list[tuple[str, int]]:
    """The entries of the contents: the lines of the pages after the title page that end in a page number
    (the running head's page number stands alone on its line), until the page where the first entry starts."""
    found = []
    for index, text in enumerate(book.text[1:], start=2):
        if found and index >= found[0][1]:
            break
        found += [(title.strip(), int(number)) for title, number in re.findall(r"^(\S.*?)\s+(\d+)$", text, re.M)]
    return found


def raw_left(book: Book) -> dict[int, list[str]]:
    """Page number: the widget JSON (anywhere) and raw TeX (in the prose) it shows."""
    found = {}
    for number, (text, prose) in enumerate(zip(book.text, book.prose), start=1):
        hits = [raw for raw in WIDGET_JSON if raw in text] + [raw for raw in RAW_TEX if raw in prose]
        if hits:
            found[number] = hits
    return found


def fonts(reader: PdfReader) -> dict[str, bool]:
    """The name of each font the pages use, and whether its glyphs are in the PDF: a font program for the
    usual fonts; for Type 3 fonts, glyphs drawn by the PDF itself, the outlines (Chromium embeds the
    OpenType CFF fonts, Noto Sans CJK among them, that way). MathJax's Type 3 fonts have no name."""
    found, seen = {}, set()
    for page in reader.pages:
        for reference in (page.get("/Resources", {}).get_object().get("/Font") or {}).values():
            if reference.idnum in seen:  # the pages of a chapter share its fonts
                continue
            seen.add(reference.idnum)
            font = reference.get_object()
            described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = (described.get("/FontDescriptor") or DictionaryObject()).get_object()
            name = str(font.get("/BaseFont") or descriptor.get("/FontName") or "")
            if name:
                found[name] = "/CharProcs" in font or any(key in descriptor for key in FONT_PROGRAMS)
    return found


def test_the_checks_notice_raw_json_and_tex(tmp_path):
    """A page whose widget and formulas were not drawn shows their JSON and TeX, and the checks say so;
    the same TeX in code is code."""
    broken = ('<p>\\(x^2\\) and $$y$$, \\[z\\]</p><pre>\\(code\\) {"model_id": "4a"}</pre>'
              '<p>application/vnd.jupyter.widget-view+json</p>')
    with pdf.browser() as chromium:
        (tmp_path / "broken.pdf").write_bytes(pdf._print_html(chromium, pdf._document(LANGUAGES[1], broken), pdf.PAPER))
    book = Book(tmp_path / "broken.pdf")
    assert raw_left(book) == {1: WIDGET_JSON + RAW_TEX}
    assert "\\(code\\)" in book.text[0] and "\\(code\\)" not in book.prose[0]


@pytest.mark.parametrize("lang", PRINTED, ids=[lang.code for lang in PRINTED])
def test_every_page_of_the_book_is_in_its_pdf(books, built_site, lang):
    """The contents list the title of every page of the toc, in the edition's language, with the number of
    the sheet where that title stands; each is a bookmark to that sheet; and the pages are all there."""
    book = books[lang.code]
    titles = site_titles(built_site, lang.code)
    listed = contents(book)
    assert [compact(title) for title, _ in listed] == [compact(titles[p]) for p in layout.toc_files()], listed
    starts = [number for _, number in listed] + [len(book.reader.pages) + 1]
    for (title, start), end in zip(listed, starts[1:]):
        assert 1 <= end - start <= MAX_SHEETS_A_PAGE, f"{lang.code}: {title!r} has {end - start} pages"
        assert compact(title) in compact(book.body[start - 1]), \
            f"{lang.code}: {title!r} is not on page {start}, where the contents say it starts"
        wrong_heads = [n for n in range(start, end) if compact(title) not in compact(book.head[n - 1])]
        assert not wrong_heads, f"{lang.code}: pages {wrong_heads} of {title!r} have another running head"
    marks = {compact(item["/Title"]): book.reader.get_destination_page_number(item) + 1
             for item in _flatten(book.reader.outline)}
    assert all(marks.get(compact(title)) == start for title, start in listed), (listed, marks)


def _flatten(outline):
    for item in outline:
        yield from _flatten(item) if isinstance(item, list) else [item]


@pytest.mark.parametrize("lang", PRINTED, ids=[lang.code for lang in PRINTED])
def test_the_pdf_shows_formulas_typeset_and_widgets_drawn(books, lang):
    """No page shows a widget's saved JSON, or TeX that MathJax left as it was."""
    assert not raw_left(books[lang.code]), f"{lang.code}: raw JSON or TeX on pages {raw_left(books[lang.code])}"


@pytest.mark.parametrize("lang", PRINTED, ids=[lang.code for lang in PRINTED])
def test_the_pdf_embeds_its_fonts(books, lang):
    """Every font's glyphs are in the PDF; each Chinese edition is set in the Noto Sans CJK of its script."""
    found = fonts(books[lang.code].reader)
    assert found and all(found.values()), f"{lang.code}: fonts not embedded: {[n for n, e in found.items() if not e]}"
    if lang.code in CJK_FONTS:
        cjk = CJK_FONTS[lang.code]
        assert any(cjk in name for name in found), f"{lang.code}: no {cjk} among {sorted(found)}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_every_page_links_to_its_editions_pdf(lang):
    """The header link of templates/pdf-link.html, from any page of the toc, leads to the edition's PDF in the
    site (where `make pdf` copies it), and says so in the edition's language."""
    for page in layout.toc_files():
        link = pdf_link.link_context(page, lang.code)
        target = (layout.HTML / lang.code / page).parent / link["href"]
        assert target.resolve() == (layout.HTML / pdf_link.SITE_FOLDER / f"{lang.code}.pdf").resolve(), (page, link)
        assert link["label"] == lang.pick(pdf_link.LINK_LABEL) and "|" not in link["label"], link


def test_a_page_links_to_its_pdf_where_the_site_has_it():
    """The header shows the link (templates/pdf-link.html reads ``book_pdf``) only in an edition whose PDF the
    site holds: `make pdf` builds the pages again once the PDFs are there; a `make book` site has none."""
    page = layout.chapters()[0].page
    for held, shown in ((["en", "zh-hant"], True), ([], False)):
        app = SimpleNamespace(config=SimpleNamespace(book_language="en", book_pdf_editions=held))
        context = {}
        sphinx_ext.add_pdf_link(app, page, "page.html", context, None)
        assert context.get("book_pdf") == (pdf_link.link_context(page, "en") if shown else None), (held, context)


@pytest.mark.parametrize("lang", PRINTED, ids=[lang.code for lang in PRINTED])
def test_no_link_of_the_pdf_points_at_the_local_server(books, lang):
    """The pages' links to each other jump inside the PDF; none is left pointing at the server it was printed from."""
    dead = [uri for page in books[lang.code].reader.pages for annotation in page.get("/Annots") or []
            if "127.0.0.1" in (uri := str(annotation.get_object().get("/A", {}).get("/URI", "")))]
    assert not dead, f"{lang.code}: links to the local server: {dead[:5]}"


# How each code cell of a page may break across sheets in print: the box around the code, the code block, the code.
CODE_BREAKS = """
() => [...document.querySelectorAll(".bd-article .cell_input, .bd-article div.highlight, .bd-article pre")]
  .map(el => getComputedStyle(el)).map(style => [style.display, style.breakInside, style.orphans, style.widows])
"""


def test_a_printed_code_cell_goes_on_over_the_page_break(chromium, site_server):
    """Kept whole (break-inside: avoid) in boxes Chromium does not break (flex), a code cell longer than
    what was left of a sheet moved to the next one and left its empty box behind, in every chapter of the
    PDF; now it goes on over the break, and leaves no lone line on either side of it."""
    context = chromium.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{site_server}en/{layout.chapters()[0].page}.html", wait_until="domcontentloaded")
        tab.emulate_media(media="print")
        breaks = tab.evaluate(CODE_BREAKS)
    finally:
        context.close()
    assert breaks and all(rule == ["block", "auto", "3", "3"] for rule in breaks), sorted(set(map(tuple, breaks)))
