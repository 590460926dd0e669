"""The widget state a page carries.

A chapter saves every attribute of every widget model, most of them null or the bookkeeping of
ipywidgets' Python and JavaScript classes (which module and version defines the view, how many views
are open). ``static/bookbuild-widgets.js``, which draws the widgets on the page, reads only the values
that change what a widget shows or does, so a page keeps only those: 100 to 160 kB less on the pages
with the most widgets.
"""

from __future__ import annotations

STATE_MIME = "application/vnd.jupyter.widget-state+json"
# Private attributes that the page does use: the options of a selection, the CSS classes of a widget.
DRAWN_PRIVATE = ("_options_labels", "_dom_classes")
UNSET = (None, "", [])


def page_state(widgets: dict) -> dict:
    """``widgets`` (a notebook's ``metadata.widgets``) with each model's state cut to what is drawn."""
    saved = widgets[STATE_MIME]
    models = {model_id: {**model, "state": _drawn(model["state"])} for model_id, model in saved["state"].items()}
    return {STATE_MIME: {**saved, "state": models}}


def _drawn(state: dict) -> dict:
    return {key: value for key, value in state.items()
            if value not in UNSET and (not key.startswith("_") or key in DRAWN_PRIVATE)}
