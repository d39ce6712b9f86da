"""Parse a regulation in the 第X条 layout into articles (条), paragraphs (款) and items (项).

The source text is a lightly marked-up copy of the official text and carries artifacts that are
repaired here, never kept: markdown headings and bold, list dashes before items, half-width
punctuation inside Chinese prose, spaces around digits, and page breaks that split a sentence across
a blank line. A paragraph in a statute always ends with 。, or with ；/： before its items, so a line
that ends otherwise is joined to the next one.

One `Clause` (a paragraph with its items) is the unit used end to end: chunking, indexing, retrieval,
citations and display all carry it. The label grammar (第X条第Y款) is `chatbot.labels`; tokenizing is
`chatbot.tokens`, embedding `chatbot.embed`, and indexing `chatbot.index`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .labels import NUM, PREAMBLE, PREAMBLE_LABEL, Label, format_label, parse_label
from .numerals import to_int

ARTICLE_HEAD = re.compile(rf"^第({NUM})条[\s\u3000]*")
CHAPTER_HEAD = re.compile(rf"^第({NUM})章[\s\u3000]*(.*)$")
SECTION_HEAD = re.compile(rf"^第({NUM})节[\s\u3000]*(.*)$")
PART_HEAD = re.compile(rf"^第({NUM})编[\s\u3000]*(.*)$")  # the parts of a code: 第二编 物权
SUBPART_HEAD = re.compile(rf"^第({NUM})分编[\s\u3000]*(.*)$")  # a part's divisions: 第一分编 通则
# a chapter heading without a number: 附则 at the end of a law, 法律责任 in some regulations
UNNUMBERED_HEADINGS = ("总则", "分则", "附则", "罚则", "法律责任")
UNNUMBERED_HEAD = re.compile(rf"^(?:{'|'.join(UNNUMBERED_HEADINGS)})$")
# an item: （一）, (1); or 1． / 1、 in rules that number their items so (taken as items only under a
# paragraph that introduces a list, `_takes_items`)
ITEM_HEAD = re.compile(rf"^(?:[（(]({NUM})[）)]|(\d{{1,2}})[.．、](?!\d))")
TERMINALS = "。；：;:"
_CJK = r"\u3400-\u9fff\uff00-\uffef\u3000-\u303f"


class CorpusError(ValueError):
    """The text is not a regulation in the 第X条 layout, or it is malformed."""


@dataclass(frozen=True)
class Clause:
    """One paragraph (款) of one article, with the items (项) it contains."""

    id: str                 # stable id, e.g. "a10p2" (article 10, paragraph 2)
    article: int            # article number, 1-based
    paragraph: int          # paragraph number within the article, 1-based
    items: tuple[int, ...]  # item numbers (项) this paragraph contains, e.g. (1, 2, 3, 4)
    label: str              # citation label: 第十条第二款, or 第十条 for a one-paragraph article
    text: str               # the clause text; items on their own lines
    context: str = ""       # the article's opening phrase, for paragraphs after the first
    chapter: str = ""       # 第一章 总则 where the regulation has chapters
    section: str = ""       # 第一节 … where the chapter has sections
    regulation: str = ""    # the regulation's id (a slug, e.g. sme-promotion-law-2017)
    regulation_title: str = ""  # its full title, e.g. 中华人民共和国中小企业促进法

    @property
    def search_text(self) -> str:
        """What is embedded and indexed: the clause text alone.

        Prefixing later paragraphs with their article's opening phrase (`context`) was measured and
        lowered dense Hit@1 on both question sets (see README), so the context is kept for display only.
        The 题注 is searched by its adoption note alone: the title names the whole regulation, so it
        would match every question about "this regulation" (这个江西的条例对我有约束吗).
        """
        if self.article == PREAMBLE:
            return "\n".join(self.text.split("\n")[1:]) or self.text
        return self.text

    @property
    def text_with_context(self) -> str:
        return f"{self.context}：{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Article:
    number: int
    clauses: tuple[Clause, ...]
    chapter: str = ""

    @property
    def label(self) -> str:
        return format_label(self.number)

    @property
    def regulation(self) -> str:
        """The id of the regulation it belongs to."""
        return self.clauses[0].regulation if self.clauses else ""

    @property
    def text(self) -> str:
        return "\n".join(c.text for c in self.clauses)


@dataclass(frozen=True)
class Regulation:
    title: str
    adoption: str                  # the notes under the title, one a line: （2024年3月26日…会议通过）
    articles: tuple[Article, ...]
    sha256: str = ""               # hash of the source text, for index manifests
    chapters: tuple[str, ...] = field(default=())
    preamble: Clause | None = None  # title and adoption note as a citable clause, 【题注】 (article 0)
    id: str = ""                   # stable slug; "" for a regulation parsed on its own
    short: str = ""                # short name: 中小企业促进法; labels of a non-primary law start with it
    primary: bool = True           # the knowledge base's primary regulation: its labels name no law
    issuer: str = ""               # 全国人民代表大会常务委员会, 国务院, 江西省人民代表大会常务委员会
    adopted: str = ""              # YYYY-MM-DD of adoption (通过) or promulgation (公布)
    amended: tuple[str, ...] = field(default=())  # YYYY-MM-DD of each revision (修订) or amendment (修正)
    effective: str = ""            # YYYY-MM-DD the text says it takes effect (自…起施行)
    version: str = ""              # YYYY-MM-DD of this text: the latest of adoption and amendments
    status: str = "current"        # current, or superseded by a later version of the same title
    sections: tuple[str, ...] = field(default=())  # 第一节 … headings, as "第二章 …/第一节 …"
    warnings: tuple[str, ...] = field(default=())  # numbering gaps or repeats, paragraphs cut mid-sentence
    source: str = ""               # the file it was read from, relative to the corpus folder
    label_law: str = ""            # what its labels start with: "" (primary), 中小企业促进法, 2020年版款项支付条例

    @property
    def clauses(self) -> list[Clause]:
        """Every citable clause: the preamble (when there is one), then the articles' paragraphs."""
        return ([self.preamble] if self.preamble else []) + [c for a in self.articles for c in a.clauses]

    def article(self, number: int) -> Article | None:
        """Article `number`; article 0 is the preamble (title and adoption note), when there is one."""
        if number == PREAMBLE:
            return Article(PREAMBLE, (self.preamble,)) if self.preamble else None
        return self._by_number().get(number)

    def _by_number(self) -> dict[int, Article]:
        out: dict[int, Article] = {}
        for a in self.articles:
            out.setdefault(a.number, a)  # a repeated number (reported in `warnings`): the first one
        return out

    def __repr__(self) -> str:  # the whole text is too much for a log line or an assertion message
        return f"Regulation({self.id or self.title!r}, {len(self.articles)} articles, {self.status})"

    @property
    def law(self) -> str:
        """What its labels start with: "" for the primary regulation, else its short name (with the year of
        its version when a later one supersedes it)."""
        return self.label_law

    def names(self, law: str) -> bool:
        """Whether a law named in a label or question is this regulation (`law_matches`); a generic
        name (本条例, 本法) means the primary one."""
        if is_generic_law(law):
            return self.primary
        return law_matches(law, self.title, self.short)

    def resolve(self, label: str | Label) -> Clause | Article | None:
        """Map a citation label to what it names, or None if the regulation has no such clause.

        resolve("第五条第二款") -> Clause a5p2; resolve("第二条") -> Article 2;
        resolve("第五条第二款第三项") -> Clause a5p2 (the item lives in that paragraph);
        resolve("第三十条") -> None; resolve("《公司法》第十条") -> None (another law).
        """
        ref = parse_label(label) if isinstance(label, str) else label
        if ref is None or (ref.regulation is not None and not self.names(ref.regulation)):
            return None
        art = self.article(ref.article)
        if art is None:
            return None
        if ref.paragraph is None:
            if ref.item is not None:
                return None
            return art.clauses[0] if len(art.clauses) == 1 else art
        if not 1 <= ref.paragraph <= len(art.clauses):
            return None
        clause = art.clauses[ref.paragraph - 1]
        if ref.item is not None and ref.item not in clause.items:
            return None
        return clause

    def cite(self, clause: Clause, item: int | None = None) -> str:
        """The label that cites `clause` (and one of its items): 第十条 for a one-paragraph article."""
        single = len(self.article(clause.article).clauses) == 1
        return format_label(clause.article, None if single else clause.paragraph, item, law=self.law)


