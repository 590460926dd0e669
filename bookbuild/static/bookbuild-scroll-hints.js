/* Tables wider than their column say that they scroll sideways.
 *
 * pydata-sphinx-theme puts every table in a box that scrolls sideways (.pst-scrollable-table-container),
 * but nothing shows it: a phone shows its scroll bar only while scrolling, and a desktop shows it below
 * the last row of a tall table. The errata's columns past the right edge looked cut off, at 390 px and
 * at 1366 px alike. While a box hides columns on one side it carries `book-scroll-more-right` or
 * `book-scroll-more-left` (or both), and bookbuild.css fades that edge out. The marks follow the
 * reader's scrolling and every change of size (the window, fonts, formulas typeset in a cell).
 */
(() => {
  const BOXES = ".pst-scrollable-table-container";
  const mark = (box) => {
    const hidden = box.scrollWidth - box.clientWidth;
    box.classList.toggle("book-scroll-more-left", box.scrollLeft > 1);
    box.classList.toggle("book-scroll-more-right", box.scrollLeft < hidden - 1);
  };
  document.addEventListener("DOMContentLoaded", () => {
    const resized = new ResizeObserver((entries) => {
      for (const entry of entries) mark(entry.target.closest(BOXES));
    });
    for (const box of document.querySelectorAll(BOXES)) {
      mark(box);
      resized.observe(box);
      if (box.firstElementChild) resized.observe(box.firstElementChild);
      box.addEventListener("scroll", () => mark(box), {passive: true});
    }
  });
})();
