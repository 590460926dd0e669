"""The reading languages of the book.

Prose is written twice in the source, as Traditional Chinese cells (tag
``lang-zh``) and English cells (tag ``lang-en``). Simplified Chinese is not
written by hand: it is the Traditional Chinese text converted with OpenCC's
Taiwan-to-mainland phrase table (``tw2sp``), which also swaps Taiwan terms for
mainland ones (程式 -> 程序, 記憶體 -> 内存).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

ZH_TAG = "lang-zh"
EN_TAG = "lang-en"
PROSE_TAGS = (ZH_TAG, EN_TAG)
SEPARATOR = " | "  # bilingual strings in _config.yml and _toc.yml read "Chinese | English"


@dataclass(frozen=True)
class Language:
    code: str          # folder of this language under _build/html/
    tag: str           # prose cells shown in this language
    sphinx: str        # Sphinx `language`
    label: str         # name in the language switcher
    simplified: bool = False

    def text(self, traditional_or_english: str) -> str:
        """Prose of this language from the prose cell selected by ``tag``."""
        return to_simplified(traditional_or_english) if self.simplified else traditional_or_english

    def pick(self, bilingual: str) -> str:
        """This language's half of a "Chinese | English" string."""
        if SEPARATOR not in bilingual:
            return bilingual
        zh, en = bilingual.split(SEPARATOR, 1)
        return self.text(zh.strip() if self.tag == ZH_TAG else en.strip())


LANGUAGES = (
    Language("zh-hant", ZH_TAG, "zh_TW", "繁體中文"),
    Language("en", EN_TAG, "en", "English"),
    Language("zh-hans", ZH_TAG, "zh_CN", "简体中文", simplified=True),
)


def language(code: str) -> Language:
    for lang in LANGUAGES:
        if lang.code == code:
            return lang
    raise KeyError(f"unknown language {code!r}; choose one of {[l.code for l in LANGUAGES]}")


# Where tw2sp's general-purpose choice is not what mainland machine-learning
# texts say (向量 is not the physics term 矢量, a sequence is not a serial port
# 串行, stacked weights are not a call stack 堆栈). Applied in this order, to the
# converted text: longer phrases first.
MAINLAND_ML_TERMS = {
    "矢量": "向量", "串行": "序列", "堆栈": "堆叠", "查找": "查询",
    "对数概似": "对数似然", "概似": "似然", "变异数": "方差", "常态分布": "正态分布",
    "杂讯": "噪声", "逻辑斯回归": "逻辑回归", "对象侦测": "目标检测", "侦测": "检测",
    "蒙地卡罗": "蒙特卡罗", "滑杆": "滑块", "动差": "矩", "不偏估计": "无偏估计",
    "边际分布": "边缘分布", "分群": "聚类", "保存格": "单元格", "预设": "默认", "笔电": "笔记本电脑",
    # tw2sp reads 正規化 (normalization) as 範式 (normal form); the book never means the latter.
    "范式": "归一化", "偏值": "偏置", "激励函数": "激活函数", "多层感知器": "多层感知机",
    "数据扩增": "数据增强", "模式崩塌": "模式崩溃", "海森矩阵": "黑塞矩阵",
    "投视频": "幻灯片",  # 投影片 (slides): the 影片 -> 视频 rule fires inside the word
    # 線上 (online) -> 在线 fires inside "on the curve/line": 曲線上, 對角線上, 直線上, 折線上.
    "曲在线": "曲线上", "对角在线": "对角线上", "直在线": "直线上", "折在线": "折线上",
    "暖身": "预热", "程序格": "代码单元格",
    "贪婪解码": "贪心解码", "贪婪搜索": "贪心搜索", "调度采样": "计划采样",
    "链接时序": "连接时序", "符记": "词元", "傅里叶转换": "傅里叶变换", "音框": "帧", "辨识": "识别",
    "随机漫步": "随机游走",
    # 平行 is "parallel" computing in this book (never geometry); 推论 is inference, not a corollary.
    "平行": "并行", "推论": "推理",
    "闸门": "门", "实作": "实现", "演算法": "算法", "区块": "块",  # 编码器区块 -> 编码器块, 残差区块 -> 残差块
    # Mainland typography quotes with “” and ‘’ where Taiwan uses 「」 and 『』.
    "「": "“", "」": "”", "『": "‘", "』": "’",
}


@lru_cache(maxsize=1)
def _converter():
    from opencc_purepy import OpenCC

    return OpenCC("tw2sp")


def to_simplified(text: str) -> str:
    converted = _converter().convert(text)
    for general, ml in MAINLAND_ML_TERMS.items():
        converted = converted.replace(general, ml)
    return converted


def phrase_changes(text: str) -> list[tuple[str, str]]:
    """The words the Simplified Chinese edition changes beyond converting characters.

    Character-by-character conversion (``tw2s``) is compared with the edition's
    conversion, so an author can review every Taiwan term that became another
    word (程式 -> 程序) and catch the ones that are wrong in this book.
    """
    import difflib

    from opencc_purepy import OpenCC

    plain, edition = OpenCC("tw2s").convert(text), to_simplified(text)
    changes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, plain, edition, autojunk=False).get_opcodes():
        if op != "equal":
            pair = (text[max(0, i1 - 2):i2 + 2], edition[max(0, j1 - 2):j2 + 2])
            if pair not in changes:
                changes.append(pair)
    return changes