def clause_label(article: int, paragraph: int, n_paragraphs: int, law: str = "") -> str:
    """第十条 for a one-paragraph article, else 第十条第二款; a non-primary law's name goes first."""
    return format_label(article, None if n_paragraphs == 1 else paragraph, law=law)


GENERIC_LAW = re.compile(r"(?:^|本|该|此|这部|这个|上述|^依|^依照|^根据|^按照|^依据|^遵照)(?:法|条例|规定|办法)$")
PRC = "中华人民共和国"


def is_generic_law(law: str) -> bool:
    """本条例, 本法, 条例, 依法, 享受本条例: words that name no particular law (in a label they mean the
    primary); 公司法 names one."""
    return bool(GENERIC_LAW.search(law.strip("《》 ")))


def law_matches(law: str, title: str, short: str = "") -> bool:
    """Whether `law` (as written in a label or question) names the regulation with this title.

    The written name may carry words before it (根据中小企业促进法) and may abbreviate the title, keeping
    its characters in order (科技进步法 for 科学技术进步法, 款项支付条例): its name part must end the
    way the title does (法 / 条例 ...) and be a subsequence of the title of at least 3 characters.
    law_matches("中小企业促进法", "中华人民共和国中小企业促进法") -> True
    law_matches("公司法", "中华人民共和国中小企业促进法") -> False
    """
    law = law.strip("《》 ")
    names = [n for n in (title, title.removeprefix(PRC), short) if n]
    if any(law.endswith(n) for n in names):
        return True
    ending = re.search(r"(法|条例|规定|办法)$", title)
    if not ending or not law.endswith(ending.group(1)):
        return False
    return title_tail(law, title) >= 3 + len(ending.group(1)) - 1


