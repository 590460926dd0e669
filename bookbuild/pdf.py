"""The whole book as one PDF per edition (``make pdf``, ``python -m bookbuild pdf``).

There is no LaTeX: the built site is served from 127.0.0.1 and printed by the headless Chromium the
browser tests use, so the PDF shows what a reader's browser prints (bookbuild.css, ``@media print``):
formulas typeset by MathJax, the edition's CJK fonts, the figures with the captions the page gives
them, the saved state of each widget drawn (never its JSON), solutions and checks folded away.

Each page of the table of contents is printed on its own, in the order of ``_toc.yml``, and pypdf
joins them behind a title page and a table of contents. The contents' page numbers are known only once
every page is printed, so the front matter is typeset last, again until its own length settles. A
second print of the same browser then lays the running heads (the book's title, the page's title, the
page number, counted from the title page) over every page after the title page; Chromium's own
header and footer cannot do it, as they count the pages of each printed page from 1. Each page is a
bookmark (outline) under its part.

The PDFs are written to ``_build/pdf/<edition>.pdf`` and copied into the site as
``_build/html/pdf/<edition>.pdf``, where every page's link (``templates/pdf-link.html``) finds them.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import shutil
import sys
import threading
from dataclasses import dataclass
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from . import layout
from .pdf_link import SITE_FOLDER
from .languages import LANGUAGES, Language, language

PDF = layout.BUILD / "pdf"

CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium (`make pdf` installs it); Playwright downloads no browser
# Offline and as root: no sandbox, and none of the background requests Chromium makes to Google hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# A4 with room for the running heads. The browser window is as wide as the text column on paper
# (96 px an inch), so the page's scripts (bookbuild-wide-math.js) measure what the paper will hold.
PAPER = {"format": "A4", "margin": {"top": "20mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}}
COLUMN_PX = round((210 - 2 * 16) / 25.4 * 96)
IN_FLIGHT = 2          # pages loading at once while another is printed: both cores busy
READY_TIMEOUT_MS = 60_000
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
# True once the page's scripts have laid it out for the paper (bookbuild-wide-math.js: wide formulas
# typeset smaller), which happens some time after the switch to print media, not at once.
LAID_OUT_FOR_PRINT = "() => document.documentElement.dataset.bookLaidOutFor === 'print'"

# Resolves once the page is what the paper should show: every image loaded (lazy ones too), the fonts,
# MathJax's typesetting, and each saved widget view drawn beside its script.
SETTLE = """
async ([views, timeoutMs]) => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  if (window.MathJax?.startup?.promise) await MathJax.startup.promise;
  const start = performance.now();
  const drawn = () => [...document.querySelectorAll(views)]
    .every(view => view.parentElement.querySelector(".jupyter-widgets"));
  while (!drawn()) {
    if (performance.now() - start > timeoutMs) throw new Error("saved widgets not drawn");
    await new Promise(done => setTimeout(done, 100));
  }
  await document.fonts.ready;
}
"""
# The page's title as its heading shows it, without the heading's permalink sign.
TITLE = """
() => {
  const heading = document.querySelector(".bd-article h1").cloneNode(true);
  heading.querySelectorAll(".headerlink").forEach(link => link.remove());
  return heading.textContent.trim();
}
"""


@dataclass(frozen=True)
class Entry:
    """One page of the table of contents: its page name (``notebooks/ch10_rnn/ch10_rnn``), the
    caption of its part in this edition ('' for the landing page), and its title once printed."""
    page: str
    part: str
    title: str = ""


@dataclass
class Printed:
    entry: Entry
    pdf: bytes

    @functools.cached_property
    def reader(self) -> PdfReader:
        return PdfReader(io.BytesIO(self.pdf))


def entries(lang: Language) -> list[Entry]:
    """The pages of ``_toc.yml`` in order, each with its part's caption in this edition."""
    toc = yaml.safe_load(layout.TOC.read_text(encoding="utf-8"))
    found = [Entry(toc["root"], "")]
    for part in toc.get("parts", []):
        found += [Entry(chapter["file"], lang.pick(part["caption"])) for chapter in part["chapters"]]
    return found


