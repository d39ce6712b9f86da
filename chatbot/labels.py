"""The grammar of statute numbers and citation labels: 第X条, 第X条第Y款, 第X条第Y款第Z项.

Every module that reads or writes a label goes through here, so the numeral class, the label pattern
and the label format exist once. A parsed label is a `Label`; it may name its regulation
(《中华人民共和国中小企业促进法》第十条), which callers resolve against the laws they hold.

    parse_label("第十条第二款") -> Label(article=10, paragraph=2)
    parse_label("【第１０条】") -> Label(article=10)
    parse_label("《标准化法》第10条") -> Label(article=10, regulation="标准化法")
    parse_label("中小企业促进法第十条") -> Label(article=10, regulation="中小企业促进法")
    format_label(10, 2) -> "第十条第二款"
    parse_label("题注") -> Label(article=0)      (the title and adoption note: article number 0)
    article_refs("第十条第二款和第19条讲什么") -> [Label(10, 2), Label(19)]

Numerals themselves (一百零一 <-> 101) are `chatbot.numerals`; what a label points to is
`Regulation.resolve` in `chatbot.corpus`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .numerals import NUMERAL_CHARS, to_chinese, to_int

# a statute number: Chinese numerals, ASCII digits or full-width digits (model output and PDFs use all three)
NUM = f"[{NUMERAL_CHARS}0-9０-９]+"
# the title and adoption note (题注: who adopted the text, when) are cited as 【题注】; where an article
# number is expected they are article 0, which no statute uses
PREAMBLE = 0
PREAMBLE_LABEL = "题注"
_LAW = r"《(?P<law>[^《》]{1,40})》\s*"
# a law named without 《》 right before the number, as labels of other laws than the primary are written:
# 中小企业促进法第十条, 款项支付条例第八条第二款, 本条例第十条 (the name ends in 法, 条例, 规定 or 办法), and an
# old version by its year: 2020年版款项支付条例第八条
_BARE_LAW = r"(?P<bare>(?:\d{4}年版)?[\u4e00-\u9fff]{1,30}?(?:法|条例|规定|办法))"
# 第X条, optionally 第Y款 and 第Z项, or 题注, optionally after a law's title in 《》; spaces tolerated inside
LABEL_PATTERN = re.compile(
    rf"(?:{_LAW}|{_BARE_LAW})?(?:第\s*(?P<a>{NUM})\s*条(?:\s*第\s*(?P<p>{NUM})\s*款)?(?:\s*第\s*(?P<i>{NUM})\s*项)?"
    rf"|(?P<pre>{PREAMBLE_LABEL}))")
# a reference in a question: 第十条 / 第10条 (optionally 第二款), or a bare 十八条 at the start or after a
# marker word (条例十八条, 看十八条); 一条/两条/几条 are counts, not article numbers
_QUESTION_REF = re.compile(
    rf"(?:第\s*(?P<n1>{NUM})\s*条|(?:^|(?<=[\s，。？！、：,.?!:（(“\"条例看查问讲说]))(?P<n2>{NUM})条)"
    rf"(?:\s*第\s*(?P<p>{NUM})\s*款)?")
_COUNT_WORDS = ("一", "两", "几")


@dataclass(frozen=True)
class Label:
    """A parsed citation: article, optional paragraph (款) and item (项), optional regulation."""

    article: int
    paragraph: int | None = None
    item: int | None = None
    regulation: str | None = None   # the law's title or short name as written; None = not named

    @property
    def text(self) -> str:
        """The label without its regulation: 第十条第二款第三项."""
        return format_label(self.article, self.paragraph, self.item)

    @property
    def full(self) -> str:
        """The label with its regulation when it names one: 《标准化法》第十条."""
        return f"《{self.regulation}》{self.text}" if self.regulation else self.text


def format_label(article: int, paragraph: int | None = None, item: int | None = None, law: str = "") -> str:
    """The canonical label: format_label(10) -> 第十条, format_label(5, 2, 3) -> 第五条第二款第三项,
    format_label(0) -> 题注; a law other than the primary names itself first:
    format_label(10, law="中小企业促进法") -> 中小企业促进法第十条."""
    if article == PREAMBLE:
        return law + PREAMBLE_LABEL
    out = f"{law}第{to_chinese(article)}条"
    if paragraph:
        out += f"第{to_chinese(paragraph)}款"
    if item:
        out += f"第{to_chinese(item)}项"
    return out


def _label(m: re.Match) -> Label | None:
    law = m.group("law") or m.group("bare")
    if m.group("pre"):
        return Label(PREAMBLE, regulation=law.strip() if law else None)
    try:
        a = to_int(m.group("a"))
        p = to_int(m.group("p")) if m.group("p") else None
        i = to_int(m.group("i")) if m.group("i") else None
    except ValueError:
        return None
    return Label(a, p, i, law.strip() if law else None)


def parse_label(text: str) -> Label | None:
    """The label that `text` is, whole (brackets 【】[] and spaces around it allowed), or None.

    parse_label("第五条第二款第三项") -> Label(5, 2, 3); parse_label("第十条说了什么") -> None
    """
    m = LABEL_PATTERN.fullmatch(text.strip().strip("【】[]").strip())
    return _label(m) if m else None


def find_labels(text: str) -> Iterator[tuple[re.Match, Label]]:
    """Every label written in running text, with its match (for positions and the text as written).

    [l for _, l in find_labels("见第十条和第１９条第二款")] -> [Label(10), Label(19, 2)]
    """
    for m in LABEL_PATTERN.finditer(text):
        label = _label(m)
        if label is not None:
            yield m, label


def article_refs(question: str) -> list[Label]:
    """Articles (and paragraphs) a question names, in order, without repeats.

    article_refs("十八条说了什么") -> [Label(18)];  article_refs("哪一条规定了用地") -> []
    """
    return [ref for _, ref in article_refs_at(question)]


def without_article_refs(question: str) -> str:
    """The question with the articles it names taken out: without_article_refs("第十条第二款讲什么") -> "讲什么"."""
    return _QUESTION_REF.sub("", question)


def article_refs_at(question: str) -> list[tuple[int, Label]]:
    """`article_refs` with where each reference starts in the question (to tell whose law it is)."""
    refs: list[tuple[int, Label]] = []
    for m in _QUESTION_REF.finditer(question):
        num = m.group("n1") or m.group("n2")
        if m.group("n2") and num in _COUNT_WORDS:
            continue
        try:
            ref = Label(to_int(num), to_int(m.group("p")) if m.group("p") else None)
        except ValueError:
            continue
        if ref not in [r for _, r in refs]:
            refs.append((m.start(), ref))
    return refs
