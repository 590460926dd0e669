"""What a reader's browser shows: every page of the book, in every language, in headless Chromium.

The built site is served from 127.0.0.1 and opened in Debian's Chromium (one browser for the module,
a fresh context -- cache, storage, cookies -- for every visit). Each page of the table of contents
is opened once in each written edition, and in the converted one if it is in ``CONVERTED_SAMPLE``,
and checked for what a reader meets there: no console error, nothing requested from outside the test
server, every formula typeset, every image loaded, the language switcher, the "show solution"
toggles, the saved widgets, and the page's weight. The problems of a page are collected and reported
together, each naming the page and the language. A zh-Hant chapter page is then narrowed to a phone's
width in the same tab, where its inline formulas are measured.

Numbers (page weights, load times, time to the first typeset formula) are written to
``_build/browser-metrics.json``, and screenshots of the top of every chapter, at 1366 and 390 px, to
``_build/screenshots/``.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

import pytest

from bookbuild import cells, layout, pages, sphinx_ext, views
from bookbuild.pdf import LAID_OUT_FOR_PRINT
from bookbuild.languages import LANGUAGES

from conftest import CONVERTED_SAMPLE, english_labels

pytestmark = pytest.mark.browser

PAGES = layout.toc_files()
CHAPTERS = {chapter.page: chapter for chapter in layout.chapters()}
VISITS = [(lang, page) for lang in LANGUAGES for page in PAGES if not lang.simplified or page in CONVERTED_SAMPLE]
# The top of every chapter visited on a desktop, for a reader to look through, and of every Traditional
# Chinese chapter on a phone (taken where the formulas are measured at that width: laying a page out
# again at another width cost more than the rest of its checks).
SCREENSHOTS = {(lang.code, page) for lang, page in VISITS if page in CHAPTERS} | {("en", "book/glossary")}
SCREENSHOT_DIR = layout.BUILD / "screenshots"
METRICS = layout.BUILD / "browser-metrics.json"

# Page weight: a chapter page, opened first and uncached, loads at most 3 MB with everything it
# needs. About 1.6 MB of that is shared by every page and cached after the first: the theme (900 kB
# with its icon font), MathJax without its menu (800 kB plus fonts, on pages with formulas only) and
# the widget drawing (bookbuild-widgets.js, 11 kB, on pages with widgets only). What a page adds on its
# own (its HTML with inline outputs, and the figures it loads) stays under 2 MB, and no single figure
# or output is over 1 MB. The saved widgets are drawn within 2 s of the page's first paint (the median
# of three loads of the heaviest page, alone), and within 4 s on every page, checked while the next
# page loads beside it.
MAX_SINGLE = 1_000_000
MAX_OWN = 2_000_000
MAX_TOTAL = 3_000_000
MAX_WIDGETS_AFTER_PAINT_MS = 2_000
MAX_WIDGETS_AFTER_PAINT_MS_BUSY = 4_000

VIEWPORT = {"width": 1366, "height": 800}
MATH_TIMEOUT_MS = 20_000
WIDGET_TIMEOUT_MS = 20_000
WIDGETS_SCRIPT = sphinx_ext.WIDGETS_SCRIPT
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'

# Records when MathJax puts the first and the last typeset formula into the page (ms from navigation).
FORMULA_PROBE = """
window.__firstFormulaMs = window.__lastFormulaMs = null;
new MutationObserver(records => {
  for (const record of records) for (const node of record.addedNodes) {
    if (node.nodeName === "MJX-CONTAINER") {
      window.__lastFormulaMs = performance.now();
      if (window.__firstFormulaMs === null) window.__firstFormulaMs = window.__lastFormulaMs;
    }
  }
}).observe(document, {childList: true, subtree: true});
"""

# Loads every image (lazy ones too) and reports what a reader would see wrong on the page.
INSPECT_PAGE = """
async () => {
  const images = [...document.images];
  await Promise.all(images.map(img => { img.loading = "eager"; return img.decode().catch(() => null); }));
  await document.fonts.ready;
  const skip = "pre, code, script, style, textarea, svg, mjx-container, .highlight";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: node => node.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const text = [];
  while (walker.nextNode()) text.push(walker.currentNode.nodeValue);
  const math = [...document.querySelectorAll(".math")];
  const outputs = [...document.querySelectorAll(".cell_output")];
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    lang: document.documentElement.lang,
    text: text.join(" "),
    math: math.length,
    untypeset: math.filter(el => !el.querySelector("mjx-container")).map(el => el.textContent.slice(0, 80)),
    typeset: document.querySelectorAll("mjx-container").length,
    texErrors: [...document.querySelectorAll("mjx-merror")].map(el => el.getAttribute("data-mjx-error") || el.textContent),
    brokenImages: images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
    images: images.length,
    largestOutput: Math.max(0, ...outputs.map(el => new Blob([el.outerHTML]).size)),
    widgetViews: document.querySelectorAll('%s').length,
    labels: [...document.querySelectorAll("[title], [aria-label], [placeholder], [alt], [data-tooltip]")]
      .flatMap(el => ["title", "aria-label", "placeholder", "alt", "data-tooltip"].map(name => el.getAttribute(name)))
      .concat([...document.querySelectorAll("svg title")].map(title => title.textContent))
      .filter(Boolean),
    html: nav.decodedBodySize,
    loadMs: nav.loadEventEnd,
    firstFormulaMs: window.__firstFormulaMs,
    firstPaintMs: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    widgetsDrawnMs: performance.getEntriesByName("bookbuild-widgets-drawn")[0]?.startTime ?? null,
    lastFormulaMs: window.__lastFormulaMs,
    resources: performance.getEntriesByType("resource").map(r => ({url: r.name, bytes: r.decodedBodySize})),
  };
}
""" % WIDGET_VIEW

# A slider's value, and what the output holding it shows apart from the slider: its visible widgets.
SLIDER_STATE = """
handle => {
  const shown = [...handle.closest(".cell_output").querySelectorAll(".jupyter-widgets")]
    .filter(el => !el.closest(".widget-slider") && !el.querySelector(".jupyter-widgets") && el.getClientRects().length);
  return {value: handle.getAttribute("aria-valuenow"), max: handle.getAttribute("aria-valuemax"),
          shown: shown.map(el => el.innerHTML).join("\\n")};
}
"""

RAW_TEX = [(re.compile(r"\$\$"), "$$"), (re.compile(r"\\\(|\\\)"), r"\( \)"), (re.compile(r"\\\[|\\\]"), r"\[ \]"),
           (re.compile(r"\$[^$\n]{1,200}?\$"), "$...$")]


def html_lang(lang) -> str:
    return lang.sphinx.replace("_", "-")


def url_of(base: str, lang, page: str) -> str:
    return f"{base}{lang.code}/{page}.html"


class Visit:
    """One page opened in a fresh browser context, with what went wrong while it loaded."""

    def __init__(self, browser, base: str, url: str, probe: bool = True):
        self.base, self.url = base, url
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORT)
        # Anything not addressed to the test server is recorded and aborted (it would leave the machine).
        self.context.route(re.compile(rf"^(?!{re.escape(base)})"), self._outside)
        if probe:
            self.context.add_init_script(FORMULA_PROBE)
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        # Returns once the server has answered; the page goes on loading while the caller does other work.
        self.response = self.page.goto(url, wait_until="commit")

    def loaded(self) -> "Visit":
        self.page.wait_for_load_state("load", timeout=30_000)
        return self

    def _outside(self, route):
        self.outside.append(route.request.url)
        route.abort()

    def wait_for_math(self) -> None:
        """Wait for MathJax's typesetting (when the page loads MathJax at all)."""
        self.page.evaluate(
            "ms => window.MathJax?.startup?.promise && Promise.race([MathJax.startup.promise,"
            " new Promise((_, reject) => setTimeout(() => reject(new Error(`not done after ${ms} ms`)), ms))])",
            MATH_TIMEOUT_MS)

    def close(self):
        if self.context is not None:
            self.context.close()
            self.context = None


@pytest.fixture
def visit(chromium, site_server):
    """Opens loaded pages for one test; their contexts are closed when it ends, passed or failed."""
    opened: list[Visit] = []

    def open_page(url: str, probe: bool = True) -> Visit:
        opened.append(Visit(chromium, site_server, url, probe))
        return opened[-1].loaded()

    yield open_page
    for v in opened:
        v.close()


