"""One vocabulary for the whole book: the words its prose does not use.

The book is written in Taiwan usage and in American English, and the
Simplified Chinese edition is converted from the Traditional text. Mainland
terms typed into the Traditional text (偏置, 激活, 歸一化, 信息) are wrong for
Taiwan readers and survive the conversion unchanged, so nobody notices them
in either edition; a bare 行/列 for row/column means the opposite on each side
of the strait. British spellings (normalise) mix with American ones
(normalize). Reviews kept finding these one at a time, so they are listed here
once and checked on every chapter and page (``python -m bookbuild check``).

Only prose is checked: code, inline code, math, and quotations of the notes
(inside 「」, which keep the note's own words, converted character by
character) are left out. Each entry is a pattern and the word to use instead;
a pattern is kept only when it cannot match correct Taiwan text (橫列向量 is not
列向量, 邏輯斯迴歸 is not 邏輯迴歸; 算法 is left out, since 兩種算法 is fine Taiwan
usage for two ways of computing).
"""

from __future__ import annotations

import re

from nbformat import NotebookNode

from . import cells
from .languages import EN_TAG, ZH_TAG

# Traditional Chinese: (pattern, what the book writes instead)
ZH_AVOID: tuple[tuple[str, str], ...] = (
    ("偏置", "偏值 (a bias parameter) or 偏差 (statistical or model bias)"),
    ("激活|活化函數", "激勵 (激勵函數, activation function)"),
    ("歸一化", "正規化 (normalization)"),
    ("邏輯[迴回]歸", "邏輯斯迴歸 (logistic regression)"),
    ("(?<![橫直])[行列]向量", "橫列向量 (row vector) or 直行向量 (column vector)"),
    (r"第\s*[0-9０-９a-zA-Z]+\s*列", "第 k 橫列 (row k); a bare 列 reads as a column on the mainland"),
    ("信息", "資訊"),
    ("數據", "資料"),
    ("默認", "預設"),
    ("內存", "記憶體"),
    ("程序員|應用程序|源程序|源代碼", "程式設計師, 應用程式, 原始碼"),
    ("調用", "呼叫"),
    ("軟件|硬件", "軟體, 硬體"),
    ("網絡", "網路"),
    ("視頻", "影片"),
    ("變量", "變數"),
    ("批量", "批次 (batch)"),
    ("緩存", "快取"),
    ("線程", "執行緒"),
    ("模塊", "模組"),
    ("字符", "字元"),
    ("打印", "印出"),
    ("魯棒", "穩健"),
    ("概率", "機率"),
    ("矢量", "向量"),
)

# British spellings, American replacement: -ise/-isation/-yse.
_ISE_STEMS = (
    "normal", "regular", "optim", "minim", "maxim", "initial", "parametr", "parameter", "general",
    "visual", "summar", "character", "recogn", "organ", "real", "util", "penal", "standard",
    "vector", "token", "random", "emphas", "serial", "discret", "central", "special", "linear",
    "stabil", "categor", "memor", "binar", "quant", "capital", "final", "local", "global",
    "author", "apolog", "critic", "harmon", "synchron", "custom", "priorit", "symbol", "polar",
    "neutral", "digit", "sanit", "equal", "fertil", "theor", "hypothes", "modern", "parallel", "margin",
)
EN_AVOID: tuple[tuple[str, str], ...] = (
    (r"\b(?:" + "|".join(sorted(set(_ISE_STEMS))) + r")is(?:e|es|ed|ing|ation|ations|er|ers|able)\b",
     "the -ize spelling (normalize, normalization)"),
    (r"\b(?:analy|paraly|cataly)s(?:e|ed|ing)\b", "the -yze spelling (analyze)"),
)

_ZH = [(re.compile(p), advice) for p, advice in ZH_AVOID]
_EN = [(re.compile(p, re.IGNORECASE), advice) for p, advice in EN_AVOID]

_NOT_PROSE = re.compile(
    r"```.*?```"            # code blocks
    r"|`[^`\n]*`"           # inline code
    r"|\$\$.*?\$\$"         # display math
    r"|\$[^$\n]*\$"         # inline math
    r"|「[^」]*」"           # quotations of the notes keep their own words
    r"|\{[a-z]+\}`[^`]*`"   # roles such as {doc}`...`
    r"|https?://\S+",
    re.S)


def prose_only(text: str) -> str:
    return _NOT_PROSE.sub(" ", text)


def zh_problems(text: str) -> list[tuple[str, str]]:
    """(word found, advice) for each avoided word in Traditional Chinese prose."""
    prose = prose_only(text)
    return [(m.group(0), advice) for pattern, advice in _ZH for m in pattern.finditer(prose)]


def en_problems(text: str) -> list[tuple[str, str]]:
    """(word found, advice) for each British spelling in English prose."""
    prose = prose_only(text)
    return [(m.group(0), advice) for pattern, advice in _EN for m in pattern.finditer(prose)]


def notebook_problems(nb: NotebookNode, where: str) -> list[str]:
    """Every avoided word in the prose cells of a chapter or page, one line each."""
    problems = []
    for i, cell in enumerate(nb.cells):
        tag = cells.prose_tag(cell) if cell.cell_type == "markdown" else None
        found = zh_problems(cell.source) if tag == ZH_TAG else en_problems(cell.source) if tag == EN_TAG else []
        for word, advice in found:
            problems.append(f"{where}: cell {i} ({tag}) writes {word!r}; the book writes {advice}")
    return problems
