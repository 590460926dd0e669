"""The saved widgets as the site carries and draws them (bookbuild/widgets.py, static/bookbuild-widgets.js).

The browser tests move every slider on every page; these check, without a browser, that the page keeps
every value the drawing reads, and that the drawing knows every model and style a chapter saves.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bookbuild import widgets

DRAWING = (Path(widgets.__file__).parent / "static" / "bookbuild-widgets.js").read_text(encoding="utf-8")


def _views_drawn() -> set[str]:
    """The models the drawing has a view for: the keys of its ``VIEWS`` object."""
    views = DRAWING[DRAWING.index("const VIEWS = {"):DRAWING.index("\n  };\n", DRAWING.index("const VIEWS = {"))]
    return set(re.findall(r"^    (\w+Model)\b", views, re.M))


def _style_attributes_drawn() -> set[str]:
    """The style attributes the drawing applies: ``STYLE_CSS``'s keys and each ``style.get("...")``."""
    plain_css = re.search(r"const STYLE_CSS = \{(.*?)\};", DRAWING, re.S).group(1)
    return set(re.findall(r"(\w+): \"", plain_css)) | set(re.findall(r"style\.get\(\"(\w+)\"\)", DRAWING))


def _saved_states(executed) -> dict[str, dict]:
    return {chapter: widgets.page_state(nb.metadata.widgets, "pictures")[0][widgets.STATE_MIME]["state"]
            for chapter, nb in executed.items() if "widgets" in nb.metadata}


def test_the_page_keeps_every_value_that_is_set():
    saved = {widgets.STATE_MIME: {"version_major": 2, "version_minor": 0, "state": {"m": {
        "model_name": "SelectionSliderModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
        "state": {"index": 0, "disabled": False, "readout": True, "description": "", "tooltip": None, "_dom_classes": [],
                  "_options_labels": ["a", "b"], "_view_count": None, "_view_name": "SelectionSliderView",
                  "layout": "IPY_MODEL_l"}}}}}
    kept = widgets.page_state(saved, "pictures")[0][widgets.STATE_MIME]
    assert kept["version_major"] == 2
    assert kept["state"]["m"]["model_name"] == "SelectionSliderModel"
    # 0 and False are values (the first option, a live slider), not unset attributes.
    assert kept["state"]["m"]["state"] == {"index": 0, "disabled": False, "readout": True,
                                           "_options_labels": ["a", "b"], "layout": "IPY_MODEL_l"}
    assert saved[widgets.STATE_MIME]["state"]["m"]["state"]["tooltip"] is None, "the notebook's own state is untouched"


def test_pictures_leave_the_page_for_files_loaded_when_shown():
    png = base64.b64encode(b"\x89PNG not really").decode()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10pt"><path d="M 0 0"/></svg>'
    html = (f'<p>step 1</p><img src="data:image/png;base64,{png}">'
            f'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
            f'  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n{svg}')
    saved = {widgets.STATE_MIME: {"state": {
        "a": _model("HTMLModel", value=html), "b": _model("HTMLModel", value=html), "c": _model("LabelModel", value=html)}}}
    state, pictures = widgets.page_state(saved, "../_static/pics")
    assert sorted(pictures.values()) == sorted([b"\x89PNG not really", svg.encode()]), "each picture once, as it was"
    shown = state[widgets.STATE_MIME]["state"]["a"]["state"]["value"]
    assert shown == state[widgets.STATE_MIME]["state"]["b"]["state"]["value"]
    names = {name: f"../_static/pics/{name}" for name in pictures}
    png_name, svg_name = sorted(names, key=lambda name: name.endswith(".svg"))
    assert shown == (f'<p>step 1</p><img src="{names[png_name]}" loading="lazy">'
                     f'<img src="{names[svg_name]}" loading="lazy" alt="">'), shown
    assert state[widgets.STATE_MIME]["state"]["c"]["state"]["value"] == html, "only HTML widgets show pictures"


def test_an_svg_drawn_without_namespaces_gets_them_as_a_file():
    """Chapter 1 writes its SVG by hand, without xmlns, which HTML allows and an image file does not."""
    bare = '<svg width="4" height="4"><use xlink:href="#a"/></svg>'
    saved = {widgets.STATE_MIME: {"state": {"a": _model("HTMLModel", value=bare)}}}
    _, pictures = widgets.page_state(saved, "pics")
    assert list(pictures.values()) == [b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
                                       b' width="4" height="4"><use xlink:href="#a"/></svg>']
    declared = '<svg xmlns="http://www.w3.org/2000/svg" width="4"></svg>'
    saved[widgets.STATE_MIME]["state"]["a"]["state"]["value"] = declared
    assert list(widgets.page_state(saved, "pics")[1].values()) == [declared.encode()]


def _unknown_models(states: dict[str, dict]) -> dict[str, str]:
    """Models that no view draws and that are neither a jslink nor a widget's layout or style."""
    drawn, unknown = _views_drawn(), {}
    for chapter, state in states.items():
        parts = {value.removeprefix("IPY_MODEL_") for model in state.values()
                 for key, value in model["state"].items() if key in ("layout", "style")}
        for model_id, model in state.items():
            if model["model_name"] not in drawn | {"LinkModel"} and model_id not in parts:
                unknown.setdefault(model["model_name"], chapter)
    return unknown


def _ignored_styles(states: dict[str, dict]) -> dict[tuple[str, str], str]:
    applied = _style_attributes_drawn()
    return {(model["model_name"], key): chapter
            for chapter, state in states.items() for model in state.values()
            if model["model_name"].endswith("StyleModel") for key in model["state"] if key not in applied}


def _model(name: str, **state) -> dict:
    return {"model_name": name, "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
            "state": state}


def test_the_drawing_has_a_view_for_every_model_a_chapter_shows(executed):
    assert {"HTMLModel", "StackModel", "SelectionSliderModel"} <= _views_drawn()
    unknown = _unknown_models(_saved_states(executed))
    assert not unknown, f"bookbuild-widgets.js draws no view for {unknown} (model: first chapter using it)"


def test_the_drawing_applies_every_style_a_chapter_sets(executed):
    assert {"font_size", "description_width", "button_width", "handle_color"} <= _style_attributes_drawn()
    ignored = _ignored_styles(_saved_states(executed))
    assert not ignored, f"bookbuild-widgets.js ignores these style attributes: {ignored}"


def test_a_model_or_style_the_drawing_does_not_know_is_named():
    planted = {"chXX": {
        "s": _model("IntSliderModel", layout="IPY_MODEL_l", style="IPY_MODEL_st"),
        "l": _model("LayoutModel", width="10px"),
        "st": _model("SliderStyleModel", handle_color="red", bar_color="blue"),
        "k": _model("LinkModel", source=["IPY_MODEL_s", "value"], target=["IPY_MODEL_s", "value"]),
    }}
    assert _unknown_models(planted) == {"IntSliderModel": "chXX"}
    assert _ignored_styles(planted) == {("SliderStyleModel", "bar_color"): "chXX"}