def book_title(lang: Language) -> str:
    return lang.pick(yaml.safe_load(layout.CONFIG.read_text(encoding="utf-8"))["title"])


def build(codes: list[str] | None = None, site: Path = layout.HTML, out: Path = PDF,
          publish: bool = True) -> list[Path]:
    """Print the PDF of each edition named (all by default) from the built ``site`` into ``out``, and
    with ``publish`` copy them into the site, where its pages link to them; return their paths."""
    editions = [language(code) for code in codes] if codes else list(LANGUAGES)
    if not (site / editions[0].code / f"{entries(editions[0])[0].page}.html").is_file():
        raise SystemExit(f"no built site in {site}: run `make book` first")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serving(site) as base, browser() as chromium:
        for lang in editions:
            path = out / f"{lang.code}.pdf"
            path.write_bytes(edition(chromium, base, lang))
            if publish:
                (site / SITE_FOLDER).mkdir(exist_ok=True)
                shutil.copy2(path, site / SITE_FOLDER / path.name)
            written.append(path)
    return written


def edition(chromium, base: str, lang: Language) -> bytes:
    """One edition's book: title page, contents, every page of the toc, running heads, bookmarks."""
    printed = print_pages(chromium, base, lang)
    front, starts = front_matter(chromium, lang, printed)
    book = PdfWriter()
    book.append(front)
    for item in printed:
        book.append(item.reader, import_outline=False)
    link_contents(book, front)
    keep_links_inside_the_book(book, base, lang, printed, starts)
    heads = running_heads(chromium, lang, printed, starts, len(front.pages), len(book.pages))
    for number, (page, head) in enumerate(zip(book.pages, heads.pages), start=1):
        if number > 1:
            page.merge_page(head)
        page.compress_content_streams()  # merged content is stored uncompressed: five times the size
    add_bookmarks(book, printed, starts)
    book.add_metadata({"/Title": book_title(lang)})
    book.root_object[NameObject("/Lang")] = TextStringObject(lang.sphinx.replace("_", "-"))  # for screen readers
    book.page_mode = "/UseOutlines"  # a viewer opens with the bookmarks shown
    # Each printed page carries its own subsets of the fonts, and Chromium draws the CJK ones glyph by glyph
    # (Type 3): the glyphs the pages share are stored once (a Chinese edition: 37 MB -> 25 MB).
    book.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    book.write(out)
    return out.getvalue()


def print_pages(chromium, base: str, lang: Language) -> list[Printed]:
    """Every page of the toc printed on its own, IN_FLIGHT loading while one is printed.

    The pages share one browser context, so the site's scripts and fonts load once; anything not
    addressed to the local server is refused, and so is the search index, which no printed page uses."""
    context = chromium.new_context(viewport={"width": COLUMN_PX, "height": 1000})
    context.route(re.compile(rf"^(?!{re.escape(base)})|/searchindex\.js$"), lambda route: route.abort())
    todo = entries(lang)
    loading = []
    printed = []
    try:
        while todo or loading:
            while todo and len(loading) < IN_FLIGHT:
                entry = todo.pop(0)
                tab = context.new_page()
                tab.goto(f"{base}{lang.code}/{entry.page}.html", wait_until="commit")
                loading.append((entry, tab))
            entry, tab = loading.pop(0)
            printed.append(_print(entry, tab))
            tab.close()
    finally:
        context.close()
    return printed


def _print(entry: Entry, tab) -> Printed:
    tab.wait_for_load_state("load", timeout=READY_TIMEOUT_MS)
    tab.evaluate(SETTLE, [WIDGET_VIEW, READY_TIMEOUT_MS])
    tab.emulate_media(media="print")
    tab.wait_for_function(LAID_OUT_FOR_PRINT, timeout=READY_TIMEOUT_MS)
    title = tab.evaluate(TITLE)
    return Printed(Entry(entry.page, entry.part, title), tab.pdf(**PAPER, print_background=True, outline=False))