@pytest.fixture(scope="module")
def preloader(chromium, site_server):
    """Starts loading the page the next test checks while this one is checked: two pages in flight."""
    ahead: dict[str, Visit] = {}

    def open_page(url: str, then: str | None) -> Visit:
        v = ahead.pop(url, None) or Visit(chromium, site_server, url)
        if then and then not in ahead:
            try:
                ahead[then] = Visit(chromium, site_server, then)
            except Exception:  # noqa: BLE001  (the next test opens it again and reports what goes wrong)
                pass
        return v

    yield open_page
    for v in ahead.values():
        v.close()


def _next_page_checked(request, base: str) -> str | None:
    """The URL the next scheduled page test opens, if the next test is one."""
    items = request.session.items
    index = items.index(request.node)
    if index + 1 < len(items) and items[index + 1].originalname == request.node.originalname:
        params = items[index + 1].callspec.params
        return url_of(base, params["lang"], params["page"])
    return None


@pytest.fixture(scope="module")
def metrics():
    """Per-page numbers, keyed by (language code, page); written to _build/browser-metrics.json at the end."""
    started = time.perf_counter()
    records: dict = {}
    yield records
    pages_checked = {key: r for key, r in records.items() if isinstance(key, tuple)}
    if not pages_checked:
        return
    summary = {key: r for key, r in records.items() if not isinstance(key, tuple)}
    spans = [(r["started"], r["ended"]) for r in pages_checked.values() if "started" in r]
    if spans:  # pages load while the previous one is checked: the wall time is what they cost together
        wall = max(end for _, end in spans) - min(start for start, _ in spans)
        summary["page_checks"] = {"pages": len(spans), "wall_seconds": round(wall, 1),
                                  "seconds_per_page": round(wall / len(spans), 2),
                                  "slowest_page_seconds": round(max(end - start for start, end in spans), 2)}
    for r in pages_checked.values():
        r.pop("started", None), r.pop("ended", None)
    summary["module_seconds"] = round(time.perf_counter() - started, 1)
    summary["pages"] = {f"{lang}/{page}": r for (lang, page), r in sorted(pages_checked.items())}
    METRICS.parent.mkdir(parents=True, exist_ok=True)
    METRICS.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.mark.parametrize("lang, page", VISITS, ids=[f"{lang.code}-{page}" for lang, page in VISITS])
def test_page_in_the_browser(request, preloader, metrics, phone_measured, site_server, executed, lang, page):
    started = time.perf_counter()
    url = url_of(site_server, lang, page)
    where = f"{lang.code}/{page}.html"
    v = preloader(url, then=_next_page_checked(request, site_server))
    try:
        assert v.response is not None and v.response.ok, \
            f"{where}: the server answered {v.response and v.response.status}"
        v.loaded()
        problems = _check_page(v, site_server, executed, lang, page, metrics)
        if lang.code == PHONE_EDITION and page in CHAPTERS:
            phone_measured[page] = _measure_at_phone_width(v.page, lang, page)
    finally:
        v.close()
    metrics.setdefault((lang.code, page), {}).update(started=started, ended=time.perf_counter())
    assert not problems, f"{where} ({lang.label}):\n  " + "\n  ".join(problems)


def _check_page(v: Visit, base: str, executed, lang, page: str, metrics) -> list[str]:
    problems: list[str] = []
    try:
        v.wait_for_math()
    except Exception as error:  # noqa: BLE001  (reported with the page's other problems)
        problems.append(f"MathJax did not finish typesetting: {str(error).splitlines()[0]}")
    found = v.page.evaluate(INSPECT_PAGE)

    if found["lang"] != html_lang(lang):
        problems.append(f"<html lang> is {found['lang']!r}, expected {html_lang(lang)!r}")

    # Formulas: every math element typeset, no TeX error, no raw TeX left in the text.
    if found["math"] and not found["typeset"]:
        problems.append(f"{found['math']} formulas but no MathJax output on the page")
    for tex in found["untypeset"][:5]:
        problems.append(f"formula not typeset: {tex!r}")
    for error in found["texErrors"][:5]:
        problems.append(f"MathJax error: {error!r}")
    for pattern, name in RAW_TEX:
        for match in list(pattern.finditer(found["text"]))[:3]:
            context = found["text"][max(0, match.start() - 40):match.end() + 40]
            problems.append(f"raw TeX delimiter {name} in the rendered text: ...{context}...")

    # Labels, once the page's scripts have added theirs (the copy buttons' tooltips): a Chinese page's
    # tooltips and screen readers' names speak Chinese.
    if lang.code != "en":
        problems += [f"label in English: {label!r}" for label in sorted(english_labels(found["labels"]))[:5]]

    for src in found["brokenImages"]:
        problems.append(f"image did not load: {src}")

    # Widgets: every saved view is drawn as a control, and a slider changes what is shown.
    expected_views = _widget_views(executed, page)
    if found["widgetViews"] != expected_views:
        problems.append(f"{found['widgetViews']} saved widget views on the page, the chapter has {expected_views}")
    if found["widgetViews"]:
        problems += _check_widgets(v.page)

    if (lang.code, page) in SCREENSHOTS:
        _screenshot(v.page, lang, page)

    # Reference solutions: folded, unfolded by a click, folded again by a second one.
    if page in CHAPTERS:
        problems += _check_solution_toggles(v.page, lang, executed[CHAPTERS[page].id])

    record = metrics[(lang.code, page)] = _weigh(found, v.url, base)
    problems += _weight_problems(record, found)

    problems += _check_switcher(v, base, lang, page)

    # Console errors and requests to anywhere else, over the whole visit.
    problems += v.errors
    problems += [f"request to outside the test server: {u}" for u in v.outside]
    return problems


def _screenshot(tab, lang, page: str) -> None:
    """The top of the page as the tab shows it, in SCREENSHOT_DIR, named by edition, page and width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    tab.evaluate("window.scrollTo(0, 0)")
    width = tab.viewport_size["width"]
    tab.screenshot(path=str(SCREENSHOT_DIR / f"{lang.code}-{page.replace('/', '-')}-{width}.png"))


def _widget_views(executed, page: str) -> int:
    """How many widget views the page's source shows (0 for the book's own pages)."""
    if page not in CHAPTERS:
        return 0
    nb = executed[CHAPTERS[page].id]
    return sum("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for c in nb.cells if c.cell_type == "code" for out in c.get("outputs", []))


def _check_widgets(page) -> list[str]:
    try:
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{WIDGET_VIEW}')]"
            ".every(s => s.parentElement.querySelector('.jupyter-widgets'))", timeout=WIDGET_TIMEOUT_MS)
    except Exception:  # noqa: BLE001
        return [f"saved widgets were not drawn within {WIDGET_TIMEOUT_MS / 1000:.0f} s"]
    problems = []
    failed = page.evaluate("() => [...document.querySelectorAll('.cell_output')]"
                           ".filter(o => o.textContent.includes('Error displaying widget')).length")
    if failed:
        problems.append(f"{failed} widget outputs show 'Error displaying widget'")
    # Only the sliders a reader can reach: one inside a tab or stack page that is not shown (chapter 1
    # has a tab per unit) cannot take a key press until that page is chosen.
    handles = page.locator(".cell_output .widget-slider [role=slider]:visible")
    if page.locator(".cell_output .widget-slider [role=slider]").count() and not handles.count():
        problems.append("the page has sliders, but none of them is visible")
    for i in range(handles.count()):
        handle = handles.nth(i)
        before = handle.evaluate(SLIDER_STATE)
        handle.focus()
        handle.press("ArrowLeft" if before["value"] == before["max"] else "ArrowRight")  # a real key press
        try:  # the figure changes once the widget models have passed the new value on
            page.wait_for_function(f"([h, shown]) => ({SLIDER_STATE})(h).shown !== shown",
                                   arg=[handle.element_handle(), before["shown"]], timeout=5_000)
        except Exception:  # noqa: BLE001  (reported below)
            pass
        after = handle.evaluate(SLIDER_STATE)
        name = f"slider {i + 1}"
        if after["value"] == before["value"]:
            problems.append(f"{name}: the arrow key did not move it (value {before['value']})")
        elif not before["shown"] or after["shown"] == before["shown"]:
            problems.append(f"{name}: moving it from {before['value']} to {after['value']} does not change what is shown")
    return problems


# Clicks every toggle open (a DOM click on its summary), then closed again, and reports what shows.
TOGGLE_ALL = """
label => {
  const toggles = [...document.querySelectorAll("details")]
    .map(details => ({summary: details.querySelector(":scope > summary"), code: [...details.querySelectorAll("pre")]}))
    .filter(t => t.summary?.textContent.includes(label));
  const seen = t => t.code.length === 1 && t.code[0].checkVisibility();
  const states = toggles.map(t => ({blocks: t.code.length, shownBefore: seen(t), labelBefore: t.summary.innerText.trim()}));
  toggles.forEach(t => t.summary.click());
  toggles.forEach((t, i) => Object.assign(states[i], {
    shownAfter: seen(t), text: t.code.length ? t.code[0].innerText : "", labelAfter: t.summary.innerText.trim()}));
  toggles.forEach(t => t.summary.click());
  toggles.forEach((t, i) => { states[i].shownAfterSecond = seen(t); });
  return states;
}
"""


def _check_solution_toggles(page, lang, nb) -> list[str]:
    expected = [cells.without_solution_markers(c.source) for c in nb.cells if cells.is_answer(c)]
    show, hide = lang.pick(views.SHOW_SOLUTION), lang.pick(views.HIDE_SOLUTION)
    # The first toggle with the real mouse: the summary can be clicked where the reader sees it.
    first = page.locator("details").filter(has=page.locator("summary", has_text=show)).first
    if expected:
        try:
            first.locator("summary").click(timeout=5_000)
            first.locator("pre").wait_for(state="visible", timeout=2_000)
            first.locator("summary").click(timeout=5_000)
            first.locator("pre").wait_for(state="hidden", timeout=2_000)
        except Exception as error:  # noqa: BLE001
            return [f"the first '{show}' toggle does not open and close with the mouse: {error}"]
    states = page.evaluate(TOGGLE_ALL, show)
    if len(states) != len(expected):
        return [f"{len(states)} '{show}' toggles, the chapter has {len(expected)} answers"]
    problems = []
    for i, (state, source) in enumerate(zip(states, expected)):
        name = f"'{show}' toggle {i + 1}"
        if state["blocks"] != 1:
            problems.append(f"{name} holds {state['blocks']} code blocks")
        elif state["shownBefore"] or state["labelBefore"] != show:
            problems.append(f"{name}: the solution is not folded at first (label {state['labelBefore']!r})")
        elif not state["shownAfter"] or state["labelAfter"] != hide:
            problems.append(f"{name}: a click does not show the solution (label {state['labelAfter']!r})")
        elif _lines(state["text"]) != _lines(source):
            problems.append(f"{name} shows code other than the reference solution")
        elif state["shownAfterSecond"]:
            problems.append(f"{name}: a second click does not hide the solution again")
    return problems


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


# The switcher's links as the reader's browser resolves them, and whether each is shown.
SWITCHER_LINKS = """
() => [...document.querySelectorAll("nav.book-lang-switcher")].map(nav =>
  [...nav.querySelectorAll("a[hreflang]")].map(a => ({lang: a.hreflang, href: a.href, shown: a.checkVisibility()})))
