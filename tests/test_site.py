"""The built HTML site: every language, no leaks, nothing loaded from outside the site."""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from bookbuild import cells, figure_words, figures, layout, pages, views, widgets
from bookbuild.languages import LANGUAGES, to_simplified
from bookbuild.sphinx_ext import MATHJAX_PATH, WIDGETS_SCRIPT
from bookbuild.views import language_view

from conftest import CONVERTED_SAMPLE, english_labels

PAGES = [*layout.toc_files()]


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def article_elements(path: Path, tag: str):
    """The ``tag`` elements of the page's article, parsed alone: a chapter page is half a megabyte, most
    of it formulas and saved widgets, and parsing all of it took 0.4 CPU s a page (these are 0.01)."""
    from bs4 import BeautifulSoup

    html = path.read_text(encoding="utf-8")
    article = html[html.index("<article"):html.rindex("</article>")]
    pattern = rf"<{tag}\b.*?</{tag}>" if tag != "img" else r"<img\b[^>]*>"
    return BeautifulSoup("".join(re.findall(pattern, article, re.S)), "html.parser").find_all(tag, recursive=False)


class AssetCollector(HTMLParser):
    """Collects the URLs of scripts, stylesheets and images a page loads, and its links."""

    def __init__(self):
        super().__init__()
        self.loaded, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.loaded.append(attrs["src"])
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "") or tag == "link" and attrs.get("rel") in ("icon", "preload"):
            self.loaded.append(attrs.get("href", ""))
        elif tag == "img" and attrs.get("src"):
            self.loaded.append(attrs["src"])
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parse(path: Path) -> AssetCollector:
    collector = AssetCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_every_page_exists_in_every_language(built_site, lang):
    for page in PAGES:
        assert (built_site / lang.code / f"{page}.html").is_file(), f"{lang.code}/{page}.html is missing"
    assert (built_site / "index.html").is_file()


def test_no_page_loads_anything_from_outside_the_site(built_site):
    for path in html_pages(built_site):
        for url in parse(path).loaded:
            assert not urlparse(url).netloc and not url.startswith("//"), f"{path} loads {url}"


def test_no_hidden_test_or_grader_code_is_published(built_site, executed):
    hidden_lines = {line.strip() for nb in executed.values() for c in nb.cells if cells.is_test(c)
                    for line in c.source.split("### BEGIN HIDDEN TESTS")[-1].splitlines()[1:]
                    if len(line.strip()) > 25}
    for path in built_site.rglob("*"):
        if path.suffix not in (".html", ".ipynb", ".txt", ".js") or "_static" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "HIDDEN TESTS" not in text and "autograder.authoring" not in text, path
        for line in hidden_lines:
            assert line not in text, f"{path} contains the hidden test line {line!r}"


MATH_SOURCE = re.compile(r'<(span|div) class="math notranslate nohighlight">(.*?)</\1>', re.S)


def page_contents(html: str) -> dict:
    """What the browser's checks of a page exercise (tests/test_browser.py): its formulas' TeX, the
    saved widgets, figures, solution toggles and sections, and the scripts and stylesheets it loads."""
    return {"formulas": [m.group(2) for m in MATH_SOURCE.finditer(html)],
            "widget views": html.count("application/vnd.jupyter.widget-view+json"),
            "widget models": sorted(re.findall(r'"model_name": "(\w+)"', html)),
            "figures": len(re.findall(r"<img\b", html)),
            "solution toggles": html.count("<details"),
            "sections": re.findall(r'<section id="([^"]+)"', html),
            "scripts and stylesheets": re.findall(r'(?:<script[^>]* src|<link rel="stylesheet"[^>]* href)="([^"?]+)', html)}


def contents_differ(expected: dict, found: dict) -> list[str]:
    """Each part of a page that differs, with its first difference."""
    differences = []
    for part, want in expected.items():
        got = found[part]
        if got == want:
            continue
        if isinstance(want, list):
            at = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
            differences.append(f"{part} ({len(want)} expected, {len(got)} found), first at {at}: "
                               f"expected {want[at:at + 1]}, found {got[at:at + 1]}")
        else:
            differences.append(f"{part}: expected {want}, found {got}")
    return differences


