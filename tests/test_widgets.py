"""The saved widgets as the site carries and draws them (bookbuild/widgets.py, static/bookbuild-widgets.js),
in each edition's words (bookbuild/widget_words.py).

The browser tests move every slider on every page; these check, without a browser, that the page keeps
every value the drawing reads, that the drawing knows every model and style a chapter saves, and that a
Chinese edition's widgets show no English word: neither in their pictures nor in their labels.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bookbuild import figure_words, views, widget_words, widgets
from bookbuild.languages import language

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


def _pictures(value: str) -> list[bytes | str]:
    """The pictures of an HTML value, in order: a PNG's bytes, an SVG's text."""
    found = [(m.start(), base64.b64decode(m[2])) for m in widget_words.DATA_URI.finditer(value)]
    found += [(m.start(), m[1]) for m in widget_words.INLINE_SVG.finditer(value)]
    return [picture for _, picture in sorted(found, key=lambda each: each[0])]


def _picture_texts(english: bytes | str, shown: bytes | str, pictures: dict, lang) -> list[str]:
    """The texts an edition's picture draws: a recorded picture's texts as the edition translates them
    (the build drew it again with those); an SVG's own texts otherwise. A PNG nobody recorded was not
    drawn by ``savefig`` (``plt.imsave`` of an array) and has no text."""
    recorded = pictures.get(widget_words.picture_key(english))
    if recorded is not None:
        return [figure_words.translate(text, lang) for text in recorded["texts"]]
    return figure_words.drawn_texts(shown) if isinstance(shown, str) else []


def english_words_left(widget_state: dict, pictures: dict, lang) -> list[str]:
    """What a Chinese edition's widgets still show in English: the labels, the texts of the HTML (a
    hand-drawn SVG's too) and the pictures' texts, each with the English words it holds; and each
    recorded picture the edition did not swap for its own drawing."""
    shown_state = widget_words.in_language(widget_state, pictures, lang)[widgets.STATE_MIME]["state"]
    found = []
    for model_id, model in widget_state[widgets.STATE_MIME]["state"].items():
        shown = shown_state[model_id]["state"]
        texts = [label for name in widget_words.LABELS
                 for label in ([shown[name]] if isinstance(shown.get(name), str) else shown.get(name) or [])
                 if isinstance(label, str)]
        if model["model_name"] in widget_words.HTML_MODELS:
            texts += widget_words.texts(shown["value"])
            for english, drawn in zip(_pictures(model["state"]["value"]), _pictures(shown["value"]), strict=True):
                if widget_words.edition(english, pictures, lang) is not None and drawn == english:
                    found.append(f"{model_id}: a picture drawn for {lang.code} is not shown")
                texts += _picture_texts(english, drawn, pictures, lang)
        found += [f"{model_id}: {text!r} {figure_words.untranslated(text)}"
                  for text in texts if figure_words.untranslated(text)]
    return found


def _chinese_editions():
    return pytest.mark.parametrize("lang", figure_words.chinese_editions(), ids=lambda lang: lang.code)


@_chinese_editions()
def test_chinese_editions_widgets_show_no_english_word(executed, chapter, lang):
    """Every picture a control switches between and every label, in both Chinese editions; names, code,
    numbers and math stay as they are (``figure_words.untranslated``)."""
    nb = executed[chapter.id]
    if "widgets" not in nb.metadata:
        pytest.skip(f"{chapter.id} has no widget")
    view = views.language_view(nb, lang)
    pictures = nb.metadata.get("bookbuild", {}).get(widget_words.KEY, {})
    assert view.metadata.widgets == widget_words.in_language(nb.metadata.widgets, pictures, lang), \
        f"the {lang.code} view does not show the edition's widgets"
    left = english_words_left(nb.metadata.widgets, pictures, lang)
    assert not left, f"{chapter.id} ({lang.code}) widgets show English:\n" + "\n".join(left)


def test_every_picture_a_chapter_saves_with_savefig_is_recorded(executed):
    """The PNG pictures the check above reads through their records: a chapter that draws them with
    ``savefig`` has every one recorded (only ``plt.imsave`` of an array, which has no text, is not).
    The chapters whose controls draw no picture with ``savefig`` have nothing to check."""
    saving = {chapter_id: nb for chapter_id, nb in executed.items()
              if "widgets" in nb.metadata and any(".savefig(" in cell.source for cell in nb.cells)}
    if not saving:
        pytest.skip("none of the chapters tested saves a widget picture with savefig")
    for chapter_id, nb in saving.items():
        pictures = nb.metadata.get("bookbuild", {}).get(widget_words.KEY, {})
        shown = _saved_pictures(nb)
        missing = [picture[:40] for picture in shown if widget_words.picture_key(picture) not in pictures]
        assert shown and not missing, f"{chapter_id}: {len(missing)} of {len(shown)} pictures not recorded: {missing}"


# matplotlib writes the time of drawing into an SVG unless told `metadata={"Date": None}`.
DRAWN_AT = re.compile(r"<dc:date>\s*\d")


def test_no_saved_picture_carries_the_time_it_was_drawn(executed):
    """A dated picture differs in every build, and so does its file on the site, named by its content."""
    dated = [chapter_id for chapter_id, nb in executed.items() if "widgets" in nb.metadata
             and any(isinstance(picture, str) and DRAWN_AT.search(picture) for picture in _saved_pictures(nb))]
    assert not dated, f"widget pictures saved with their date (savefig(..., metadata={{'Date': None}})): {dated}"


def _saved_pictures(nb) -> list[bytes | str]:
    """Every picture the chapter's saved widgets show, in its HTML models' values."""
    return [picture for model in nb.metadata.widgets[widgets.STATE_MIME]["state"].values()
            if model["model_name"] in widget_words.HTML_MODELS for picture in _pictures(model["state"]["value"])]


def test_the_english_edition_shows_the_widgets_as_saved(executed, chapter):
    nb = executed[chapter.id]
    if "widgets" not in nb.metadata:
        pytest.skip(f"{chapter.id} has no widget")
    assert views.language_view(nb, language("en")).metadata.widgets == nb.metadata.widgets, \
        f"the English view of {chapter.id} changed a widget"


def _planted_state(png: bytes, svg: str, description: str, caption: str) -> dict:
    value = (f'<div><img src="data:image/png;base64,{base64.b64encode(png).decode()}">{svg}'
             f"<br>{caption}</div>")
    return {widgets.STATE_MIME: {"state": {
        "slider": _model("SelectionSliderModel", description=description, _options_labels=["0.5", "0.9"]),
        "tabs": _model("TabModel", titles=["training", "validation"]),
        "page": _model("HTMLModel", value=value)}}}


def _shown(saved: dict, pictures: dict, code: str) -> dict:
    return widget_words.in_language(saved, pictures, language(code))[widgets.STATE_MIME]["state"]


def test_an_edition_swaps_its_pictures_and_translates_the_labels():
    png, svg, hant = b"\x89PNG english", '<svg width="4">\n  <!-- training -->\n</svg>', "iVBORyBoYW50"
    pictures = {widget_words.picture_key(png): {"texts": ["training"], "editions": {"zh-hant": hant, "zh-hans": "UE5H"}},
                widget_words.picture_key(svg): {"texts": ["training"], "editions": {
                    "zh-hant": '<?xml version="1.0"?>\n<svg width="4"><!-- 訓練 --></svg>'}}}
    # The chapter folds the SVG's lines to one before keeping it: still the picture that was recorded.
    saved = _planted_state(png, svg.replace("\n  ", " "), "forget f", "validation")
    shown = _shown(saved, pictures, "zh-hant")
    assert shown["slider"]["state"] == {"description": "遺忘 f", "_options_labels": ["0.5", "0.9"]}, shown["slider"]
    assert shown["tabs"]["state"]["titles"] == ["訓練", "驗證"], shown["tabs"]
    page = shown["page"]["state"]["value"]
    assert page == f'<div><img src="data:image/png;base64,{hant}"><svg width="4"><!-- 訓練 --></svg><br>驗證</div>', page
    simplified = _shown(saved, pictures, "zh-hans")["page"]["state"]["value"]
    assert 'base64,UE5H"' in simplified and simplified.endswith("验证</div>"), simplified
    assert widget_words.in_language(saved, pictures, language("en")) is saved, "the English edition changes nothing"
    assert saved[widgets.STATE_MIME]["state"]["slider"]["state"]["description"] == "forget f", \
        "the notebook's own state is untouched"
    assert english_words_left(saved, pictures, language("zh-hant")) == [], "a translated widget was found English"


def test_english_left_in_a_widget_is_named(monkeypatch):
    """A label or a text the catalog lacks, a picture's text, a drawing not swapped in: each is named."""
    traditional, png = language("zh-hant"), b"\x89PNG english"
    planted = _planted_state(png, '<svg width="4"><text>wobbly curve</text></svg>', "squiggle", "validation")
    pictures = {widget_words.picture_key(png): {"texts": ["training", "mystery panel"], "editions": {}}}
    left = english_words_left(planted, pictures, traditional)
    assert left == ["slider: 'squiggle' ['squiggle']", "page: 'wobbly curve' ['wobbly', 'curve']",
                    "page: 'mystery panel' ['mystery', 'panel']"], left
    drawn = {widget_words.picture_key(png): {"texts": [], "editions": {"zh-hant": "UE5H"}}}
    not_shown = "page: a picture drawn for zh-hant is not shown"
    assert not_shown not in english_words_left(planted, drawn, traditional), "the view swapped the picture"
    monkeypatch.setattr(widget_words, "in_language", lambda state, *_: state)  # a view that forgets to swap
    assert not_shown in english_words_left(planted, drawn, traditional), "a picture left English was not named"