"""


def _check_switcher(v: Visit, base: str, lang, page: str) -> list[str]:
    """One switcher, with one shown link to each other edition's copy of this page.

    Each page it links to has its own full visit, and following a link with a real click (which also
    carries the reader's section or search along) is tested once, in test_switching_language_*; so
    here the links are read, not followed: opening two tabs per page took a fifth of these checks.
    """
    switchers = v.page.evaluate(SWITCHER_LINKS)
    if len(switchers) != 1:
        return [f"{len(switchers)} language switchers on the page"]
    problems = []
    for other in LANGUAGES:
        if other is lang:
            continue
        links = [link for link in switchers[0] if link["lang"] == html_lang(other)]
        expected = url_of(base, other, page)
        if len(links) != 1 or not links[0]["shown"]:
            problems.append(f"the switcher has {sum(link['shown'] for link in links)} shown links to {other.label}")
        elif links[0]["href"] != expected:
            problems.append(f"the {other.label} link leads to {links[0]['href']}, not {expected}")
    return problems


def _weigh(found: dict, url: str, base: str) -> dict:
    resources = [r for r in found["resources"] if r["url"].startswith(base)]
    shared = [r for r in resources if "/_static/" in r["url"] or r["url"].endswith("/searchindex.js")]
    own = [r for r in resources if r not in shared]
    return {
        "url": url.removeprefix(base),
        "bytes_total": found["html"] + sum(r["bytes"] for r in resources),
        "bytes_html": found["html"],
        "bytes_own": found["html"] + sum(r["bytes"] for r in own),
        "bytes_shared": sum(r["bytes"] for r in shared),
        "requests": 1 + len(resources),
        "largest_output_bytes": found["largestOutput"],
        "largest_assets": sorted(((r["bytes"], r["url"].removeprefix(base)) for r in resources), reverse=True)[:5],
        "own_assets_over_limit": [(r["bytes"], r["url"].removeprefix(base)) for r in own if r["bytes"] > MAX_SINGLE],
        "widgets_script": any(r["url"].split("?")[0].endswith(WIDGETS_SCRIPT) for r in resources),
        "widget_views": found["widgetViews"],
        "widgets_drawn_after_paint_ms": _widgets_after_paint(found),
        "load_ms": round(found["loadMs"]),
        "first_formula_ms": None if found["firstFormulaMs"] is None else round(found["firstFormulaMs"]),
        "last_formula_ms": None if found["lastFormulaMs"] is None else round(found["lastFormulaMs"]),
        "formulas": found["typeset"],
    }


def _weight_problems(record: dict, found: dict) -> list[str]:
    problems = []
    if record["bytes_own"] > MAX_OWN:
        problems.append(f"the page's own HTML and figures weigh {record['bytes_own']:,} bytes (limit {MAX_OWN:,})")
    if record["bytes_total"] > MAX_TOTAL:
        problems.append(f"the page weighs {record['bytes_total']:,} bytes with its assets (limit {MAX_TOTAL:,})")
    if found["largestOutput"] > MAX_SINGLE:
        problems.append(f"a cell output is {found['largestOutput']:,} bytes (limit {MAX_SINGLE:,})")
    for size, path in record["own_assets_over_limit"]:
        problems.append(f"{path} is {size:,} bytes (limit {MAX_SINGLE:,})")
    if record["widgets_script"] and not record["widget_views"]:
        problems.append(f"the page loads {WIDGETS_SCRIPT} but shows no widget")
    if record["widget_views"] and record["widgets_drawn_after_paint_ms"] is None:
        problems.append("the saved widgets were never drawn (no bookbuild-widgets-drawn mark)")
    elif record["widget_views"] and record["widgets_drawn_after_paint_ms"] > MAX_WIDGETS_AFTER_PAINT_MS_BUSY:
        problems.append(f"the widgets were drawn {record['widgets_drawn_after_paint_ms']} ms after the first paint "
                        f"(limit {MAX_WIDGETS_AFTER_PAINT_MS_BUSY} ms)")
    return problems


WIDGETS_AFTER_PAINT = """
() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const drawn = performance.getEntriesByName("bookbuild-widgets-drawn")[0];
  return paint && drawn ? Math.round(drawn.startTime - paint.startTime) : null;
}
"""


def _widgets_after_paint(found: dict) -> int | None:
    """Milliseconds from the first contentful paint to the widgets drawn (negative: drawn before it)."""
    if found["widgetsDrawnMs"] is None or found["firstPaintMs"] is None:
        return None
    return round(found["widgetsDrawnMs"] - found["firstPaintMs"])


def test_largest_chapter_page_weight_and_first_formula(visit, metrics, site_server):
    """The heaviest chapter page as the browser loads it, when its first formula appears and when its
    widgets are drawn.

    The page is opened again, alone, three times (each a fresh context: nothing cached); the median
    time from navigation to the first typeset formula is kept, and the median time from the first
    paint to the widgets drawn is held to MAX_WIDGETS_AFTER_PAINT_MS.
    """
    if not CHAPTERS:
        pytest.skip("the book has no chapter yet")
    weighed = {key: r for key, r in metrics.items()
               if isinstance(key, tuple) and key[1] in CHAPTERS and "bytes_total" in r}
    # The chapter pages with a visit (a Simplified page weighs no more than its Traditional twin, which
    # tests/test_site.py checks); those not weighed above (this test run alone) are weighed here.
    for lang, page in VISITS:
        if page in CHAPTERS and (lang.code, page) not in weighed:
            v = visit(url_of(site_server, lang, page))
            v.wait_for_math()
            weighed[(lang.code, page)] = _weigh(v.page.evaluate(INSPECT_PAGE), v.url, site_server)
            v.close()
    record = max(weighed.values(), key=lambda r: r["bytes_total"])
    url = f"{site_server}{record['url']}"
    first, last, widgets = [], [], []
    for _ in range(3):
        v = visit(url)
        v.wait_for_math()
        first.append(v.page.evaluate("window.__firstFormulaMs"))
        last.append(v.page.evaluate("window.__lastFormulaMs"))
        widgets.append(v.page.evaluate(WIDGETS_AFTER_PAINT))
        v.close()
    assert all(t is not None for t in first), f"{record['url']}: no formula was typeset ({first})"
    metrics["largest_chapter_page"] = {
        "page": record["url"], "bytes_total": record["bytes_total"], "bytes_own": record["bytes_own"],
        "bytes_html": record["bytes_html"], "requests": record["requests"],
        "largest_assets": record["largest_assets"],
        "first_formula_ms_median": round(statistics.median(first)), "first_formula_ms": [round(t) for t in first],
        "last_formula_ms_median": round(statistics.median(last)),
        "widgets_drawn_after_paint_ms": widgets,
        "how": "headless Chromium, site served from 127.0.0.1, fresh context (no HTTP cache); "
               "bytes are decoded body sizes from the Resource Timing API; times from navigation start",
    }
    assert record["bytes_total"] <= MAX_TOTAL, f"{record['url']} weighs {record['bytes_total']:,} bytes"
    assert None not in widgets, f"{record['url']}: the widgets were not drawn ({widgets})"
    assert statistics.median(widgets) <= MAX_WIDGETS_AFTER_PAINT_MS, \
        f"{record['url']}: widgets drawn {widgets} ms after the first paint (limit {MAX_WIDGETS_AFTER_PAINT_MS} ms)"


def _glossary_term(en: str) -> dict:
    rows = [row for row in pages.glossary_rows() if row["en"] == en]
    assert rows, f"the glossary has no term {en!r}"
    return rows[0]


SEARCH_TERM = "forget gate"  # searched in each language's own form (from the glossary)
SEARCH_FORM = {"zh-hant": "zh_hant", "en": "en", "zh-hans": "zh_hans"}


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_search_finds_the_chapter(visit, site_server, lang):
    term = _glossary_term(SEARCH_TERM)
    query, chapter = term[SEARCH_FORM[lang.code]], CHAPTERS[layout.chapter(term["chapter"]).page]
    v = visit(f"{site_server}{lang.code}/search.html?q={query}", probe=False)
    where = f"{lang.code}/search.html?q={query}"
    # searchtools.js writes the summary line once the search has finished.
    v.page.wait_for_function("() => document.querySelector('#search-results .search-summary')?.innerText",
                             timeout=20_000)
    found = v.page.eval_on_selector_all("#search-results ul.search li > a", "links => links.map(a => a.href)")
    pages_found = [href.split("?")[0].split("#")[0] for href in found]
    assert url_of(site_server, lang, chapter.page) in pages_found, f"{where} lists {pages_found}"
    assert not v.errors and not v.outside, f"{where}: {v.errors + v.outside}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_glossary_shows_every_term_in_three_forms(visit, site_server, lang):
    from opencc_purepy import OpenCC

    v = visit(url_of(site_server, lang, "book/glossary"), probe=False)
    where = f"{lang.code}/book/glossary.html"
    header = v.page.eval_on_selector_all("table thead th", "cells => cells.map(c => c.innerText.trim())")
    shown = v.page.eval_on_selector_all(
        "table tbody tr", "rows => rows.map(tr => [...tr.cells].slice(0, 3).map(td => td.innerText.trim()))")
    expected = [[row["en"], row["zh_hant"], row["zh_hans"]] for row in pages.glossary_rows()]
    assert header[:3] == [lang.pick("英文 | English"), lang.pick("繁體中文 | Traditional Chinese"),
                          lang.pick("簡體中文 | Simplified Chinese")], f"{where}: header {header}"
    assert shown == expected, f"{where}: the table differs from book/glossary/*.csv"
    simplify = OpenCC("t2s")
    for en, traditional, simplified in shown:
        assert en and traditional and simplified, f"{where}: {en!r} lacks a form"
        assert simplify.convert(simplified) == simplified, f"{where}: {simplified!r} ({en}) is not Simplified Chinese"
    assert any(t != s for _, t, s in shown), f"{where}: no Simplified form differs from the Traditional one"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_front_door_opens_the_readers_language(chromium, site_server, lang):
    context = chromium.new_context(locale=html_lang(lang))
    try:
        context.route(re.compile(rf"^(?!{re.escape(site_server)})"), lambda route: route.abort())
        page = context.new_page()
        page.goto(f"{site_server}index.html", wait_until="commit")
        page.wait_for_url(url_of(site_server, lang, PAGES[0]), wait_until="commit", timeout=10_000)
    finally:
        context.close()


# The checks above only mean something if they can fail: break a copy of a chapter page and see them object.

def _mirror(source: Path, target: Path, replaced: Path) -> None:
    """Links to everything under ``source`` except the file ``replaced`` (and the folders above it)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry == replaced or replaced.is_relative_to(entry):
            if entry.is_dir():
                _mirror(entry, target / entry.name, replaced)
        else:
            (target / entry.name).symlink_to(entry)


