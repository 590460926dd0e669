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
 * and its screen size comes back afterwards.
 */
(() => {
  const mark = () => {
    for (const formula of document.querySelectorAll("mjx-container:not([display])")) {
      formula.classList.remove("book-wide-math");
      const column = formula.closest("p, li, td, dd, div") || document.body;
      if (formula.getBoundingClientRect().width > column.clientWidth) {
        formula.classList.add("book-wide-math");
      }
    }
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
  const fitForPaper = (printing) => {
    for (const formula of document.querySelectorAll('mjx-container[display="true"]')) {
      formula.dataset.screenFontSize ??= formula.style.fontSize;  // MathJax's own scale, e.g. 127.3%
      formula.style.fontSize = formula.dataset.screenFontSize;
      if (printing && formula.scrollWidth > formula.clientWidth + 1) {
        const size = parseFloat(getComputedStyle(formula).fontSize);
        formula.style.fontSize = `${Math.floor((size * formula.clientWidth) / formula.scrollWidth)}px`;
      }
    }
  };
  window.matchMedia("print").addEventListener("change", (event) => fitForPaper(event.matches));
})();