def title_tail(law: str, title: str) -> int:
    """How many of `law`'s last characters are the title's characters in order: the length of the longest
    tail of `law` that is a subsequence of `title`. title_tail("国家科技进步法", "中华人民共和国科学技术进步法") -> 5"""
    size = 0
    while size < len(law) and is_subsequence(law[len(law) - size - 1:], title):
        size += 1
    return size


def is_subsequence(part: str, whole: str) -> bool:
    it = iter(whole)
    return all(ch in it for ch in part)


def clean_line(line: str) -> str:
    """Remove markup and fix punctuation in one line of source text.

    clean_line("**第九条** 县级以上") -> "第九条 县级以上"
    clean_line("- （一）与本级规划相衔接；") -> "（一）与本级规划相衔接；"
    clean_line("组建共同体,完善模式") -> "组建共同体，完善模式"
    clean_line("(2024 年 3 月 26 日通过)") -> "（2024年3月26日通过）"
    clean_line("第一条【立法目的】为了") -> "第一条 （立法目的）为了"
    """
    s = line.replace("\u3000", " ").strip()
    s = re.sub(r"^#+\s*", "", s)
    s = re.sub(r"\*\*|__", "", s)
    s = re.sub(r"^(?:[-*+•·]|\d+[.、])\s+(?=[（(])", "", s)
    # half-width punctuation in Chinese prose becomes full-width
    for half, full in ((",", "，"), (";", "；"), (":", "："), ("?", "？"), ("!", "！")):
        s = re.sub(rf"(?<=[{_CJK}0-9])\s*{re.escape(half)}\s*(?=[{_CJK}0-9])", full, s)
        s = re.sub(rf"(?<=[{_CJK}]){re.escape(half)}$", full, s)
    s = re.sub(rf"^\((?=[{_CJK}0-9])", "（", s)
    s = re.sub(rf"(?<=[{_CJK}0-9])\)", "）", s)
    s = re.sub(r"^（([^（）]*)\)", r"（\1）", s)
    # spaces between CJK and digits ("2024 年 3 月") carry no meaning in Chinese
    s = re.sub(rf"(?<=[{_CJK}])\s+(?=[0-9])|(?<=[0-9])\s+(?=[{_CJK}])", "", s)
    # keep the single space after an article head, drop others between CJK characters
    head = ARTICLE_HEAD.match(s)
    if head:
        # an editor's caption in black brackets (第一条【立法目的】) would read as a citation label: it
        # becomes the parenthesized caption some regulations carry officially (第一条（立法目的）)
        s = f"第{head.group(1)}条 " + re.sub(r"^【([^【】]{1,20})】", r"（\1）", s[head.end():])
    return s


