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
ITEM_HEAD = re.compile(rf"^[（(]({NUM})[）)]")
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

    @property
    def search_text(self) -> str:
        """What is embedded and indexed: the clause text alone.

        Prefixing later paragraphs with their article's opening phrase (`context`) was measured and
        lowered dense Hit@1 on both question sets (see README), so the context is kept for display only.
        The 题注 is searched by its adoption note alone: the title names the whole regulation, so it
        would match every question about "this regulation" (这个江西的条例对我有约束吗).
        """
        if self.article == PREAMBLE:
            return self.text.split("\n")[-1]
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
    def text(self) -> str:
        return "\n".join(c.text for c in self.clauses)


@dataclass(frozen=True)
class Regulation:
    title: str
    adoption: str                  # e.g. （2024年3月26日江西省第十四届人民代表大会常务委员会第七次会议通过）
    articles: tuple[Article, ...]
    sha256: str = ""               # hash of the source text, for index manifests
    chapters: tuple[str, ...] = field(default=())
    preamble: Clause | None = None  # title and adoption note as a citable clause, 【题注】 (article 0)

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
        return {a.number: a for a in self.articles}

    def names(self, law: str) -> bool:
        """Whether a law named in a label (《…》) is this regulation: its title, part of it, or 本条例."""
        return law in ("本条例", "该条例") or law in self.title

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
        return format_label(clause.article, None if single else clause.paragraph, item)


def clause_label(article: int, paragraph: int, n_paragraphs: int) -> str:
    """第十条 for a one-paragraph article, else 第十条第二款."""
    return format_label(article, None if n_paragraphs == 1 else paragraph)


def clean_line(line: str) -> str:
    """Remove markup and fix punctuation in one line of source text.

    clean_line("**第九条** 县级以上") -> "第九条 县级以上"
    clean_line("- （一）与本级规划相衔接；") -> "（一）与本级规划相衔接；"
    clean_line("组建共同体,完善模式") -> "组建共同体，完善模式"
    clean_line("(2024 年 3 月 26 日通过)") -> "（2024年3月26日通过）"
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
        s = f"第{head.group(1)}条 " + s[head.end():]
    return s


def _logical_lines(text: str) -> list[str]:
    """Clean lines and rejoin sentences split by page breaks.

    A line that is not a heading and does not end with a terminal mark continues on the next line.
    """
    out: list[str] = []
    open_line = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n"):
        line = clean_line(raw)
        if not line:
            continue
        is_head = bool(ARTICLE_HEAD.match(line) or CHAPTER_HEAD.match(line) or SECTION_HEAD.match(line))
        if open_line and not is_head and not ITEM_HEAD.match(line):
            out[-1] += line
        else:
            out.append(line)
        open_line = not out[-1].endswith(tuple(TERMINALS)) and not _is_heading_like(out[-1])
    return out


def _is_heading_like(line: str) -> bool:
    """Title, adoption note, chapter and section heads end without punctuation by design."""
    return bool(CHAPTER_HEAD.match(line) or SECTION_HEAD.match(line)
                or re.fullmatch(r"（[^（）]*）", line)
                or (not ARTICLE_HEAD.match(line) and re.search(r"(条例|办法|规定|法)$", line)))


def parse(text: str) -> Regulation:
    """Parse regulation text into a `Regulation`; raise CorpusError if it has no 第X条 articles."""
    lines = _logical_lines(text)
    title, adoption, chapter = "", "", ""
    chapters: list[str] = []
    raw_articles: list[tuple[int, str, list[str]]] = []  # (number, chapter, paragraph lines)
    for line in lines:
        if m := ARTICLE_HEAD.match(line):
            raw_articles.append((to_int(m.group(1)), chapter, [line[m.end():].strip()]))
        elif m := CHAPTER_HEAD.match(line):
            chapter = f"第{m.group(1)}章 {m.group(2)}".strip()
            chapters.append(chapter)
        elif SECTION_HEAD.match(line):
            continue  # sections sit inside chapters; articles keep their chapter
        elif not raw_articles:
            if not title:
                title = line
            elif re.fullmatch(r"（[^（）]*）", line):
                adoption = line
            # other front matter (table of contents, preamble) is not part of any article
        elif ITEM_HEAD.match(line) and _takes_items(raw_articles[-1][2][-1]):
            raw_articles[-1][2][-1] += "\n" + line
        else:
            raw_articles[-1][2].append(line)
    if not raw_articles:
        raise CorpusError("no articles found: expected paragraphs starting with 第一条, 第二条, ...")
    numbers = [n for n, _, _ in raw_articles]
    if numbers != list(range(1, len(numbers) + 1)):
        raise CorpusError(f"articles are not numbered 1..{len(numbers)} in order: {numbers}")
    articles = []
    for number, chap, paragraphs in raw_articles:
        if not paragraphs[0]:
            raise CorpusError(f"{format_label(number)} has no text")
        context = _opening_phrase(paragraphs[0])
        clauses = tuple(
            Clause(
                id=f"a{number}p{i}",
                article=number,
                paragraph=i,
                items=tuple(to_int(m.group(1)) for m in
                            (ITEM_HEAD.match(x) for x in para.split("\n")[1:]) if m),
                label=clause_label(number, i, len(paragraphs)),
                text=para,
                context="" if i == 1 else context,
                chapter=chap,
            )
            for i, para in enumerate(paragraphs, start=1)
        )
        articles.append(Article(number, clauses, chap))
    preamble = Clause(id="preamble", article=PREAMBLE, paragraph=1, items=(), label=PREAMBLE_LABEL,
                      text="\n".join(x for x in (title, adoption) if x)) if title or adoption else None
    return Regulation(title=title, adoption=adoption, articles=tuple(articles),
                      sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                      chapters=tuple(chapters), preamble=preamble)


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
