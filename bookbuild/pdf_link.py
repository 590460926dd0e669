"""Where the site keeps the whole book's PDFs, and the link each page of an edition shows to its own.

Kept apart from ``pdf.py``, which prints the PDFs, so that the Sphinx build and every ``bookbuild``
command can place the link without importing pypdf (0.27 s a process).
"""

from __future__ import annotations

from .languages import language

SITE_FOLDER = "pdf"  # the PDFs' folder in the site, beside the editions' folders
LINK_LABEL = "全書 PDF | The whole book as a PDF"


def link_context(pagename: str, code: str) -> dict:
    """What ``templates/pdf-link.html`` shows on a page of an edition (``book_pdf`` in its context):
    the address of the edition's PDF relative to the page, and the link's name."""
    up = "../" * (pagename.count("/") + 1)  # from the page to the site's root, above the editions
    return {"href": f"{up}{SITE_FOLDER}/{code}.pdf", "label": language(code).pick(LINK_LABEL)}