def front_matter(chromium, lang: Language, printed: list[Printed]) -> tuple[PdfReader, list[int]]:
    """The title page and the contents, and the first page number of each printed page.

    The numbers depend on the length of the contents, which depends on nothing but the entries:
    typeset with provisional numbers, then again until the length settles (twice in practice)."""
    length = 0
    while True:
        starts, page = [], length + 1
        for item in printed:
            starts.append(page)
            page += len(item.reader.pages)
        front = PdfReader(io.BytesIO(_print_html(chromium, contents_html(lang, printed, starts), PAPER)))
        if len(front.pages) == length:
            return front, starts
        length = len(front.pages)


CONTENTS_STYLE = """
@page { size: A4; }
html { font-family: %(fonts)s; color: #222; }
.title-page { height: 240mm; display: flex; flex-direction: column; justify-content: center;
  text-align: center; break-after: page; }
.title-page h1 { font-size: 30pt; margin: 0 0 1em; line-height: 1.3; }
.title-page p { font-size: 13pt; color: #555; }
h2 { font-size: 20pt; margin: 0 0 1em; }
.part { font-weight: bold; margin: 1.2em 0 .4em; }
ol { list-style: none; margin: 0; padding: 0; }
li a { display: flex; gap: .5em; align-items: baseline; color: inherit; text-decoration: none;
  margin: .25em 0 .25em 1em; }
li a .fill { flex: 1; border-bottom: 1px dotted #999; }
"""
# Fonts of the front matter and the running heads, with the edition's CJK glyphs (as bookbuild.css).
FONTS = {"zh_TW": '"Noto Sans CJK TC", sans-serif', "zh_CN": '"Noto Sans CJK SC", sans-serif',
         "en": '"DejaVu Sans", "Noto Sans CJK TC", sans-serif'}
CONTENTS_WORD = {"zh_TW": "目錄", "zh_CN": "目录", "en": "Contents"}
# A link of the contents to a page of this PDF: Chromium prints it as a link to this address, which
# link_contents() replaces with a jump to the page.
PAGE_LINK = "book-page:"


def contents_html(lang: Language, printed: list[Printed], starts: list[int]) -> str:
    lines, part = [], None
    for item, start in zip(printed, starts):
        if item.entry.part != part:
            part = item.entry.part
            if part:
                lines.append(f'</ol><p class="part">{escape(part)}</p><ol>')
        lines.append(f'<li><a href="{PAGE_LINK}{start}"><span class="entry">{escape(item.entry.title)}</span>'
                     f'<span class="fill"></span><span class="number">{start}</span></a></li>')
    return _document(lang, f"""
<section class="title-page"><h1>{escape(book_title(lang))}</h1><p>{escape(lang.label)}</p></section>
<h2>{CONTENTS_WORD[lang.sphinx]}</h2>
<ol>{"".join(lines)}</ol>""")


def _document(lang: Language, body: str, style: str = CONTENTS_STYLE) -> str:
    return (f'<!DOCTYPE html><html lang="{lang.sphinx.replace("_", "-")}"><head><meta charset="utf-8">'
            f'<style>{style % {"fonts": FONTS[lang.sphinx]}}</style></head><body>{body}</body></html>')


def _print_html(chromium, html: str, paper: dict) -> bytes:
    context = chromium.new_context()
    context.route("**/*", lambda route: route.abort())  # the document is whole: nothing to fetch
    try:
        tab = context.new_page()
        tab.set_content(html)
        tab.evaluate("() => document.fonts.ready.then(() => null)")
        return tab.pdf(**paper)
    finally:
        context.close()


HEADS_STYLE = """
@page { size: A4; margin: 0; }
html, body { margin: 0; font-family: %(fonts)s; font-size: 8pt; color: #666; }
.sheet { position: relative; height: 296.5mm; break-after: page; overflow: hidden; }
.head { position: absolute; top: 9mm; left: 16mm; right: 16mm; display: flex; justify-content: space-between;
  gap: 2em; border-bottom: .3pt solid #bbb; padding-bottom: 1mm; white-space: nowrap; }
.head span { overflow: hidden; text-overflow: ellipsis; }
.number { position: absolute; bottom: 8mm; left: 0; right: 0; text-align: center; font-size: 9pt; }
"""


