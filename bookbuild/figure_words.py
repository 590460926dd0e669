"""The words of the figures in every edition: one catalog, and a figure drawn again per edition.

A chapter runs once, so matplotlib draws each figure's text once, in English. The build's kernel
(not a student's: see ``kernel_startup.py``) draws every figure a second and a third time, with each
text looked up in ``figure_words.csv`` (English -> Traditional Chinese; the Simplified edition
converts the Traditional words as it converts prose), and the view of each edition shows its own
drawing. Drawing again rather than replacing words in the finished SVG keeps matplotlib in charge
of the layout: a title stays centered, a legend's box fits its new words, a label that mixes words
and math ("steps back in time $T$") is typeset whole, and the text stays glyph outlines, so a
figure looks the same on every reader's machine. Chinese text is set in Noto Sans CJK (the
Debian package fonts-noto-cjk), the Traditional or Simplified face, falling back to the text's own
font for a glyph the CJK face lacks (v̂); the words of a line that mixes Chinese and math are set in
the CJK face alone, which has Latin letters too, since mathtext takes a single font for them.

The catalog maps whole lines of a figure's texts; a line it does not list is drawn as it is, unless
it differs from a listed line only in its numbers (a slider's state: "remembering (f = 0.5)" read
with the row for "remembering (f = 0.9)"), when the row's translation is written with the line's
numbers. So a line that changes with the state needs one row, not one per state.
``untranslated`` names the English words a Chinese edition would still show; names, code,
abbreviations, quoted words and the chapters' example data (``NAMES``) are written the same in every
edition. The pictures a control switches between are drawn again the same way (``widget_words.py``).
"""

from __future__ import annotations

import csv
import html
import re
from functools import lru_cache
from pathlib import Path

from .languages import LANGUAGES, ZH_TAG, Language

CATALOG = Path(__file__).with_name("figure_words.csv")
EDITIONS_KEY = "application/vnd.bookbuild.figure-editions+json"  # the extra drawings, by edition code
CJK_FONTS = {"zh-hant": "Noto Sans CJK TC", "zh-hans": "Noto Sans CJK SC"}
CJK = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
MATH = re.compile(r"\$[^$]*\$")
# Words quoted as they are written (a prompt asking to translate one); the Simplified edition's quotes too.
QUOTED = re.compile(r"「[^」]*」|“[^”]*”")
# A word: two letters or more, not part of a symbol (x_i, B3), an attribute (.grad) or a call (model(X)).
WORD = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z'-]*[A-Za-z](?![\w(=.])")
# A number of a line, with its sign: what may change from one state of a control to the next.
NUMBER = re.compile(r"[-+\u2212]?\d+(?:\.\d+)?")
DRAWN_TEXT = re.compile(r"<!-- (.*?) -->", re.S)  # matplotlib writes each line it draws in a comment
NAMES = frozenset("""
    Adam AG AlexNet all-reduce alpha Amsterdam AND autograd Ba Bahdanau BasicBlock BatchNorm Bengio beta bos
    Bottleneck Bradley Cat CE Cho CIOU CNN Concat Conv critic CVAE DataLoader Dataset dB Dense device DIOU dx
    Edge ELBO EMA epoch EWC Facebook False FedAvg FFN FGM FGSM Flatten GAN GCN GD GELU GIOU Goodfellow Google
    GraphRAG hardsigmoid Hi Hochreiter HTK Huber Hz IDSIA IID Inception IOU IQR is Jacobian Kingma Kipf lang
    Laplacian lasso LayerNorm LeNet Lewis Linear LLM LN log log-mel logit LoRA LSTM MAC MACs MAE mat MHA
    Microsoft minimax MIPS MLP momentum ms MSE Munich nats NLL NMS Officer on OpenAI PCA PGD pi pos Radford
    RAG recall Redmon ReLU ridge ring RLHF RMSProp RNN RS Schmidhuber SFT SGD sigmoid SiLU sleeping Sobel
    softmax SOT SPPF Tanh tanh task Terry text TF-IDF the Toronto Transformer Transformer-base True TU VAE
    Vaswani VGG Washington Welling Whisper XOR Yes YOLO
    src tgt enc dec xattn optimizer dropout eps RAG-Token
""".split())


