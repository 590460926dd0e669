/* Search results whose snippets read as the book does.
 *
 * Sphinx's searchtools.js fetches each result's page and shows 240 characters of its text around the
 * query. That text was the `textContent` of the whole main column, so a snippet showed formulas as raw
 * TeX (`\(Q = X_{\text{dec}}W^Q\)`, cut off anywhere) and often the page's table of contents instead of
 * its prose. Here a snippet is taken from the article alone, around the first place the prose (or, if
 * only the code has it, the code) has the query, starts at a word, never cuts a formula, and keeps
 * each formula as a formula, which MathJax typesets like the page's own. MathJax (1.2 MB) loads only once
 * a snippet holds a formula: the search page has none of its own.
 */
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined") return;  // searchtools.js is on the search page only
  const CONTEXT = 120;  // characters before the query, and twice that in all, as Sphinx's own snippet
  const SKIPPED = ".headerlink, script, style, nav, .toctree-wrapper";
  const CODE = "pre, .cell_output";
  const WORD_START = 15;  // how far a snippet may move its start to begin at a word (none in Chinese)
  // Math environments of a displayed formula, as their inline forms (a snippet is one line of text).
  const INLINE_ENVIRONMENTS = {"align": "aligned", "align*": "aligned", "gather": "gathered", "gather*": "gathered",
                               "equation": "", "equation*": ""};

  const article = (html, anchor) => {
    const page = new DOMParser().parseFromString(html, "text/html");
    const section = anchor && page.getElementById(decodeURIComponent(anchor.slice(1)));
    return section || page.querySelector("article.bd-article") || page.querySelector('[role="main"]');
  };

  const inlineTeX = (tex) => tex.trim()
    .replace(/^\\[([]|\\[)\]]$/g, "")
    .replace(/\\(begin|end)\{([a-z]+\*?)\}/g, (whole, edge, name) => {
      if (!(name in INLINE_ENVIRONMENTS)) return whole;
      return INLINE_ENVIRONMENTS[name] ? `\\${edge}{${INLINE_ENVIRONMENTS[name]}}` : "";
    });

  // The text of an element as pieces of text ({text, code}) and formulas ({tex}), whitespace collapsed.
  const pieces = (root) => {
    const found = [];
    const walk = (node, code) => {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) found.push({text: child.nodeValue.replace(/\s+/g, " "), code});
        else if (child.nodeType !== Node.ELEMENT_NODE || child.matches(SKIPPED)) continue;
        else if (child.matches(".math")) found.push({tex: inlineTeX(child.textContent)});
        else walk(child, code || child.matches(CODE));
      }
    };
    walk(root, false);
    return found;
  };

  // Where the text first has one of the keywords: in the prose if it can, else in the code; and the text.
  const firstHit = (found, keywords) => {
    const all = found.map((piece) => piece.text ?? piece.tex).join("").toLowerCase();
    const prose = found.map((piece) => (piece.code ? " ".repeat(piece.text.length) : piece.text ?? piece.tex))
      .join("").toLowerCase();
    const first = (text) => Math.min(...[...keywords].map((word) => text.indexOf(word.toLowerCase()))
      .filter((at) => at > -1));  // Infinity if none
    return [[first(prose), first(all), 0].find(Number.isFinite), all];
  };

  // The pieces within [start, end) of their joined text: prose cut at the ends, formulas kept whole.
  const within = (found, start, end) => {
    const kept = [];
    let at = 0;
    for (const piece of found) {
      const length = (piece.text ?? piece.tex).length;
      if (at + length > start && at < end) {
        kept.push(piece.text === undefined ? piece : {text: piece.text.slice(Math.max(start - at, 0), end - at)});
      }
      at += length;
    }
    return kept;
  };

  // The site's copy of MathJax (sphinx-mathjax-offline's), loaded the first time; typesets one at a time.
  let typesetting = null;
  const typeset = (element) => {
    typesetting ??= new Promise((loaded) => {
      window.MathJax = {startup: {pageReady: () => loaded()}};  // typesets nothing by itself
      const root = new URL(document.documentElement.dataset.content_root, location.href);
      document.head.appendChild(document.createElement("script")).src = new URL("_static/mathjax/tex-chtml.js", root);
    });
    typesetting = typesetting.then(() => window.MathJax.typesetPromise([element]));
  };

  Search.makeSearchSummary = (html, keywords, anchor) => {
    const root = article(html, anchor);
    if (!root) return null;
    const found = pieces(root);
    const [hit, text] = firstHit(found, keywords);
    let start = Math.max(hit - CONTEXT, 0);
    const space = text.indexOf(" ", start);
    if (start > 0 && space > -1 && space - start < WORD_START) start = space + 1;
    const end = start + 2 * CONTEXT;
    const summary = document.createElement("p");
    summary.classList.add("context");
    if (start > 0) summary.append("…");
    for (const piece of within(found, start, end)) {
      if (piece.text !== undefined) {
        summary.append(piece.text);
        continue;
      }
      const formula = summary.appendChild(document.createElement("span"));
      formula.className = "math nohighlight";  // search-term highlighting leaves the TeX whole
      formula.textContent = `\\(${piece.tex}\\)`;
    }
    if (end < text.length) summary.append("…");
    summary.normalize();
    if (summary.querySelector(".math")) typeset(summary);
    return summary;
  };
});