def running_heads(chromium, lang: Language, printed: list[Printed], starts: list[int], front: int,
                  total: int) -> PdfReader:
    """A transparent sheet for every page of the book: book title and page title above, number below."""
    titles = {1: ""} | {number: CONTENTS_WORD[lang.sphinx] for number in range(2, front + 1)}
    for item, start in zip(printed, starts):
        for number in range(start, start + len(item.reader.pages)):
            titles[number] = item.entry.title
    book = escape(book_title(lang))
    sheets = "".join(
        f'<div class="sheet"><div class="head"><span>{book}</span><span>{escape(titles[n])}</span></div>'
        f'<div class="number">{n}</div></div>' for n in range(1, total + 1))
    heads = PdfReader(io.BytesIO(_print_html(chromium, _document(lang, sheets, HEADS_STYLE),
                                             {"format": "A4", "prefer_css_page_size": True})))
    if len(heads.pages) != total:
        raise RuntimeError(f"{len(heads.pages)} running heads printed for {total} pages")
    return heads


def link_contents(book: PdfWriter, front: PdfReader) -> None:
    """The contents' entries jump to their page (Chromium printed them as links to ``book-page:N``)."""
    for page in book.pages[:len(front.pages)]:
        _retarget_links(book, page, lambda uri: int(uri[len(PAGE_LINK):]) if uri.startswith(PAGE_LINK) else None)


def keep_links_inside_the_book(book: PdfWriter, base: str, lang: Language, printed: list[Printed],
                               starts: list[int]) -> None:
    """A link to another page of the site jumps to that page in the book; one to a page that is not in
    the book (the search page, a downloaded notebook) goes, as the local server's address would be dead."""
    first_page = {f"{base}{lang.code}/{item.entry.page}.html": start for item, start in zip(printed, starts)}

    def target(uri: str) -> int | None:
        if not uri.startswith(base):
            return None
        return first_page.get(uri.split("#")[0], 0)

    for page in book.pages:
        _retarget_links(book, page, target)


def _retarget_links(book: PdfWriter, page, target) -> None:
    """Replace each URI link for which ``target(uri)`` gives a page number by a jump to that page;
    remove those for which it gives 0; leave the others (``None``) as they are."""
    annotations = page.get("/Annots")
    if not annotations:
        return
    kept = ArrayObject()
    for reference in annotations:
        annotation = reference.get_object()
        action = annotation.get("/A")
        uri = action.get_object().get("/URI") if action is not None else None
        number = target(str(uri)) if uri is not None else None
        if number is None:
            kept.append(reference)
        elif number:
            destination = ArrayObject([book.pages[number - 1].indirect_reference, NameObject("/Fit")])
            annotation[NameObject("/A")] = DictionaryObject(
                {NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): destination})
            kept.append(reference)
    page[NameObject("/Annots")] = kept


def add_bookmarks(book: PdfWriter, printed: list[Printed], starts: list[int]) -> None:
    """A bookmark per page of the toc, under a bookmark per part (which opens at its first page)."""
    parts: dict[str, object] = {}
    for item, start in zip(printed, starts):
        parent = None
        if item.entry.part:
            if item.entry.part not in parts:
                parts[item.entry.part] = book.add_outline_item(title=item.entry.part, page_number=start - 1)
            parent = parts[item.entry.part]
        book.add_outline_item(title=item.entry.title, page_number=start - 1, parent=parent)


# --- The site served on 127.0.0.1, and the browser ----------------------------------------------------

class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the browser closed a page while a file was still being sent
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serving(folder: Path):
    """Serve a folder from a thread on 127.0.0.1 (a free port); yields the base URL, ending in /."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name=f"serve {folder}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def browser():
    """Headless Debian Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium (`make setup-test` does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
