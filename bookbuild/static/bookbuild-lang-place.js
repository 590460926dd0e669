/* Switching language keeps the reader's place.
 *
 * The editions share their pages' paths and their sections' anchors, but the address's fragment is
 * where the reader arrived, not where they have scrolled to. When a switcher link is followed, the
 * index of the section the reader is in (the last one whose heading is above the top of
 * the window) is kept for this tab (sessionStorage); the page in the other language then shows its
 * section of the same index, and that section's own anchor in the address bar. The editions' pages
 * have the same sections in the same order (their prose cells come in pairs). On the search page the
 * link keeps the query.
 */
(() => {
  const KEY = "book-lang-place";
  const sections = () => [...document.querySelectorAll(".bd-article section[id]")];
  const readingIndex = () => {
    const top = (parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0) + 8;
    let index = -1;
    sections().forEach((section, i) => {
      if (section.getBoundingClientRect().top <= top) index = i;
    });
    return index;
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest(".book-lang-switcher a[href]");
    if (!link) return;
    link.search = location.search;
    const index = readingIndex();
    if (index > 0) sessionStorage.setItem(KEY, JSON.stringify({page: link.pathname, index}));
  }, true);
  document.addEventListener("DOMContentLoaded", () => {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (!saved || saved.page !== location.pathname) return;
    sessionStorage.removeItem(KEY);
    const target = sections()[saved.index];
    if (!target || location.hash) return;
    history.replaceState(null, "", `#${target.id}`);
    // Figures, formulas and widgets take their height after this, above the section too: it stays at
    // the top of the window whenever the article changes size, until the reader scrolls or clicks.
    const follow = new ResizeObserver(() => target.scrollIntoView());
    follow.observe(document.querySelector(".bd-article"));
    for (const kind of ["wheel", "touchstart", "keydown", "mousedown"]) {
      window.addEventListener(kind, () => follow.disconnect(), {once: true, passive: true});
    }
  });
})();