def _logical_lines(text: str) -> list[str]:
    """Clean lines and rejoin sentences split by page breaks.

    A line that is not a heading and does not end with a terminal mark continues on the next line.
    """
    out: list[str] = []
    open_line = in_articles = False
    last_number = 0
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n"):
        line = clean_line(raw)
        if not line:
            continue
        article = bool(m := ARTICLE_HEAD.match(line))
        # a 第X条 that starts a wrapped line after an unfinished sentence is a reference
        # (依照本条例\n第三十条规定), unless it is the next article's number followed by a new sentence
        if article and open_line and in_articles and (
                to_int(m.group(1)) != last_number + 1
                or re.match(r"(?:规定|的|第|、|至|和|或者|及|中|所|之[^一二三四五六七八九十])", line[m.end():])):
            article = False
            line = re.sub(r"^(第\S+?条) ", r"\1", line)
        if article:
            last_number = to_int(m.group(1))
        is_head = article or _is_heading(line)
        in_articles = in_articles or article
        if open_line and not is_head and not ITEM_HEAD.match(line):
            out[-1] += line
        else:
            out.append(line)
        # before the first article, lines without a full stop are the title, notes, an announcement's
        # signature and date (江西省人民代表大会常务委员会 / 2024年5月30日): each stays a line unless it
        # visibly breaks off (ends with ， or 、) or is the head of a title broken after its place
        # (中华人民共和国 / 中小企业促进法)
        # After the first article a line ending in 法/规定 is a sentence cut short, not a title; a paragraph
        # never ends with ；: only an item line (（二）) may follow one. Before it, a note whose bracket is
        # still open continues on the next line.
        open_line = ((not out[-1].endswith(tuple(TERMINALS)) and not _is_heading_like(out[-1], front=False))
                     or (out[-1].endswith(("；", ";")) and not ITEM_HEAD.match(out[-1].split("\n")[-1]))
                     if in_articles else out[-1].endswith(("，", "、")) or bool(TITLE_HEAD.fullmatch(out[-1]))
                     or out[-1].count("（") + out[-1].count("(") > out[-1].count("）") + out[-1].count(")"))
    return out


def _is_heading(line: str) -> bool:
    """A part, chapter or section head: 第二编 物权, 第一分编 通则, 第一章 总则, 第一节 …, 附则."""
    return bool(PART_HEAD.match(line) or SUBPART_HEAD.match(line) or CHAPTER_HEAD.match(line)
                or SECTION_HEAD.match(line) or UNNUMBERED_HEAD.match(line))


def _is_heading_like(line: str, front: bool = True) -> bool:
    """Title, adoption note, part, chapter and section heads end without punctuation by design."""
    return bool(_is_heading(line) or _signature(line) or ANNEX.match(line) or _is_note(line)
                or (front and not ARTICLE_HEAD.match(line) and re.search(r"(条例|办法|规定|法)$", line)))


DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
NOTE = re.compile(r"^[（(]?\s*\d{4}年\d{1,2}月\d{1,2}日")  # a note under the title starts with its date
# a title: a law's name alone on its line (中华人民共和国中小企业促进法, 《江西省…条例》)
TITLE = re.compile(r"^《?[\u4e00-\u9fff（）()〔〕0-9]{2,60}(?:法|条例|规定|办法|细则|规则|决定|准则)》?$")
# a note's continuation line: 根据2009年8月27日…第二次修正
TITLE_HEAD = re.compile(r"中华人民共和国|[\u4e00-\u9fff]{1,8}(?:省|自治区|市|自治州|县)")  # a title's first line
# after the last article: an annex (附件1：…), and the issuer's name and the date a government signs under it
ANNEX = re.compile(r"^(?:附件|附表|附录)[一二三四五六七八九十\d]*(?:[：:．.、\s]|$)")
SIGNATURE = re.compile(r"^[\u4e00-\u9fff]{2,30}(?:人民政府|人民代表大会常务委员会|委员会|办公厅|国务院)$|^\d{4}年\d{1,2}月\d{1,2}日$")
ADOPTION_WORDS = re.compile(r"通过|修订|修正|公布|发布|批准")
DATED_NOTE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日.{0,80}(?:通过|公布|发布|修订|修正|施行)")
EFFECTIVE = re.compile(r"自(\d{4}年\d{1,2}月\d{1,2}日|公布之日|发布之日)起施行")
ISSUER = re.compile(r"^(?:中华人民共和国)?([\u4e00-\u9fff]*?(?:人民代表大会常务委员会|人民代表大会|国务院|人民政府))")


def _is_note(line: str) -> bool:
    """A note under the title: it starts with its date, or is bracketed whole (（2024年…通过）, （摘要）)."""
    return bool(NOTE.match(line) or re.fullmatch(r"（[^（）]*）", line))


def _signature(line: str) -> bool:
    """An issuer's name or a date alone, not a sentence cut after 由国务院 / 县级以上人民政府."""
    return bool(SIGNATURE.match(line)) and not re.search(r"[由的应和或及与，、对向经报]", line)


def iso_date(text: str) -> str:
    """iso_date("2024年3月26日") -> "2024-03-26"; "" when the text holds no date."""
    m = DATE.search(text)
    return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else ""


