/* The search page's ranking (Sphinx's `html_search_scorer`, written into language_data.js).
 *
 * Sphinx's weights, and one rule of the book's: the chapters come before the book's other pages (errata,
 * glossary, notation, guide, landing page), unless the query is in the page's title, which then comes
 * first. Those pages repeat every chapter's title in their headings or tables, so for a topic word
 * (注意力, LSTM) the errata page tied with the chapter on a title match and, sorted by name, came first;
 * they are still found, after the chapters. And every chapter has a section "Errata of the notes", so
 * the errata page itself came after them for "errata".
 */
var Scorer = {
  score: (result) => {
    const [docName, title, , , score] = result;
    if (docName.startsWith("notebooks/")) return score;
    const query = (new URLSearchParams(location.search).get("q") || "").trim().toLowerCase();
    const pageTitle = title.split(" > ")[0].toLowerCase();
    return score + (query && pageTitle.includes(query) ? Scorer.otherPages : -Scorer.otherPages);
  },
  // More than any score Sphinx gives a title or full-text match (at most 16).
  otherPages: 100,

  // Sphinx 7.4's defaults from here on (searchtools.js).
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