@lru_cache(maxsize=1)
def catalog() -> dict[str, str]:
    """English line -> Traditional Chinese line."""
    with CATALOG.open(encoding="utf-8", newline="") as file:
        return {row["en"]: row["zh_hant"] for row in csv.DictReader(file)}


@lru_cache(maxsize=1)
def number_patterns() -> dict[str, str]:
    """The catalog's rows with numbers, keyed by their English with the numbers left out: the rows a
    line matches when it differs only in its numbers. A row whose translation writes other numbers,
    or the same in another order, cannot take a line's numbers, and is left out."""
    return {NUMBER.sub("\0", en): zh for en, zh in catalog().items()
            if NUMBER.search(en) and NUMBER.findall(en) == NUMBER.findall(zh)}


def translate_line(line: str) -> str:
    """One line in Traditional Chinese: its catalog row, or the row of a line that differs from it only
    in its numbers with the numbers of ``line`` written in; unknown lines kept."""
    if line in catalog():
        return catalog()[line]
    pattern = number_patterns().get(NUMBER.sub("\0", line))
    if pattern is None:
        return line
    numbers = iter(NUMBER.findall(line))
    return NUMBER.sub(lambda _: next(numbers), pattern)


def translate(text: str, lang: Language) -> str:
    """A figure's text in ``lang``: each line translated by ``translate_line``."""
    if lang.tag != ZH_TAG:
        return text
    return "\n".join(lang.text(translate_line(line)) for line in text.split("\n"))


def untranslated(text: str) -> list[str]:
    """The English words of a Chinese edition's figure text, outside math, quotes, names and code. A
    word in capitals only is an abbreviation or a sequence of symbols (LSTM, IOU; chapter 12's tokens
    AAB), written the same in every edition."""
    words = WORD.findall(QUOTED.sub(" ", MATH.sub(" ", text)))
    return [w for w in words if w not in NAMES and re.search("[A-Za-z]{2}", w) and not w.isupper()]


def drawn_texts(svg: str) -> list[str]:
    """The lines of text matplotlib drew in an SVG."""
    return [html.unescape(text) for text in DRAWN_TEXT.findall(svg)]


def figure_texts(figure) -> list[str]:
    """The texts a figure draws, tick labels included."""
    return [artist.get_text() for artist in _text_artists(figure)]


def _text_artists(figure) -> list:
    """The figure's Text artists that draw a text, once laid out: tick labels are written by their
    axis's formatter at every drawing."""
    from matplotlib.text import Text

    figure.draw_without_rendering()
    return [artist for artist in figure.findobj(Text) if artist.get_text()]


def chinese_editions() -> list[Language]:
    return [lang for lang in LANGUAGES if lang.tag == ZH_TAG]


def draw_editions(figure, draw) -> dict[str, str]:
    """Each Chinese edition's drawing of ``figure`` by ``draw(figure)``, its texts translated;
    empty when no text changes. The figure is left as it was.

    Tick labels are written by their axis's formatter at every drawing, so a translated one is
    given to a formatter that writes the edition's labels for the time of the drawing."""
    from matplotlib.ticker import FixedFormatter

    texts = [(t, t.get_text(), t.get_fontfamily()) for t in _text_artists(figure)]
    axes = [(axis, axis.get_major_formatter(), axis.isDefault_majfmt,
             [label.get_text() for label in axis.get_majorticklabels()])
            for ax in figure.axes for axis in (ax.xaxis, ax.yaxis)]
    drawings = {}
    try:
        for lang in chinese_editions():
            translated = [translate(text, lang) for _, text, _ in texts]
            if translated == [text for _, text, _ in texts]:
                return {}
            for (artist, _, family), words in zip(texts, translated):
                artist.set_text(words)
                artist.set_fontfamily([CJK_FONTS[lang.code], *family] if CJK.search(words) else family)
            for axis, _, _, labels in axes:
                if [translate(label, lang) for label in labels] != labels:
                    axis.set_major_formatter(FixedFormatter([translate(label, lang) for label in labels]))
            drawings[lang.code] = draw(figure)
    finally:
        for artist, text, family in texts:
            artist.set_text(text)
            artist.set_fontfamily(family)
        for axis, formatter, default, _ in axes:
            axis.set_major_formatter(formatter)
            axis.isDefault_majfmt = default
    return drawings