def _sabotage(html: str, lang, page: str) -> str:
    html = html.replace("</h1>", '</h1><p>Raw $x^2$ left for the reader.</p><p class="mathjax_ignore">And \\(y\\), $$z$$.</p>'
                        '<p><img src="missing-figure.png" alt=""><img src="heavy-figure.png" alt=""></p>'
                        '<p><span class="math notranslate nohighlight">\\(\\frac{1}\\)</span></p>'
                        '<button title="Toggle everything"></button>', 1)
    html = html.replace("</body>", '<script src="https://cdn.example.invalid/lib.js"></script>'
                        '<script>throw new Error("sabotage")</script></body>', 1)
    first_solution = html.index(f'<p class="collapsed admonition-title">{lang.pick(views.SHOW_SOLUTION)}</p>')
    html = html[:first_solution] + html[first_solution:].replace("<span></span>", "<span></span>x = 1\n", 1)
    state = re.search(r'(<script type="application/vnd.jupyter.widget-state\+json">)(.*?)(</script>)', html, re.S)
    if state:  # unlink the slider from the figures it switches
        saved = json.loads(state.group(2))
        saved["state"] = {k: m for k, m in saved["state"].items() if m["model_name"] != "LinkModel"}
        html = html[:state.start(2)] + json.dumps(saved) + html[state.end(2):]
    other = next(o for o in LANGUAGES if o is not lang)
    return html.replace(f'{other.code}/{page}.html"', f'{other.code}/{PAGES[0]}.html"', 1)


def test_page_checks_notice_a_broken_page(chromium, serve_folder, built_site, executed, tmp_path):
    from PIL import Image
    import numpy as np

    lang, page = LANGUAGES[0], layout.chapters()[0].page  # a Chinese page: its labels are checked too
    original = built_site / lang.code / f"{page}.html"
    root = tmp_path / "site"
    _mirror(built_site, root, original)
    broken = root / lang.code / f"{page}.html"
    broken.write_text(_sabotage(original.read_text(encoding="utf-8"), lang, page), encoding="utf-8")
    # About 2.1 MB (noise does not compress): over the limit for one figure, and for the page's own weight
    # even with the page's HTML as light as it is.
    noise = np.random.default_rng(0).integers(0, 256, size=(840, 840, 3), dtype=np.uint8)
    Image.fromarray(noise).save(broken.parent / "heavy-figure.png")
    base = serve_folder(root)

    v = Visit(chromium, base, url_of(base, lang, page))
    try:
        v.loaded()
        problems = "\n".join(_check_page(v, base, executed, lang, page, {}))
    finally:
        v.close()
    expected = ["raw TeX delimiter $...$", r"raw TeX delimiter \( \)", "image did not load", "MathJax error",
                "heavy-figure.png is", "request to outside the test server: https://cdn.example.invalid/lib.js",
                "uncaught: sabotage", "raw TeX delimiter $$", "own HTML and figures weigh", "shows code other than the reference solution",
                f"the {next(o for o in LANGUAGES if o is not lang).label} link leads to",
                "label in English: 'Toggle everything'"]
    if _widget_views(executed, page):
        expected.append("does not change what is shown")
    missed = [e for e in expected if e not in problems]
    assert not missed, f"the checks missed {missed}; they reported:\n{problems}"