def parse(text: str, id: str = "", short: str = "", primary: bool = True, title: str = "",
          effective: str = "", law: str | None = None) -> Regulation:
    """Parse regulation text into a `Regulation`; raise CorpusError if it has no 第X条 articles.

    The title (first line) and the dated notes under it (adoption, revisions) come from the text unless
    given; a non-primary regulation (`primary=False`) writes its `short` name before its labels and its
    clause ids (or `law`, when given: a superseded version names its year). Numbering gaps or repeats and
    paragraphs cut mid-sentence become `warnings`.
    """
    lines = _logical_lines(text)
    found_title, book, part, chapter, section, annex = "", "", "", "", "", ""
    notes: list[str] = []
    chapters: list[str] = []
    sections: list[str] = []
    raw_articles: list[tuple[int, str, str, list[str]]] = []  # (number, chapter, section, paragraph lines)
    prev_front = ""
    for line in lines:
        if m := ARTICLE_HEAD.match(line):
            raw_articles.append((to_int(m.group(1)), chapter, section, [line[m.end():].strip()]))
        elif _is_heading(line) and not SECTION_HEAD.match(line):
            # a chapter of a code is named with its part (第二编 物权 第一章 通则: chapter names repeat
            # across parts); an unnumbered 附则 is a chapter of its own
            if m := PART_HEAD.match(line):
                book = part = chapter = _heading("编", m)
            elif m := SUBPART_HEAD.match(line):
                part = chapter = f"{book} {_heading('分编', m)}".strip()
            elif m := CHAPTER_HEAD.match(line):
                chapter = f"{part} {_heading('章', m)}".strip()
            else:
                chapter = line
            section = ""
            if not raw_articles and chapter in chapters:
                chapters.clear()  # the list so far was a table of contents
            chapters.append(chapter)
        elif m := SECTION_HEAD.match(line):
            section = _heading("节", m)
            sections.append(f"{chapter}/{section}" if chapter else section)
        elif not raw_articles:
            if chapters:
                continue  # between a table of contents and the first article
            if TITLE.match(line) and not any(NOTE.match(n) and ADOPTION_WORDS.search(n) for n in notes):
                # the last title-like line before the adoption note: a decree or an announcement
                # (中华人民共和国主席令 第七十七号 …, 公告 … 2024年5月30日) may come first, its date is no note
                found_title, notes = line.strip("《》"), []
                # a title broken over two lines (保障中小企业 / 款项支付条例)
                head = prev_front.lstrip("《")
                if (re.fullmatch(r"[\u4e00-\u9fff]{2,20}", head) and not TITLE.match(head)
                        and not re.search(r"(?:令|公告|号|政府|委员会|国务院|办公厅)$", head)):
                    found_title = head + found_title
            elif not found_title and not _is_note(line):
                found_title = line  # (an adoption note is never the title)
            elif _is_note(line) or (notes and DATED_NOTE.search(line)):
                notes.append(_balanced(line))
            # other front matter (table of contents, preamble) is not part of any article
            prev_front = line
        elif ANNEX.match(line):
            # 附件1：…… after the last article: forms and lists that are no article of the law
            annex = f"the text from 「{line[:20]}」 on is an annex, not an article, and is not indexed"
            break
        elif _signature(line):
            continue  # the issuer's name and the date signed under the last article
        elif ITEM_HEAD.match(line) and _takes_items(raw_articles[-1][3][-1]):
            raw_articles[-1][3][-1] += "\n" + line
        else:
            raw_articles[-1][3].append(line)
    if not raw_articles:
        raise CorpusError("no articles found: expected paragraphs starting with 第一条, 第二条, ... "
                          "(is this a regulation? a scanned PDF has no text to read)")
    title = title or found_title
    short = short or short_name(title)
    law = ("" if primary else short) if law is None else law
    warnings = _numbering_warnings([n for n, _, _, _ in raw_articles]) + ([annex] if annex else [])
    articles, seen = [], set()
    for number, chap, sect, paragraphs in raw_articles:
        if not paragraphs[0]:
            raise CorpusError(f"{format_label(number)} has no text")
        context = _opening_phrase(paragraphs[0])
        local = f"a{number}" + (f"d{len(articles)}" if number in seen else "")  # a repeated number stays apart
        seen.add(number)
        for i, para in enumerate(paragraphs, start=1):
            if not para.rstrip().endswith(tuple("。；：！？")):
                warnings.append(f"{clause_label(number, i, len(paragraphs))} ends mid-sentence: …{para[-12:]}")
        clauses = tuple(
            Clause(
                id=f"{id}-{local}p{i}" if id and not primary else f"{local}p{i}",
                article=number,
                paragraph=i,
                items=tuple(to_int(m.group(1) or m.group(2)) for m in
                            (ITEM_HEAD.match(x) for x in para.split("\n")[1:]) if m),
                label=clause_label(number, i, len(paragraphs), law),
                text=para,
                context="" if i == 1 else context,
                chapter=chap,
                section=sect,
                regulation=id,
                regulation_title=title,
            )
            for i, para in enumerate(paragraphs, start=1)
        )
        articles.append(Article(number, clauses, chap))
    preamble = Clause(id=f"{id}-preamble" if id and not primary else "preamble", article=PREAMBLE, paragraph=1,
                      items=(), label=format_label(PREAMBLE, law=law),
                      text="\n".join(x for x in (title, *notes) if x), regulation=id,
                      regulation_title=title) if title or notes else None
    dates = [iso_date(n) for n in notes if iso_date(n)]
    adopted = next((iso_date(n) for n in notes if re.search(r"通过|公布|发布", n) and iso_date(n)),
                   dates[0] if dates else "")
    amended = tuple(d for n in notes if re.search(r"修订|修正|修改", n) for d in
                    (iso_date(x.group(0)) for x in DATE.finditer(n)) if d and d != adopted)
    return Regulation(title=title, adoption="\n".join(notes), articles=tuple(articles),
                      sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                      chapters=tuple(chapters), preamble=preamble, id=id, short=short,
                      primary=primary, issuer=_issuer(notes), adopted=adopted, amended=amended,
                      effective=effective or _effective(articles, adopted),
                      version=max([adopted, *amended]) if adopted else "",
                      sections=tuple(sections), warnings=tuple(warnings), label_law=law)


