"""The widget state a page carries.

A chapter saves every attribute of every widget model, most of them null or the bookkeeping of
ipywidgets' Python and JavaScript classes (which module and version defines the view, how many views
are open). ``static/bookbuild-widgets.js``, which draws the widgets on the page, reads only the values
that change what a widget shows or does, so a page keeps only those: 100 to 160 kB less on the pages
with the most widgets.

The pictures inside HTML widgets (PNG data URIs and inline SVG: the precomputed states a slider
switches between) leave the page for files of their own, shown with ``<img loading="lazy">``: the
browser then downloads the state on show, not the eight hidden behind it.

A Chinese edition's state has its own drawings and words by then (``widget_words.py``, which also
says what a picture in HTML is: the build's kernel names the pictures it records the same way), and
its pictures become files the same way.
"""

from __future__ import annotations

import base64
import hashlib

from .widget_words import DATA_URI, INLINE_SVG, STATE_MIME

# Private attributes that the page does use: the options of a selection, the CSS classes of a widget.
DRAWN_PRIVATE = ("_options_labels", "_dom_classes")
UNSET = (None, "", [])
# Where the pictures go: a folder of the staged book that Sphinx copies into the site's _static/.
STATIC_FOLDER = "_widget_static"
PICTURES = "widget-pictures"

SVG_NAMESPACES = (("", "http://www.w3.org/2000/svg"), ("xlink", "http://www.w3.org/1999/xlink"))


def page_state(widgets: dict, pictures_url: str) -> tuple[dict, dict[str, bytes]]:
    """``widgets`` (a notebook's ``metadata.widgets``) as the page carries it, and the pictures it links to.

    Each model keeps only the attributes that are set; the pictures of its HTML become files, named by
    their content, which the page finds at ``pictures_url`` (relative to the page).
    """
    saved, pictures = widgets[STATE_MIME], {}
    models = {}
    for model_id, model in saved["state"].items():
        state = _drawn(model["state"])
        if model["model_name"] == "HTMLModel" and "value" in state:
            state["value"] = _pictures_as_files(state["value"], pictures, pictures_url)
        models[model_id] = {**model, "state": state}
    return {STATE_MIME: {**saved, "state": models}}, pictures


def _drawn(state: dict) -> dict:
    return {key: value for key, value in state.items()
            if value not in UNSET and (not key.startswith("_") or key in DRAWN_PRIVATE)}


def _pictures_as_files(html: str, pictures: dict[str, bytes], url: str) -> str:
    def file(data: bytes, suffix: str) -> str:
        name = hashlib.sha256(data).hexdigest()[:24] + suffix
        pictures[name] = data
        return f"{url}/{name}"

    html = DATA_URI.sub(lambda m: f'src="{file(base64.b64decode(m[2]), "." + m[1])}" loading="lazy"', html)
    return INLINE_SVG.sub(lambda m: f'<img src="{file(_standalone(m[1]).encode(), ".svg")}" loading="lazy" alt="">',
                          html)


def _standalone(svg: str) -> str:
    """An SVG written into HTML may leave out its namespaces; a file must declare them to be drawn."""
    tag = svg[:svg.index(">")]
    declared = "".join(f' xmlns{":" + prefix if prefix else ""}="{uri}"' for prefix, uri in SVG_NAMESPACES
                       if f"xmlns{':' + prefix if prefix else ''}=" not in tag and (not prefix or f"{prefix}:" in svg))
    return "<svg" + declared + svg[len("<svg"):]