# --- Phones -------------------------------------------------------------------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def _open(chromium, site_server, lang, page: str, wait_until: str = "load", **device):
    context = chromium.new_context(**device)
    context.route(re.compile(rf"^(?!{re.escape(site_server)})"), lambda route: route.abort())
    tab = context.new_page()
    tab.goto(url_of(site_server, lang, page), wait_until=wait_until)
    return context, tab


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_phone_menus_open_when_tapped(chromium, site_server, lang):
    """At 390 px the hamburger opens the table of contents and the page-contents button the
    section list (both did nothing with pydata-sphinx-theme 0.17 and sphinx-book-theme 1.3), and the
    magnifier the search field, whose icon stands beside it (it covered the field's first letters)."""
    context, tab = _open(chromium, site_server, lang, layout.chapters()[0].page, **PHONE)
    try:
        for kind in ("primary", "secondary"):
            tab.locator(f".{kind}-toggle:visible").first.tap()
            dialog = tab.locator(f"#pst-{kind}-sidebar-modal")
            dialog.wait_for(state="visible", timeout=5_000)
            assert dialog.evaluate("d => d.open && d.querySelectorAll('a').length > 0"), f"{lang.code}: {kind} menu is empty"
            tab.keyboard.press("Escape")
            dialog.wait_for(state="hidden", timeout=5_000)
        tab.locator(".search-button__button:visible").first.tap()
        field = tab.locator("#pst-search-dialog input")
        field.wait_for(state="visible", timeout=5_000)
        icon_right, field_left = field.evaluate("field => [field.parentElement.querySelector('.fa-magnifying-glass')"
                                                ".getBoundingClientRect().right, field.getBoundingClientRect().left]")
        assert icon_right <= field_left, f"{lang.code}: the search icon covers the field ({icon_right} > {field_left} px)"
    finally:
        context.close()


def test_desktop_hamburger_collapses_the_sidebar(chromium, site_server):
    context, tab = _open(chromium, site_server, LANGUAGES[0], layout.chapters()[0].page,
                         viewport={"width": 1366, "height": 900})
    try:
        sidebar = tab.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        tab.locator(".primary-toggle:visible").first.click()
        # The theme slides the sidebar off the screen and hides it (visibility: hidden, still laid out).
        tab.wait_for_function("() => !document.querySelector('#pst-primary-sidebar')"
                              ".checkVisibility({visibilityProperty: true})", timeout=5_000)
        assert not tab.locator("#pst-primary-sidebar-modal").evaluate("d => d.open")
    finally:
        context.close()


# What a page shows of its header, formulas, tables and code at one width (ms of work per page, in the page).
MEASURE_READING = """
() => {
  const width = document.documentElement.clientWidth;
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const header = document.querySelector(".bd-header-article");
  const items = [...header.querySelectorAll("a, button, .book-lang")].filter(shown).map(el => {
    const r = el.getBoundingClientRect();
    return {name: (el.textContent.trim() || el.getAttribute("aria-label") || el.className).slice(0, 30),
            top: r.top, bottom: r.bottom, left: r.left, right: r.right};
  });
  const title = document.querySelector(".bd-article h1");
  return {width, items, header: header.getBoundingClientRect().toJSON(),
          titleTop: title ? title.getBoundingClientRect().top + scrollY : null,
          font: getComputedStyle(document.body).fontFamily};
}
"""


@pytest.fixture(scope="module")
def reading(chromium, site_server):
    """``reading(lang, page, device)``: what MEASURE_READING finds on the page, typeset, once per module."""
    found = {}

    def measure(lang, page: str, device: str) -> dict:
        key = (lang.code, page, device)
        if key not in found:
            context, tab = _open(chromium, site_server, lang, page, **(PHONE if device == "phone" else DESKTOP))
            try:
                tab.evaluate("() => window.MathJax?.startup?.promise")
                tab.evaluate("() => document.fonts.ready.then(() => null)")
                found[key] = tab.evaluate(MEASURE_READING)
                if device == "phone" and page == layout.chapters()[0].page:
                    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                    tab.screenshot(path=SCREENSHOT_DIR / f"phone-{lang.code}-top.png")
            finally:
                context.close()
        return found[key]
    return measure


DESKTOP = {"viewport": {"width": 1366, "height": 900}}
CHAPTER_PAGES = [chapter.page for chapter in layout.chapters()]


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_phone_header_is_one_row_on_the_screen(reading, lang):
    """At 390 px the switcher and every header button sit on one row inside the screen, above the title
    (they wrapped onto two rows: the switcher's top off the screen, the icons over the chapter title)."""
    found = reading(lang, CHAPTER_PAGES[0], "phone")
    items, header = found["items"], found["header"]
    outside = [i["name"] for i in items if i["left"] < 0 or i["right"] > found["width"] or i["top"] < 0]
    assert not outside, f"{lang.code}: off the screen: {outside}"
    rows = max(i["top"] for i in items) - min(i["top"] for i in items)
    assert rows < 20, f"{lang.code}: the header holds {rows:.0f} px of rows: {items}"
    assert all(i["bottom"] <= header["bottom"] + 1 for i in items), f"{lang.code}: buttons spill below the header"
    assert found["titleTop"] is None or found["titleTop"] >= header["bottom"], f"{lang.code}: the header covers the title"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_chinese_editions_name_their_cjk_fonts(reading, lang):
    font = reading(lang, CHAPTER_PAGES[0], "desktop")["font"]
    expected = {"zh-hant": "Noto Sans CJK TC", "zh-hans": "Noto Sans CJK SC"}.get(lang.code)
    if expected:
        assert font.startswith(f'"{expected}"'), f"{lang.code}: {font}"
    else:
        assert "CJK" not in font.split(",")[0], font


# Inline formulas on a phone: closing punctuation that starts a line after a formula, and formulas
# whose end is past the screen's right edge with nothing to scroll.
MEASURE_FORMULAS = """
() => {
  const width = document.documentElement.clientWidth;
  const closing = "，、。；：！？」』）】〉》…";
  const article = document.querySelector(".bd-article") || document.body;  // not the folded sidebars
  const breaks = [];
  for (const math of article.querySelectorAll("span.math")) {
    const walker = document.createTreeWalker(math.closest("p, li, td, dd") || document.body, NodeFilter.SHOW_TEXT);
    let node = null;
    while (walker.nextNode()) {
      const n = walker.currentNode;
      if (!math.contains(n) && (math.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING)) { node = n; break; }
    }
    if (!node || !closing.includes(node.nodeValue[0])) continue;
    const range = document.createRange();
    range.setStart(node, 0); range.setEnd(node, 1);
    const mark = range.getClientRects()[0], parts = math.getClientRects();
    if (mark && parts.length && mark.left < parts[parts.length - 1].right - 2)
      breaks.push(math.textContent.slice(0, 40) + " | " + node.nodeValue.slice(0, 10));
  }
  const scrolls = el => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const x = getComputedStyle(up).overflowX;
      if ((x === "auto" || x === "scroll") && up.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  const cut = [...article.querySelectorAll("mjx-container")]
    .filter(f => f.getBoundingClientRect().right > width + 1 && !scrolls(f))
    .map(f => (f.closest(".math") || f).textContent.slice(0, 60));
  return {breaks, cut};
}
"""
# Turns the two repairs off again, to show that the measurement sees what they repair.
WITHOUT_REPAIRS = """
.book-math-nowrap { white-space: normal !important; }
mjx-container.book-wide-math { display: inline !important; overflow: visible !important; max-width: none !important; }
"""


# The edition whose chapter pages are also measured at a phone's width: CJK punctuation after a formula.
PHONE_EDITION = "zh-hant"
PHONE_WIDTH = PHONE["viewport"]["width"]


def _measure_at_phone_width(tab, lang, page: str) -> tuple[dict, dict]:
    """MEASURE_FORMULAS on a loaded, typeset page narrowed to a phone's width, as served and with
    WITHOUT_REPAIRS; and the page's screenshot at that width. The tab is resized, not reloaded: the
    site's CSS asks only for widths (no hover or pointer queries) and typeset formulas do not depend on
    the width, so a desktop tab at 390 px lays the page out as a phone does, without typesetting it
    again (a load at phone width cost about 5 CPU seconds a page). The repairs stay off afterwards: this
    is the last thing done to a tab."""
    tab.set_viewport_size(PHONE["viewport"])
    tab.wait_for_function(f"() => document.documentElement.dataset.bookWideMathAt === '{PHONE_WIDTH}'",
                          timeout=MATH_TIMEOUT_MS)  # bookbuild-wide-math.js marks the wide formulas again
    served = tab.evaluate(MEASURE_FORMULAS)
    _screenshot(tab, lang, page)
    tab.add_style_tag(content=WITHOUT_REPAIRS)
    return served, tab.evaluate(MEASURE_FORMULAS)