def short_name(title: str) -> str:
    """The name a law goes by: its title without 中华人民共和国 (中小企业促进法); a local regulation keeps
    its title."""
    return title.removeprefix(PRC) or title


def _heading(kind: str, m: re.Match) -> str:
    """第一章 总则 from 第一章 总　　则: spaces inside a heading's name are layout, not words."""
    name = re.sub(r"\s+", "", m.group(2))
    return f"第{m.group(1)}{kind} {name}".strip()


def _balanced(note: str) -> str:
    """A note with a stray closing bracket (…第802号修订）) loses it; a bracketed note stays whole."""
    if note.endswith(("）", ")")) and not note.startswith(("（", "(")):
        return note[:-1]
    return note


def _issuer(notes: list[str]) -> str:
    """Who adopted or issued the text, from the first note: 全国人民代表大会常务委员会, 国务院, ..."""
    for note in notes:
        body = re.sub(r"第[^第届]{1,4}届", "", DATE.sub("", note).strip("（）() "))
        if m := ISSUER.match(body.strip()):
            return m.group(1)
    return ""


def _effective(articles: list[Article], adopted: str) -> str:
    """The date the text says it takes effect (自2018年1月1日起施行), from its last articles."""
    for art in reversed(articles[-3:]):
        if m := EFFECTIVE.search(art.text):
            return iso_date(m.group(1)) or adopted
    return ""


def _numbering_warnings(numbers: list[int]) -> list[str]:
    """Gaps and repeats in article numbering, named by article: a file cut short or pasted twice."""
    out = []
    seen: set[int] = set()
    for prev, n in zip([0, *numbers], numbers):
        if n in seen:
            out.append(f"{format_label(n)} appears more than once")
        elif n != prev + 1 and n > prev:
            missing = [format_label(x) for x in range(prev + 1, n)]
            out.append(f"articles missing before {format_label(n)}: " + "、".join(missing[:5])
                       + ("…" if len(missing) > 5 else ""))
        elif n < prev:
            out.append(f"{format_label(n)} comes after {format_label(prev)}")
        seen.add(n)
    return out


def _takes_items(paragraph: str) -> bool:
    """An item belongs to the paragraph that introduces items (ends with ：) or already has some."""
    return paragraph.endswith("：") or bool(ITEM_HEAD.match(paragraph.split("\n")[-1]))


def _opening_phrase(paragraph: str, limit: int = 30) -> str:
    """The first phrase of an article, up to its first comma or stop, at most `limit` characters."""
    first = re.split(r"[，。；：,;:]", paragraph, maxsplit=1)[0]
    return first[:limit]


def load(path: str | Path) -> Regulation:
    """Read and parse one regulation file; errors name the file and what to fix."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise CorpusError(f"no regulation text at {p}; copy it into corpus/") from e
    except UnicodeDecodeError as e:
        raise CorpusError(f"{p} is not UTF-8 text; convert it with `iconv -t UTF-8`") from e
    try:
        return parse(text)
    except CorpusError as e:
        raise CorpusError(f"{p}: {e}") from e


def find_corpus(directory: str | Path) -> Path:
    """The one regulation file (*.md or *.txt) in a corpus directory."""
    d = Path(directory)
    files = sorted(p for p in d.glob("*") if p.suffix in (".md", ".txt") and p.is_file()) if d.is_dir() else []
    if d.is_file():
        return d
    if len(files) != 1:
        raise CorpusError(f"expected one regulation file (.md or .txt) in {d}/, found {len(files)}")
    return files[0]