@pytest.mark.parametrize("page", PAGES)
def test_simplified_pages_hold_what_the_traditional_ones_hold(built_site, page):
    """The Simplified Chinese edition is the Traditional one converted (bookbuild/languages.py), so the
    browser checks only a sample of its pages (CONVERTED_SAMPLE in tests/conftest.py). Each of its
    pages holds the Traditional page's formulas, converted, and the same widgets, figures, toggles,
    sections, scripts and stylesheets; every figure it shows is in the site; and one outside the sample
    loads no more bytes of its own than its twin, whose weight the browser checks."""
    hant, hans = ((built_site / code / f"{page}.html").read_text(encoding="utf-8") for code in ("zh-hant", "zh-hans"))
    expected = page_contents(hant)
    expected["formulas"] = [to_simplified(tex) for tex in expected["formulas"]]
    differences = contents_differ(expected, page_contents(hans))
    assert not differences, f"zh-hans/{page} is not zh-hant/{page} converted:\n  " + "\n  ".join(differences)
    folder = (built_site / "zh-hans" / page).parent
    missing = [src for src in IMAGE_SOURCE.findall(hans) if not (folder / src).is_file()]
    assert not missing, f"zh-hans/{page} shows figures the site lacks: {missing}"
    if page not in CONVERTED_SAMPLE:  # weighed in the browser only as its zh-hant twin
        heavier = own_bytes(hans, folder) - own_bytes(hant, (built_site / "zh-hant" / page).parent)
        assert heavier <= 0, (f"zh-hans/{page} loads {heavier:,} bytes of its own more than zh-hant/{page}, which the "
                              "browser weighs in its stead: add it to CONVERTED_SAMPLE (tests/conftest.py)")


IMAGE_SOURCE = re.compile(r'<img\b[^>]* src="([^"]+)"')


def own_bytes(html: str, folder: Path) -> int:
    """What a page (in ``folder``) loads that the other pages do not share: its HTML, figures and
    widget pictures."""
    files = {*IMAGE_SOURCE.findall(html), *re.findall(rf"(?:\.\./)*_static/{widgets.PICTURES}/[\w.-]+", html)}
    return len(html.encode()) + sum((folder / name).stat().st_size for name in files)


def test_page_comparison_notices_a_lost_formula_and_a_missing_widget():
    page = ('<section id="a"><span class="math notranslate nohighlight">\\(x^2\\)</span>'
            '<div class="math notranslate nohighlight">\\[\\text{損失} = 1\\]</div>'
            '<script type="application/vnd.jupyter.widget-view+json">{}</script></section>')
    expected = page_contents(page)
    assert expected["formulas"] == ["\\(x^2\\)", "\\[\\text{損失} = 1\\]"] and expected["widget views"] == 1
    broken = page.replace('<span class="math notranslate nohighlight">\\(x^2\\)</span>', "x^2")
    broken = broken.replace("widget-view+json", "json")
    assert [d.split(" ")[0] for d in contents_differ(expected, page_contents(broken))] == ["formulas", "widget"]


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_mathjax_loads_where_a_page_has_formulas_and_only_there(built_site, lang):
    for path in html_pages(built_site / lang.code):
        text = path.read_text(encoding="utf-8")
        typesets = 'class="math notranslate' in text or WIDGETS_SCRIPT in text  # widget labels may hold TeX
        assert (MATHJAX_PATH in text) == typesets, path.relative_to(built_site)


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_language_switcher_opens_the_same_page(built_site, lang):
    for page in PAGES:
        path = built_site / lang.code / f"{page}.html"
        switch = [href for href in parse(path).links if re.search(r"/(zh-hant|en|zh-hans)/", href)]
        others = {l.code for l in LANGUAGES} - {lang.code}
        targets = {(path.parent / href).resolve() for href in switch}
        assert targets == {(built_site / code / f"{page}.html").resolve() for code in others}


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_pages_declare_their_language_and_sidebar_reads_in_it(built_site, lang):
    text = (built_site / lang.code / "book" / "intro.html").read_text(encoding="utf-8")
    assert f'lang="{lang.sphinx.replace("_", "-")}"' in text
    captions = re.findall(r'caption-text">([^<]*)<', text)
    assert captions and all(" | " not in c for c in captions)
    expected = {"zh-hant": "附錄", "en": "Appendices", "zh-hans": "附录"}[lang.code]
    assert expected in captions


def test_launch_buttons_open_the_student_notebook(built_site, chapter):
    text = (built_site / "en" / f"{chapter.page}.html").read_text(encoding="utf-8")
    assert "colab.research.google.com/github/" in text and f"blob/main/{chapter.page}.ipynb" in text
    assert f"urlpath=lab/tree/{chapter.page}.ipynb" in text


def test_solutions_are_folded_behind_a_toggle(built_site, executed, chapter):
    answers = sum(cells.is_answer(c) for c in executed[chapter.id].cells)
    for lang, label in (("en", "Show solution"), ("zh-hant", "顯示解答"), ("zh-hans", "显示解答")):
        text = (built_site / lang / f"{chapter.page}.html").read_text(encoding="utf-8")
        assert text.count(label) == answers, lang