@pytest.fixture(scope="module")
def phone_measured():
    """What each page check of a PHONE_EDITION chapter page measured at phone width, by page."""
    return {}


@pytest.fixture(scope="module")
def phone_formulas(phone_measured, chromium, site_server):
    """Every chapter page of PHONE_EDITION at phone width: (served, without repairs) by page, as its
    page check measured it, or measured here if that check did not run in this session."""
    lang = next(lang for lang in LANGUAGES if lang.code == PHONE_EDITION)
    for page in CHAPTER_PAGES:
        if page not in phone_measured:
            v = Visit(chromium, site_server, url_of(site_server, lang, page), probe=False)
            try:
                v.loaded().wait_for_math()
                phone_measured[page] = _measure_at_phone_width(v.page, lang, page)
            finally:
                v.close()
    return phone_measured


def test_no_phone_line_starts_with_closing_punctuation_after_a_formula(phone_formulas):
    """A line began with ，、。；」 right after an inline formula 11 to 19 times per chapter at 390 px."""
    broken = {page: served["breaks"] for page, (served, _) in phone_formulas.items() if served["breaks"]}
    assert not broken, broken
    assert sum(len(bare["breaks"]) for _, bare in phone_formulas.values()), \
        "without the repair no break is seen: the measurement no longer sees what it checks"


def test_no_formula_runs_off_a_phone_screen(phone_formulas):
    """Long inline formulas ran past the right edge of a 390 px screen, where the page cannot scroll
    (25 in zh-Hant chapter 15); now each scrolls in its own box."""
    cut = {page: served["cut"] for page, (served, _) in phone_formulas.items() if served["cut"]}
    assert not cut, cut
    assert sum(len(bare["cut"]) for _, bare in phone_formulas.values()), \
        "without the repair no formula is cut off: the measurement no longer sees what it checks"


# --- Tables and small things (issue 16) ---------------------------------------------------------------

BOOK_PAGES = [PAGES[0], *layout.pages()]  # the landing page and the appendices: the book's tables
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}

# The text of an element line by line: its characters grouped by the top of the line they are set on.
TEXT_LINES = """
element => {
  const lines = new Map(), range = document.createRange();
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode;
    for (let i = 0; i < text.length; i++) {
      range.setStart(text, i); range.setEnd(text, i + 1);
      const rect = range.getClientRects()[0], top = rect && Math.round(rect.top);
      if (rect && text.nodeValue[i].trim()) lines.set(top, (lines.get(top) || "") + text.nodeValue[i]);
    }
  }
  return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(entry => entry[1]);
}
"""

# Tables of the article: cells past the visible edge with no box to scroll them into view, scroll boxes
# that do not show they hide columns, and headers broken elsewhere than at a space (筆記 stood one
# character a line). Each box that hides columns is then scrolled to its end, where every cell must show.
MEASURE_TABLES = """
async () => {
  const width = document.documentElement.clientWidth;
  const article = document.querySelector(".bd-article");
  const scrollBox = el => {
    for (let up = el.parentElement; up && up !== article; up = up.parentElement) {
      const x = getComputedStyle(up).overflowX;
      if ((x === "auto" || x === "scroll") && up.scrollWidth > up.clientWidth) return up;
    }
    return null;
  };
  const past = (cell, box) => cell.getBoundingClientRect().right >
    Math.min(width, box ? box.getBoundingClientRect().right : width) + 1;
  const name = table => (table.querySelector("th, td")?.innerText || "").trim().slice(0, 20);
  const tables = [...article.querySelectorAll("table")];
  const cut = [], unhinted = [], unreachable = [];
  for (const table of tables) {
    const box = scrollBox(table);
    const hidden = [...table.querySelectorAll("th, td")].filter(cell => past(cell, box));
    if (!hidden.length) continue;
    if (!box || box.getBoundingClientRect().right > width + 1) { cut.push(name(table)); continue; }
    const style = getComputedStyle(box);
    if ((style.maskImage || style.webkitMaskImage || "none") === "none") unhinted.push(name(table));
    box.scrollLeft = box.scrollWidth;
    await new Promise(requestAnimationFrame);
    if (hidden.some(cell => past(cell, box))) unreachable.push(name(table));
    box.scrollLeft = 0;
  }
  const brokenHeaders = [...article.querySelectorAll("th")]
    .filter(th => !/\\s/.test(th.innerText.trim()) && (%s)(th).length > 1).map(th => th.innerText.trim());
  return {tables: tables.length, cut, unhinted, unreachable, brokenHeaders};
}
""" % TEXT_LINES


def _settled(tab) -> None:
    """Formulas typeset, fonts loaded and the layout's observers run (two frames after both)."""
    tab.evaluate("() => window.MathJax?.startup?.promise")
    tab.evaluate("() => document.fonts.ready.then(() => null)")
    tab.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


@pytest.fixture(scope="module")
def book_tables(chromium, site_server):
    """MEASURE_TABLES on every book page, by (edition, width, page): one browser context per edition and width."""
    found = {}
    for lang in LANGUAGES:
        for device, settings in WIDTHS.items():
            context = chromium.new_context(**settings)
            context.route(re.compile(rf"^(?!{re.escape(site_server)})"), lambda route: route.abort())
            tab = context.new_page()
            try:
                for page in BOOK_PAGES:
                    tab.goto(url_of(site_server, lang, page), wait_until="load")
                    _settled(tab)
                    found[lang.code, device, page] = tab.evaluate(MEASURE_TABLES)
            finally:
                context.close()
    return found


@pytest.mark.parametrize("device", WIDTHS)
def test_wide_tables_scroll_in_their_own_box_and_say_so(book_tables, device):
    """The errata table was cut off at the right at 1366 px and showed three of five columns at 390 px: its box
    scrolled, but nothing said so. Every cell is on the screen or in a box that shows it scrolls and reaches it."""
    problems = {key: {k: v for k, v in found.items() if k in ("cut", "unhinted", "unreachable") and v}
                for key, found in book_tables.items() if key[1] == device}
    problems = {key: found for key, found in problems.items() if found}
    assert not problems, problems
    assert any(book_tables[lang.code, device, "book/errata"]["tables"] for lang in LANGUAGES), "no errata table"


@pytest.mark.parametrize("device", WIDTHS)
def test_table_headers_break_only_at_spaces(book_tables, device):
    broken = {key: found["brokenHeaders"] for key, found in book_tables.items()
              if key[1] == device and found["brokenHeaders"]}
    assert not broken, broken


# The landing page at 1366 px: its <title>, the sidebar's book title by line, and the search fields a reader sees.
FRONT_PAGE = """
() => ({
  title: document.title,
  sidebarTitle: (%s)(document.querySelector(".navbar-brand .logo__title")),
  searchFields: [...document.querySelectorAll(".search-button-field, .search-button")]
    .filter(el => el.checkVisibility({visibilityProperty: true})).length,
})
""" % TEXT_LINES


@pytest.fixture(scope="module")
def front_page(chromium, site_server):
    """FRONT_PAGE of each edition's landing page at 1366 px, by edition code."""
    found = {}
    for lang in LANGUAGES:
        context, tab = _open(chromium, site_server, lang, PAGES[0], **DESKTOP)
        try:
            _settled(tab)
            found[lang.code] = tab.evaluate(FRONT_PAGE)
        finally:
            context.close()
    return found


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_landing_page_title_names_the_book_once(front_page, lang):
    """It read "深度學習：推導、程式與練習 — 深度學習：推導、程式與練習"."""
    title = front_page[lang.code]["title"]
    parts = re.split(r" [—-] ", title)
    assert len(parts) == len(set(parts)), f"{lang.code}: {title!r}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_sidebar_title_leaves_no_character_alone_on_a_line(front_page, lang):
    """習 stood alone on the second line of 深度學習：推導、程式與練習."""
    lines = front_page[lang.code]["sidebarTitle"]
    assert lines and all(len(line) > 1 for line in lines), f"{lang.code}: {lines}"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_one_search_box_on_a_desktop(front_page, lang):
    """pydata-sphinx-theme 0.17 added a search field in a top bar above the sidebar's own."""
    assert front_page[lang.code]["searchFields"] == 1, front_page[lang.code]


