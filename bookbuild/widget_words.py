"""The words of the interactive controls in every edition: their pictures and their labels.

A control's states are precomputed: a chapter draws each state's figure into a buffer with
``savefig`` and wraps it in ``widgets.HTML`` (a PNG data URI or inline SVG), which no display
formatter sees, so the build's kernel records instead, at every ``savefig`` into a buffer, the same
figure saved with the same arguments once per Chinese edition (``figure_words.draw_editions``) and
the texts it drew (``kernel_startup.py``). The records go to the file named by ``ENVIRONMENT``;
``execute.run_chapter`` keeps them in the executed notebook's ``metadata.bookbuild``, keyed by the
English picture, so no cell's output changes. A Chinese edition's view then swaps each English
picture in the saved HTML for its own drawing, and translates the texts around the pictures and the
controls' labels (a slider's description, a toggle's options, a tab's titles) with the figures'
catalog. The English edition keeps the state as the chapter saved it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path

from . import figure_words
from .languages import ZH_TAG, Language

ENVIRONMENT = "BOOKBUILD_WIDGET_PICTURES"  # the file the build's kernel records the pictures in
KEY = "widget_pictures"  # where the executed notebook keeps them: metadata.bookbuild[KEY]
STATE_MIME = "application/vnd.jupyter.widget-state+json"
# The saved attributes that are words a reader sees: labels, or lists of them.
LABELS = ("description", "tooltip", "tooltips", "_options_labels", "titles", "_titles")
HTML_MODELS = ("HTMLModel", "HTMLMathModel")
DATA_URI = re.compile(r'src="data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/=\s]+)"')
INLINE_SVG = re.compile(r"(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE svg[^>]*>\s*)?(<svg\b.*?</svg>)", re.S)
TAG = re.compile(r"(<[^>]*>)")
STYLE = re.compile(r"<(style|metadata)\b.*?</\1>", re.S)  # an SVG's CSS and metadata: not shown
SURROUNDING_SPACE = re.compile(r"^(\s*)(.*?)(\s*)$", re.S)


def picture_key(picture: bytes | str) -> str:
    """The name of an English picture: a PNG's bytes or an SVG's ``<svg>`` element, its white space
    folded (chapters fold an SVG's lines to one before keeping it)."""
    if isinstance(picture, str):
        svg = INLINE_SVG.search(picture)
        picture = " ".join((svg[1] if svg else picture).split()).encode()
    return hashlib.sha256(picture).hexdigest()[:32]


def record(path: str, figure, picture: bytes | str, draw) -> None:
    """Append to ``path`` what a Chinese edition needs of ``picture``, the English ``figure`` saved by
    ``draw(figure)``: the texts it drew and, when some translate, each edition's picture."""
    editions = figure_words.draw_editions(figure, draw)
    entry = {"key": picture_key(picture), "texts": figure_words.figure_texts(figure),
             "editions": {code: _as_text(data) for code, data in editions.items()}}
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _as_text(picture: bytes | str) -> str:
    return base64.b64encode(picture).decode("ascii") if isinstance(picture, bytes) else picture


def read_records(path: Path) -> dict[str, dict]:
    """The recorded pictures, by key; none when the kernel recorded nothing."""
    if not path.exists():
        return {}
    entries = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {entry.pop("key"): entry for entry in entries}


def in_language(widgets: dict, pictures: dict[str, dict], lang: Language) -> dict:
    """``widgets`` (a notebook's ``metadata.widgets``) as ``lang``'s edition shows it: for a Chinese
    edition, each recorded picture drawn for it and every label and text translated."""
    if lang.tag != ZH_TAG:
        return widgets
    saved = widgets[STATE_MIME]
    models = {model_id: {**model, "state": _state_in(model, pictures, lang)}
              for model_id, model in saved["state"].items()}
    return {**widgets, STATE_MIME: {**saved, "state": models}}


def _state_in(model: dict, pictures: dict[str, dict], lang: Language) -> dict:
    state = dict(model["state"])
    for name in LABELS:
        if isinstance(state.get(name), str):
            state[name] = figure_words.translate(state[name], lang)
        elif isinstance(state.get(name), list):
            state[name] = [figure_words.translate(label, lang) if isinstance(label, str) else label
                           for label in state[name]]
    if isinstance(state.get("value"), str):
        if model["model_name"] in HTML_MODELS:
            state["value"] = html_in(state["value"], pictures, lang)
        elif model["model_name"] == "LabelModel":
            state["value"] = figure_words.translate(state["value"], lang)
    return state


def html_in(value: str, pictures: dict[str, dict], lang: Language) -> str:
    """An HTML widget's value in ``lang``: its recorded pictures swapped for the edition's drawings,
    then every text between its tags translated (a hand-drawn SVG's too; a drawing swapped in is
    in the edition's words already, and translating a line twice changes nothing)."""
    value = DATA_URI.sub(lambda found: _png_in(found, pictures, lang), value)
    value = INLINE_SVG.sub(lambda found: _svg_in(found, pictures, lang), value)
    return "".join(part if TAG.fullmatch(part) else _text_in(part, lang) for part in TAG.split(value))


def edition(picture: bytes | str, pictures: dict[str, dict], lang: Language) -> str | None:
    """The recorded drawing of an English picture for ``lang``, or None."""
    return pictures.get(picture_key(picture), {}).get("editions", {}).get(lang.code)


def _png_in(found: re.Match, pictures: dict[str, dict], lang: Language) -> str:
    drawn = edition(base64.b64decode(found[2]), pictures, lang)
    return found[0] if drawn is None else f'src="data:image/{found[1]};base64,{drawn}"'


def _svg_in(found: re.Match, pictures: dict[str, dict], lang: Language) -> str:
    drawn = edition(found[1], pictures, lang)
    if drawn is None:
        return found[0]
    return found[0][:found.start(1) - found.start(0)] + INLINE_SVG.search(drawn)[1]


def _text_in(text: str, lang: Language) -> str:
    """A text of the HTML translated line by line, its surrounding white space kept."""
    before, words, after = SURROUNDING_SPACE.match(text).groups()
    words = html.unescape(words)
    translated = figure_words.translate(words, lang)
    return text if translated == words else before + html.escape(translated, quote=False) + after


def texts(value: str) -> list[str]:
    """The texts of an HTML value outside its pictures' tags: what a reader reads around them and in a
    hand-drawn SVG. A matplotlib SVG's texts are in its comments (``figure_words.drawn_texts``)."""
    return [html.unescape(part).strip() for part in TAG.split(STYLE.sub("", value))
            if not TAG.fullmatch(part) and part.strip()]