def test_checks_are_folded_behind_a_toggle_of_their_own(built_site, executed, chapter):
    """The asserts that close a demonstration fold away under "Show check", in the page's language."""
    nb = executed[chapter.id]
    for lang in LANGUAGES:
        folded = [c for c in language_view(nb, lang).cells if c.get("metadata", {}).get("mystnb", {})
                  .get("code_prompt_show") == lang.pick(views.SHOW_CHECK)]
        text = (built_site / lang.code / f"{chapter.page}.html").read_text(encoding="utf-8")
        assert text.count(lang.pick(views.SHOW_CHECK)) == len(folded), lang.code


# --- The theme's words in each Chinese edition's own script ----------------------------------------

SCRIPT_CHECK = {"zh-hant": ("s2t", "简体中文"), "zh-hans": ("t2s", "繁體中文")}  # (OpenCC table, the other edition's name)
LABELS = ("aria-label", "title", "placeholder", "alt")


def theme_words(html: str) -> list[str]:
    """What the theme and sidebar write on a page: its text and labels outside the article."""
    from bs4 import BeautifulSoup

    # Cut before parsing: the article and the saved widgets' script are nearly all of a chapter page.
    soup = BeautifulSoup(re.sub(r"<(article|script|style)\b.*?</\1>", "", html, flags=re.S), "html.parser")
    return [*soup.stripped_strings, *(tag[name] for name in LABELS for tag in soup.find_all(attrs={name: True}))]


def foreign_characters(words: list[str], code: str) -> dict[str, str]:
    """Words holding characters of the other Chinese script (the switcher's own label excepted)."""
    from opencc_purepy import OpenCC

    table, other_edition = SCRIPT_CHECK[code]
    convert = lru_cache(maxsize=None)(OpenCC(table).convert)  # the same few hundred characters on every page
    found = {w: "".join(c for c in w if convert(c) != c) for w in words if w != other_edition}
    return {w: chars for w, chars in found.items() if chars}


@pytest.mark.parametrize("code", SCRIPT_CHECK)
def test_theme_speaks_each_chinese_edition_in_its_own_script(built_site, code):
    for path in html_pages(built_site / code):
        foreign = foreign_characters(theme_words(path.read_text(encoding="utf-8")), code)
        assert not foreign, f"{path.relative_to(built_site)}: {foreign}"


@pytest.mark.parametrize("code", SCRIPT_CHECK)
def test_heading_and_figure_links_are_titled_in_chinese(built_site, code):
    """Sphinx's zh_CN catalog leaves "Link to this heading" untranslated: the Simplified edition's
    headings and figures carried English tooltips, 636 of them (bookbuild/locale has both words now)."""
    english = {path.relative_to(built_site).as_posix() for path in html_pages(built_site / code)
               if 'title="Link to this' in path.read_text(encoding="utf-8")}
    assert not english, f"pages with English link titles: {sorted(english)[:5]}"


def page_english_labels(html: str) -> set[str]:
    """The page's labels (LABELS, the article's too) in English (``english_labels``)."""
    return english_labels(unescape(value) for _, value in re.findall(rf'\b({"|".join(LABELS)})="([^"]*)"', html))


@pytest.mark.parametrize("code", SCRIPT_CHECK)
def test_every_label_speaks_each_chinese_edition(built_site, code):
    """sphinx-book-theme fixes some labels in English in its templates (the sidebars' toggles and the
    names screen readers give them), myst-nb names every folded cell's toggle "Toggle hidden content",
    and the theme's catalog lacks the launch buttons' tooltips and the footer's copyright: a Chinese
    reader who hovered a button, or heard a screen reader name it, met English (728 labels an edition)."""
    for path in html_pages(built_site / code):
        text = path.read_text(encoding="utf-8")
        assert not page_english_labels(text), f"{path.relative_to(built_site)}: {sorted(page_english_labels(text))}"
        assert "Copyright" not in text, f"{path.relative_to(built_site)}: the footer's copyright is in English"


def test_english_labels_are_found():
    page = ('<button title="Toggle primary sidebar"></button><img alt="Colab logo"><a aria-label="English">'
            '<input placeholder="搜尋本書…"><summary aria-label="Toggle hidden content">')
    assert page_english_labels(page) == {"Toggle primary sidebar", "Colab logo", "Toggle hidden content"}