def _widgets_drawn(tab) -> None:
    """Wait until the page has saved widget views and the manager has drawn every one of them."""
    tab.wait_for_function(f"() => (views => views.length && views.every(s => s.parentElement.querySelector("
                          f"'.jupyter-widgets')))([...document.querySelectorAll('{WIDGET_VIEW}')])",
                          timeout=WIDGET_TIMEOUT_MS)


def test_widget_labels_show_in_full(visit, site_server):
    """Chapter 11's slider label "temperature" was cut to "temperat…" at the widget manager's 80 px."""
    english = next(lang for lang in LANGUAGES if lang.code == "en")
    v = visit(url_of(site_server, english, layout.chapter("ch11_attention").page), probe=False)
    _widgets_drawn(v.page)
    labels = v.page.evaluate("() => [...document.querySelectorAll('.cell_output .widget-label')]"
                             ".filter(l => l.checkVisibility() && l.textContent.trim())"
                             ".map(l => ({text: l.textContent.trim(), cut: l.scrollWidth > l.clientWidth + 1}))")
    assert "temperature" in [label["text"] for label in labels], labels
    cut = [label["text"] for label in labels if label["cut"]]
    assert not cut, f"labels cut off: {cut}"


def _config() -> dict:
    import yaml

    return yaml.safe_load(layout.CONFIG.read_text(encoding="utf-8"))


def _colab_url(page: str) -> str:
    config = _config()
    repository, branch = config["repository"]["url"].removeprefix("https://github.com/"), config["repository"]["branch"]
    return f"{config['launch_buttons']['colab_url']}/github/{repository}/blob/{branch}/{page}.ipynb"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_colab_button_shows_on_every_chapter_page(chromium, site_server, built_site, lang):
    """The Colab link was hidden in the rocket's menu: it is a button of the header, on a desktop and on a
    phone, and it opens the chapter's student notebook (every chapter page of the edition carries it)."""
    page = CHAPTER_PAGES[0]
    for device in WIDTHS.values():
        context, tab = _open(chromium, site_server, lang, page, **device)
        try:
            button = tab.locator(".bd-header-article a.btn-colab-button")
            assert button.count() == 1 and button.is_visible(), f"{lang.code}: no visible Colab button"
            assert button.get_attribute("href") == _colab_url(page)
        finally:
            context.close()
    for page in CHAPTER_PAGES:
        html = (built_site / lang.code / f"{page}.html").read_text(encoding="utf-8")
        assert f'href="{_colab_url(page)}"' in html and "btn-colab-button" in html, \
            f"{lang.code}/{page}: no Colab button"


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_notebook_download_is_the_student_notebook(chromium, site_server, built_site, lang):
    """The page's ".ipynb" download was the reference notebook the page is built from, solutions included."""
    chapter = layout.chapters()[0]
    context, tab = _open(chromium, site_server, lang, chapter.page, **DESKTOP)
    try:
        link = tab.locator(".bd-header-article a.btn-download-source-button")
        assert link.get_attribute("href").endswith(".ipynb"), link.get_attribute("href")
        downloaded = tab.request.get(link.evaluate("a => a.href"))
        assert downloaded.ok and downloaded.body() == chapter.student.read_bytes(), \
            f"{lang.code}: the download is not the student notebook"
    finally:
        context.close()
    served = {c.id: (built_site / lang.code / "_sources" / f"{c.page}.ipynb").read_bytes() for c in layout.chapters()}
    wrong = [cid for cid, data in served.items() if data != layout.chapter(cid).student.read_bytes()]
    assert not wrong, f"{lang.code}: these chapters offer another notebook than the student's: {wrong}"


SECTIONS = "() => [...document.querySelectorAll('.bd-article section[id]')].map(s => s.id)"
# The section the reader is in: the last one whose heading is above the top of the window (and its header).
READING_INDEX = """
() => {
  const top = (parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0) + 8;
  return [...document.querySelectorAll(".bd-article section[id]")]
    .findLastIndex(section => section.getBoundingClientRect().top <= top);
}
"""


def test_switching_language_keeps_the_section(chromium, site_server):
    """Switching language always landed at the top of the page. The switcher now lands on the section of
    the same index in the other edition (the editions also share their section anchors since the search
    work, but the reader who scrolled has no anchor in the address)."""
    traditional, english = (next(lang for lang in LANGUAGES if lang.code == code) for code in ("zh-hant", "en"))
    page = layout.chapter("ch10_rnn").page
    context, tab = _open(chromium, site_server, traditional, page, **DESKTOP)
    try:
        _settled(tab)
        _widgets_drawn(tab)  # drawn widgets push the sections below them down
        index = len(tab.evaluate(SECTIONS)) // 2
        tab.evaluate(f"() => document.querySelectorAll('.bd-article section[id]')[{index}].scrollIntoView()")
        assert tab.evaluate(READING_INDEX) == index
        # The mouse at the link's place: a locator's click would first scroll the sticky header's link "into view".
        link = tab.locator(f'.book-lang-switcher a[hreflang="{html_lang(english)}"]').bounding_box()
        tab.mouse.click(link["x"] + link["width"] / 2, link["y"] + link["height"] / 2)
        tab.wait_for_url(re.compile(re.escape(url_of(site_server, english, page)) + "#"), timeout=20_000)
        expected = tab.evaluate(SECTIONS)[index]
        assert tab.url.endswith(f"#{expected}"), tab.url
        tab.wait_for_function(f"() => ({READING_INDEX})() === {index}", timeout=20_000)
    finally:
        context.close()


def test_switching_language_keeps_the_search_query(chromium, site_server):
    traditional, english = (next(lang for lang in LANGUAGES if lang.code == code) for code in ("zh-hant", "en"))
    context = chromium.new_context(**DESKTOP)
    try:
        context.route(re.compile(rf"^(?!{re.escape(site_server)})"), lambda route: route.abort())
        tab = context.new_page()
        tab.goto(f"{site_server}{traditional.code}/search.html?q=LSTM", wait_until="load")
        tab.locator(f'.book-lang-switcher a[hreflang="{html_lang(english)}"]').click()
        tab.wait_for_url(f"{site_server}{english.code}/search.html?q=LSTM", timeout=20_000)
    finally:
        context.close()


# --- Print ---------------------------------------------------------------------------------------------

# What a printed page (A4 at 96 dpi) shows that it should not: the controls and folded solutions of the
# screen, and code, tables or displayed formulas cut off at the edge of the paper.
MEASURE_PRINT = """
() => {
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const count = selector => [...document.querySelectorAll(selector)].filter(shown).length;
  const boxes = ".bd-article pre, .bd-article .pst-scrollable-table-container, .bd-article mjx-container[display=true]";
  return {
    chrome: count(".bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .prev-next-area"),
    solutions: count("details.hide.above-input"),
    controls: count(".cell_output .widget-slider, .cell_output .widget-dropdown, .cell_output .widget-checkbox"),
    cut: [...document.querySelectorAll(boxes)].filter(el => shown(el) && el.scrollWidth > el.clientWidth + 1)
      .map(el => el.textContent.trim().slice(0, 50)),
    figures: count(".bd-article .cell_output img"),
  };
}
"""


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_a_printed_chapter_is_its_text_in_full(chromium, site_server, lang):
    """Printed, a chapter showed its folded solutions' buttons and its sliders, and cut off the end of
    long code lines, wide tables and a displayed formula; now it is the text, code and figures, whole."""
    context, tab = _open(chromium, site_server, lang, CHAPTER_PAGES[10], viewport={"width": 794, "height": 1123})
    try:
        tab.evaluate("() => window.MathJax?.startup?.promise")
        tab.emulate_media(media="print")
        tab.wait_for_function(LAID_OUT_FOR_PRINT, timeout=10_000)  # the scripts have seen the paper
        found = tab.evaluate(MEASURE_PRINT)
        assert found["chrome"] == 0 and found["solutions"] == 0 and found["controls"] == 0, f"{lang.code}: {found}"
        assert not found["cut"], f"{lang.code}: cut off on paper: {found['cut'][:5]}"
        assert found["figures"] > 0, f"{lang.code}: no figure printed"
    finally:
        context.close()


# --- Search (issue 16, item 7) -------------------------------------------------------------------------

from bookbuild.languages import ZH_TAG, language  # noqa: E402 (this section's own)


