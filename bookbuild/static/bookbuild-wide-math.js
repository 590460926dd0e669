/* Inline formulas wider than their column scroll sideways instead of running off the page.
 *
 * MathJax 3 does not break inline formulas across lines, and a page that does not scroll sideways
 * (the theme's on a phone) cuts off the end of a long one. Once MathJax has typeset the page, and
 * again whenever the window changes size, every inline formula wider than the text around it gets
 * the class `book-wide-math` (bookbuild.css: a box of the column's width that scrolls, with a
 * shadow at the edge that still hides something). Displayed formulas scroll in CSS alone.
 *
 * Paper does not scroll: while the page is printed, a displayed formula wider than the column is
 * typeset smaller, just enough to fit (MathJax sizes everything in em of the container's font),
 * and its screen size comes back afterwards. Once that is done, <html data-book-laid-out-for> reads
 * "print" (and "screen" again after printing).
 */
(() => {
  // All the classes off, then every width read, then the classes on: a width read after a class
  // changed lays the whole page out again, once per formula (seconds on a chapter of 500 formulas).
  const mark = () => {
    const formulas = [...document.querySelectorAll("mjx-container:not([display])")];
    formulas.forEach((formula) => formula.classList.remove("book-wide-math"));
    const wide = formulas.filter((formula) => {
      const column = formula.closest("p, li, td, dd, div") || document.body;
      return formula.getBoundingClientRect().width > column.clientWidth;
    });
    wide.forEach((formula) => formula.classList.add("book-wide-math"));
    // The width the formulas were last measured at, for tests that resize the window (test_browser.py).
    document.documentElement.dataset.bookWideMathAt = String(document.documentElement.clientWidth);
  };
  const whenTypeset = () => {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) {
      startup.promise.then(mark);
    } else if (document.querySelector(".math")) {
      setTimeout(whenTypeset, 100);
    }
  };
  document.addEventListener("DOMContentLoaded", whenTypeset);
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(mark, 150);
  });
  // One scaling by clientWidth / scrollWidth is not certain to be enough (the parts' widths are rounded
  // to device pixels, and a part drawn in the text's font need not scale like MathJax's), so the
  // formula shrinks until it fits, each step at least half a pixel, and never below a legible 6 px.
  const shrinkToFit = (formula) => {
    let size = parseFloat(getComputedStyle(formula).fontSize);
    while (formula.scrollWidth > formula.clientWidth + 1 && size > 6) {
      size = Math.max(6, Math.min(size - 0.5, (size * formula.clientWidth) / formula.scrollWidth));
      formula.style.fontSize = `${size}px`;
    }
  };
  const fitForPaper = (printing) => {
    for (const formula of document.querySelectorAll('mjx-container[display="true"]')) {
      formula.dataset.screenFontSize ??= formula.style.fontSize;  // MathJax's own scale, e.g. 127.3%
      formula.style.fontSize = formula.dataset.screenFontSize;
      if (printing) {
        shrinkToFit(formula);
      }
    }
    // What the PDF builder and the print test wait for: the browser tells the page of the paper
    // asynchronously, so a fixed wait after switching to print could measure the screen's sizes.
    document.documentElement.dataset.bookLaidOutFor = printing ? "print" : "screen";
  };
  window.matchMedia("print").addEventListener("change", (event) => fitForPaper(event.matches));
})();