def test_script_check_notices_the_themes_simplified_words():
    page = '<nav aria-label="网页导航"><a>跳转至主要内容</a></nav><article>回到顶部</article><a>简体中文</a>'
    assert foreign_characters(theme_words(page), "zh-hant") == {"跳转至主要内容": "转内", "网页导航": "网页导"}


def test_chinese_search_indexes_the_words_sphinx_would():
    """The book's Chinese search language (kept linear in time) splits and stems a page as Sphinx's
    own does, Latin words that stemming would cut below three letters ("its") included."""
    from sphinx.search.zh import SearchChinese

    from bookbuild.sphinx_ext import ChineseSearch

    pages = ["梯度消失時，its gradients shrink: ReLU 與 LSTM 的遺忘門", "GANs and VAEs; its loss 在下降"]

    def indexed(search_class) -> list[list[tuple[str, str]]]:
        search = search_class({})
        return [[(word, search.stem(word)) for word in search.split(page)] for page in pages]

    ours = indexed(ChineseSearch)
    assert ours == indexed(SearchChinese)
    assert ("its", "its") in ours[1] and ("gradients", "gradient") in ours[0]


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_glossary_names_chapters_by_their_titles(built_site, lang):
    """The glossary's chapter column showed ids such as ch15_vae; it shows each chapter's title."""
    html = (built_site / lang.code / "book" / "glossary.html").read_text(encoding="utf-8")
    shown_ids = sorted(set(re.findall(r">\s*(ch\d\d_[a-z_]+)\s*<", html)))
    assert not shown_ids, f"{lang.code}: the glossary shows chapter ids {shown_ids}"
    text = unescape(html)
    for chapter in layout.chapters():
        if (pages.GLOSSARY / f"{chapter.id}.csv").is_file():
            title = pages.chapter_title(nbformat.read(chapter.source, as_version=4), lang)
            assert title in text, f"{lang.code}: the glossary never names {title!r}"


# --- Figures: a numbered caption and alt text in every edition ----------------------------------------

FIGURE_PREFIX = {"zh-hant": "圖", "en": "Fig.", "zh-hans": "图"}
PLAIN_QUOTES = str.maketrans("‘’“”", "''\"\"")


def prose_of(caption: str) -> list[str]:
    """The words of a caption between its formulas and code (which the page typesets)."""
    return [part.strip() for part in re.split(r"\$[^$]*\$|`[^`]*`", caption) if len(part.strip()) > 1]


@pytest.mark.parametrize("lang", LANGUAGES, ids=[l.code for l in LANGUAGES])
def test_figures_have_numbered_captions_and_alt_text_in_the_pages_language(built_site, executed, chapter, lang):
    """Each figure of the chapter (an image or a widget) is a numbered figure of the page: "圖 10.2" /
    "Fig. 10.2", its caption in the page's language, and an image's alt text describes it (it used to
    be the image's file path)."""
    declared = [c for c in executed[chapter.id].cells if figures.is_figure(c)]
    shown = article_elements(built_site / lang.code / f"{chapter.page}.html", "figure")
    assert [f.get("id") for f in shown] == [figures.name(c) for c in declared]
    number = figures.chapter_number(chapter.page)
    for k, (figure, cell) in enumerate(zip(shown, declared), start=1):
        caption = figure.select_one("figcaption")
        assert caption.select_one(".caption-number").get_text().strip() == f"{FIGURE_PREFIX[lang.code]} {number}.{k}"
        text = caption.select_one(".caption-text").get_text().translate(PLAIN_QUOTES)  # Sphinx's smartquotes
        expected = prose_of(lang.pick(cell.metadata.figure.caption).translate(PLAIN_QUOTES))
        assert all(part in text for part in expected), (cell.id, text)
        for image in figure.select("img"):
            assert image.get("alt") == lang.pick(cell.metadata.figure.alt), (cell.id, image.get("alt"))


@pytest.mark.parametrize("code", ["zh-hant", "zh-hans"])
def test_chinese_editions_show_figures_drawn_in_chinese(built_site, executed, chapter, code):
    """A figure's words (titles, axis labels, legends, diagram boxes) read in Chinese on the Chinese
    editions' pages, where the site built before showed the English drawing."""
    page = built_site / code / f"{chapter.page}.html"
    images = [image["src"] for image in article_elements(page, "img") if image["src"].endswith(".svg")]
    assert len(images) == sum("image/svg+xml" in o.get("data", {}) for c in executed[chapter.id].cells
                              for o in c.get("outputs", []))
    english = [f"{src}: {text!r}" for src in images
               for text in figure_words.drawn_texts((page.parent / src).read_text(encoding="utf-8"))
               if figure_words.untranslated(text)]
    assert not english, "\n".join(english)