# The search has finished and every result shows its snippet (searchtools.js fetches each page for it).
SNIPPETS_SHOWN = """
() => document.querySelector("#search-results .search-summary")?.innerText
  && [...document.querySelectorAll("#search-results ul.search > li")].every(li => li.querySelector("p.context"))
"""
# Every formula of the snippets typeset (MathJax loads once a snippet holds one).
FORMULAS_TYPESET = """
() => [...document.querySelectorAll("#search-results p.context .math")]
  .every(math => math.querySelector("mjx-container"))
"""
# Each result: its link, and its snippet's text without the typeset formulas.
SEARCH_RESULTS = """
() => [...document.querySelectorAll("#search-results ul.search > li")].map(li => {
  const snippet = li.querySelector("p.context").cloneNode(true);
  const formulas = snippet.querySelectorAll("mjx-container");
  formulas.forEach(formula => formula.remove());
  return {href: li.querySelector("a").getAttribute("href"), text: snippet.textContent, formulas: formulas.length};
})
"""
SNIPPET_TEX = re.compile(r"\\[()\[\]]|\\begin\{")  # the delimiters Sphinx writes around every formula


def _search(chromium, site_server, lang, query: str) -> list[dict]:
    """SEARCH_RESULTS of the search page of an edition for ``query``, in the order shown."""
    context = chromium.new_context(**DESKTOP)
    try:
        context.route(re.compile(rf"^(?!{re.escape(site_server)})"), lambda route: route.abort())
        tab = context.new_page()
        tab.goto(f"{site_server}{lang.code}/search.html?q={query}", wait_until="load")
        tab.wait_for_function(SNIPPETS_SHOWN, timeout=30_000)
        tab.wait_for_function(FORMULAS_TYPESET, timeout=30_000)
        return tab.evaluate(SEARCH_RESULTS)
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGUAGES, ids=[lang.code for lang in LANGUAGES])
def test_search_snippets_show_formulas_typeset(chromium, site_server, lang):
    r"""Snippets showed raw TeX, e.g. ``\(Q = X_{\text{dec}}W^Q …``: now their formulas are typeset."""
    results = _search(chromium, site_server, lang, "LSTM")
    raw = {r["href"]: r["text"] for r in results if SNIPPET_TEX.search(r["text"])}
    assert not raw, f"{lang.code}: snippets with raw TeX: {raw}"
    assert sum(r["formulas"] for r in results), f"{lang.code}: no snippet shows a formula, so this tests nothing"


TOPIC_SEARCHES = [("zh-hant", "注意力"), ("zh-hans", "注意力"), ("en", "attention"),
                  ("zh-hant", "LSTM"), ("en", "LSTM"), ("zh-hans", "LSTM")]


@pytest.mark.parametrize("code, query", TOPIC_SEARCHES)
def test_search_ranks_the_chapters_above_the_other_pages(chromium, site_server, code, query):
    """For 注意力 and for LSTM the errata page, whose headings repeat every chapter's title, came before the
    chapter. The chapters now come first, and the book's other pages follow (they are not hidden)."""
    results = _search(chromium, site_server, language(code), query)
    kinds = ["chapter" if r["href"].startswith("notebooks/") else r["href"] for r in results]
    others = [i for i, kind in enumerate(kinds) if kind != "chapter"]
    assert "chapter" not in kinds[others[0]:], f"{code} {query}: {kinds}"
    assert any(r["href"].startswith("book/errata") for r in results), f"{code} {query}: no errata page in {kinds}"


@pytest.mark.parametrize("code, query", [("en", "errata"), ("zh-hant", "勘誤")])
def test_search_for_a_page_by_its_name_finds_it_first(chromium, site_server, code, query):
    results = _search(chromium, site_server, language(code), query)
    assert results and results[0]["href"].startswith("book/errata"), f"{code} {query}: {results[:3]}"


SECTION_ID = re.compile(r'<section\b[^>]*\bid="([^"]*)"')
CHINESE = [lang for lang in LANGUAGES if lang.tag == ZH_TAG]


@pytest.mark.parametrize("lang", CHINESE, ids=[lang.code for lang in CHINESE])
def test_chinese_sections_have_the_english_anchors(built_site, lang):
    """A Chinese section's anchor was opaque (#id7, #qkv); it is now the English edition's, on every page."""
    def anchors(code: str, page: str) -> list[str]:
        return SECTION_ID.findall((built_site / code / f"{page}.html").read_text(encoding="utf-8"))

    differ = {page: [pair for pair in zip(anchors(lang.code, page), anchors("en", page)) if pair[0] != pair[1]][:3]
              for page in PAGES if anchors(lang.code, page) != anchors("en", page)}
    assert not differ, f"{lang.code}: (Chinese, English) anchors: {differ}"


# Where a link to the page lands: the section whose element the fragment names.
TARGET_SECTION = "() => document.querySelector(':target')?.closest('section')?.id ?? null"


@pytest.mark.parametrize("lang", CHINESE, ids=[lang.code for lang in CHINESE])
def test_an_english_section_link_and_an_old_one_land_on_the_chinese_section(chromium, site_server, lang):
    """The English anchor of chapter 10's LSTM section works in the Chinese editions, and so does the anchor
    the section had before (#lstm), where links may already point."""
    english = "lstm-gates-that-manage-a-memory"
    context = chromium.new_context(**DESKTOP)
    try:
        context.route(re.compile(rf"^(?!{re.escape(site_server)})"), lambda route: route.abort())
        for fragment in (english, "lstm"):
            tab = context.new_page()
            tab.goto(f"{url_of(site_server, lang, layout.chapter('ch10_rnn').page)}#{fragment}", wait_until="load")
            assert tab.evaluate(TARGET_SECTION) == english, f"{lang.code}: #{fragment}"
    finally:
        context.close()


# --- Widgets the book draws itself (issue 16, item 12) ---

# What the output holding a control shows apart from its controls: its visible leaf widgets.
SHOWN_BESIDE = """
control => [...control.closest(".cell_output").querySelectorAll(".jupyter-widgets")]
  .filter(el => !el.querySelector(".jupyter-widgets") && !el.closest(".widget-toggle-buttons, .widget-slider")
          && el.getClientRects().length)
  .map(el => el.innerHTML).join("\\n")
"""


def _chapters_saving(executed, model_name: str) -> list[str]:
    state = "application/vnd.jupyter.widget-state+json"
    return [chapter.page for chapter in layout.chapters()
            if any(model["model_name"] == model_name
                   for model in executed[chapter.id].metadata.get("widgets", {}).get(state, {}).get("state", {}).values())]


def test_toggle_buttons_switch_the_picture(visit, site_server, executed):
    """Chapter 6's filters and chapter 11's query words: pressing another button shows another picture."""
    pages_with_buttons = _chapters_saving(executed, "ToggleButtonsModel")
    assert pages_with_buttons, "no chapter saves toggle buttons any more: this test has nothing to check"
    for page in pages_with_buttons:
        v = visit(url_of(site_server, LANGUAGES[0], page))
        _widgets_drawn(v.page)
        groups = v.page.locator(".cell_output .widget-toggle-buttons")
        assert groups.count(), f"{page}: no toggle buttons drawn"
        for i in range(groups.count()):
            button = groups.nth(i).locator(".widget-toggle-button[aria-pressed=false]").first.element_handle()
            before = button.evaluate(SHOWN_BESIDE)
            button.click()
            assert button.get_attribute("aria-pressed") == "true", f"{page}: group {i + 1}: the button stays up"
            assert button.evaluate(SHOWN_BESIDE) != before, f"{page}: group {i + 1}: the picture did not change"


def test_tabs_show_one_page_each(visit, site_server, executed):
    """Chapter 1's units: a click or an arrow key selects a tab, and only its page shows."""
    pages_with_tabs = _chapters_saving(executed, "TabModel")
    assert pages_with_tabs, "no chapter saves tabs any more: this test has nothing to check"
    shown = ("bar => [...bar.parentElement.querySelectorAll(':scope > [role=tabpanel]')]"
             ".map(panel => panel.getClientRects().length > 0)")
    for page in pages_with_tabs:
        v = visit(url_of(site_server, LANGUAGES[0], page))
        _widgets_drawn(v.page)
        bar = v.page.locator(".cell_output .widget-tab [role=tablist]").first
        tabs = bar.locator("[role=tab]")
        assert tabs.count() >= 2, f"{page}: {tabs.count()} tab(s) drawn"
        tabs.nth(1).click()
        assert tabs.nth(1).get_attribute("aria-selected") == "true", f"{page}: the second tab is not selected"
        assert bar.evaluate(shown) == [i == 1 for i in range(tabs.count())], f"{page}: not only the second page shows"
        tabs.nth(1).press("ArrowRight")
        expected = 2 % tabs.count()
        assert bar.evaluate(shown) == [i == expected for i in range(tabs.count())], f"{page}: the arrow key did not move on"
