/* The sidebar buttons work wherever they are tapped.
 *
 * pydata-sphinx-theme 0.17 renders a primary-sidebar button of its own in the top bar, while
 * sphinx-book-theme 1.3 renders the one a reader sees in the article header. Both themes wire
 * up only the first `.primary-toggle` / `.secondary-toggle` of the page (document.querySelector),
 * which is the hidden one, so the visible buttons did nothing: no menu on a phone, no collapse
 * on a desktop (pydata-sphinx-theme issue 2451). Every other button of a kind now hands its
 * click to the first one, which carries both themes' behaviour: a dialog on narrow screens, a
 * collapsing sidebar on wide ones.
 */
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [wired, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    }
  }
});
