"""Figures: every figure of a chapter declares its caption and alt text in both languages, and its
words read in Chinese in the Chinese editions."""

from __future__ import annotations

import re
from types import SimpleNamespace

from bookbuild import figure_words, figures, vocabulary
from bookbuild.languages import SEPARATOR

CJK = re.compile(r"[\u4e00-\u9fff]")


def halves(bilingual: str) -> tuple[str, str]:
    zh, _, en = bilingual.partition(SEPARATOR)
    return zh.strip(), en.strip()


def test_every_figure_declares_a_caption_and_alt_text_in_both_languages(executed, chapter):
    found = []
    for index, cell in enumerate(executed[chapter.id].cells):
        declared = figures.declaration(cell)
        if cell.cell_type != "code" or not figures.is_figure(cell):
            if declared is not None:
                found.append(f"cell {index} declares a figure but shows none")
            continue
        if declared is None or set(declared) != set(figures.FIELDS):
            found.append(f"cell {index} ({cell.id}) shows a figure without a caption and alt text")
            continue
        (caption_zh, caption_en), (alt_zh, alt_en) = halves(declared["caption"]), halves(declared["alt"])
        for name, zh, en in (("caption", caption_zh, caption_en), ("alt", alt_zh, alt_en)):
            if not (CJK.search(zh) and en and not CJK.search(en)):
                found.append(f"cell {index}: the {name} is not 'Chinese | English': {declared[name]!r}")
            found += [f"cell {index}: the {name} writes {word!r}; the book writes {advice}"
                      for word, advice in vocabulary.zh_problems(zh) + vocabulary.en_problems(en)]
        if caption_zh == alt_zh or caption_en == alt_en:
            found.append(f"cell {index}: the alt text repeats the caption instead of describing the picture")
        if re.search(r"\$|\.(?:svg|png)\b|_build|\.\./", alt_en):
            found.append(f"cell {index}: the alt text holds TeX or a path: {alt_en!r}")
    assert not found, "\n".join(found)


def test_figure_numbers_restart_in_every_chapter_with_its_number():
    """Sphinx counts figures over the whole book; a chapter's page shows (chapter, k)."""
    fignumbers = {"notebooks/ch10_rnn/ch10_rnn": {"figure": {"fig-b": (31,), "fig-a": (30,)}},
                  "book/intro": {"figure": {"fig-c": (7,)}}}
    app = SimpleNamespace(env=SimpleNamespace(toc_fignumbers=fignumbers))
    for docname in fignumbers:
        figures.number_by_chapter(app, None, docname)
    assert fignumbers["notebooks/ch10_rnn/ch10_rnn"]["figure"] == {"fig-a": (10, 1), "fig-b": (10, 2)}
    assert fignumbers["book/intro"]["figure"] == {"fig-c": (1,)}
    assert figures.chapter_number("notebooks/ch00_pytorch/ch00_pytorch") == 0


def test_chinese_editions_draw_no_english_word(executed, chapter):
    """Every figure's words read in Chinese in both Chinese editions (the build's kernel draws each
    figure per edition); names, code, numbers and math stay as they are."""
    found = []
    for index, cell in enumerate(executed[chapter.id].cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" not in data:
                continue
            drawings = data.get(figure_words.EDITIONS_KEY, {})
            for lang in figure_words.chinese_editions():
                for text in figure_words.drawn_texts(drawings.get(lang.code, data["image/svg+xml"])):
                    if figure_words.untranslated(text):
                        found.append(f"cell {index} ({lang.code}): {text!r} {figure_words.untranslated(text)}")
    assert not found, "\n".join(found)


def test_a_figure_is_drawn_again_in_each_chinese_edition_and_left_as_it_was():
    import io

    import matplotlib
    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    def draw(figure):
        buffer = io.StringIO()
        with plt.rc_context({"svg.hashsalt": "test"}):  # the same ids in every drawing, as in the book
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()

    figure, axes = plt.subplots()
    axes.plot([0, 1], label="ReLU network")
    axes.set(xlabel="steps back in time $T$", title="loss")
    axes.set_xticks([0, 1], ["train", "validation"])  # tick labels are rewritten at every drawing
    axes.legend()
    english = draw(figure)
    drawings = figure_words.draw_editions(figure, draw)
    traditional, simplified = (figure_words.drawn_texts(drawings[code]) for code in ("zh-hant", "zh-hans"))
    assert {"損失", "往回的時間步數 $T$", "ReLU 網路", "訓練", "驗證"} <= set(traditional)
    assert {"损失", "往回的时间步数 $T$", "ReLU 网络", "训练", "验证"} <= set(simplified)
    assert draw(figure) == english
    axes.set(xlabel="$x$", title="", xticks=[0, 1], xticklabels=["0", "1"])
    axes.get_legend().remove()
    assert figure_words.draw_editions(figure, draw) == {}  # nothing to translate, nothing drawn again
    plt.close(figure)


def test_untranslated_words_leave_names_code_and_math_alone():
    assert figure_words.untranslated("train, no zero_grad()") == ["train", "no"]
    assert figure_words.untranslated("訓練，沒有 zero_grad()；LSTM 與 $\\mathrm{ReLU}(x)$") == []
    assert figure_words.untranslated("model.to(device) 1e-8") == []
