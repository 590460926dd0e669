"""Figures: every figure of a chapter declares its caption and alt text in both languages, and its
words read in Chinese in the Chinese editions."""

from __future__ import annotations

import re
from types import SimpleNamespace

from bookbuild import figure_words, figures, vocabulary
from bookbuild.languages import SEPARATOR, language

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


def test_a_line_that_differs_from_a_row_only_in_its_numbers_takes_the_rows_translation():
    """A slider's states write one line with other numbers; one catalog row translates them all."""
    traditional, simplified = (language(code) for code in ("zh-hant", "zh-hans"))
    assert figure_words.translate("remembering: $c_t = f^t$  (f = 0.5)", traditional) == "記住：$c_t = f^t$（f = 0.5）"
    assert figure_words.translate("accumulating: $c_{20}$ = 10.00", simplified) == "累积：$c_{20}$ = 10.00"
    assert figure_words.translate("loss at z = +6: CE 0.002, MSE −0.5", traditional) \
        == "z = +6 時的損失：CE 0.002，MSE −0.5", "a sign is part of its number"
    assert figure_words.translate("loss at z: CE 0.002", traditional) == "loss at z: CE 0.002", \
        "a line with fewer numbers is another line"
    assert figure_words.translate("1.5", traditional) == "1.5", "a number alone stays"


def test_a_row_whose_translation_moves_its_numbers_is_no_pattern(monkeypatch):
    """Its numbers could not be put back in their places, so only the row's own line is translated."""
    monkeypatch.setattr(figure_words, "catalog", lambda: {"3 of 8 modes": "8 個中的 3 個", "step 1": "第 1 步"})
    monkeypatch.setattr(figure_words, "number_patterns", figure_words.number_patterns.__wrapped__)
    assert figure_words.translate_line("3 of 8 modes") == "8 個中的 3 個", "the row's own line"
    assert figure_words.translate_line("5 of 8 modes") == "5 of 8 modes", "numbers moved: not a pattern"
    assert figure_words.translate_line("step 20") == "第 20 步", "the other row is one"


def test_words_in_capitals_and_quoted_words_are_written_as_they_are():
    assert figure_words.untranslated("AAB 0.25，IOU") == [], "abbreviations and symbol sequences stay"
    assert figure_words.untranslated("把「attention」翻譯成中文") == [], "a quoted word stays"
    assert figure_words.untranslated("把“attention”翻译成中文") == [], "in the Simplified edition's quotes too"
    assert figure_words.untranslated("把 attention 翻譯成中文") == ["attention"], "an unquoted word is English"


def _savefig_notebook():
    """A chapter's way of keeping a control's states: figures saved into buffers, never displayed."""
    import nbformat

    source = """import io
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.set(title="training", xlabel="step 3")
png, svg = io.BytesIO(), io.StringIO()
fig.savefig(png, format="png", dpi=20)
with plt.rc_context({"svg.fonttype": "none"}):
    fig.savefig(svg, format="svg")
plt.close(fig)
open("english.png", "wb").write(png.getvalue())
print(open("english.svg", "w").write(" ".join(svg.getvalue().split())))"""
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


def test_the_builds_kernel_records_each_saved_picture_in_each_edition_and_a_students_records_nothing(tmp_path):
    import base64

    from bookbuild import execute, widget_words

    recorded, student = tmp_path / "build.jsonl", tmp_path / "student.jsonl"
    nb = _savefig_notebook()
    execute.run_notebook(nb, tmp_path, environment={**execute.build_environment(1),
                                                    widget_words.ENVIRONMENT: str(recorded)})
    pictures = widget_words.read_records(recorded)
    png, svg = (tmp_path / "english.png").read_bytes(), (tmp_path / "english.svg").read_text()
    assert set(pictures) == {widget_words.picture_key(png), widget_words.picture_key(svg)}, pictures.keys()
    drawn_png = pictures[widget_words.picture_key(png)]
    assert {"training", "step 3"} <= set(drawn_png["texts"]), drawn_png["texts"]
    assert set(drawn_png["editions"]) == {"zh-hant", "zh-hans"}, "one drawing per Chinese edition"
    assert base64.b64decode(drawn_png["editions"]["zh-hant"]).startswith(b"\x89PNG"), "a PNG, as the chapter's"
    drawn_svg = pictures[widget_words.picture_key(svg)]["editions"]
    assert ">訓練<" in drawn_svg["zh-hant"] and ">第 3 步<" in drawn_svg["zh-hant"], "the texts as text, translated"
    assert ">训练<" in drawn_svg["zh-hans"], "the Simplified edition converts"
    students = _savefig_notebook()
    execute.run_notebook(students, tmp_path, environment={**execute.kernel_environment(1),
                                                          widget_words.ENVIRONMENT: str(student)})
    assert not student.exists(), "a kernel without the build's startup recorded pictures"
    assert students.cells[0].outputs == nb.cells[0].outputs, "the recording changed the cell's output"
