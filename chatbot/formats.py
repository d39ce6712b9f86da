"""Read a regulation from a PDF, a Word .docx or a text file into plain text for `chatbot.corpus.parse`.

The type is told by content, never by file name: a PDF starts with %PDF-, a .docx is a zip holding
word/document.xml, anything else must be UTF-8 (with or without BOM) or GB18030 text, the encoding
official Chinese downloads often use; markdown is text. Every format then gets the same repairs:

    fold_compat_chars("第⼀条 ⼈⺠政府") -> "第一条 人民政府"   (Kangxi radicals emitted by PDF fonts)
    tidy_line("第一章　总　　则") -> "第一章 总则";  tidy_line("第一条　为了") -> "第一条 为了"
    drop_table_of_contents(["标题", "目录", "第一章 总则", "第一章 总则", ...]) -> ["标题", "第一章 总则", ...]

A PDF has no paragraphs, only positioned lines, so `pdf_text` also removes page numbers and running
headers and rejoins the lines of each paragraph (see `join_pdf_lines`).

Left to others: the 第X条 grammar and sentence repair (`chatbot.corpus`), OCR of scanned PDFs, old
binary .doc files, and Word's automatic numbering (a 第X条 that Word generates is not in the text).
Nothing here runs code from a document: pypdf reads the text layer only, and python-docx parses XML
without resolving entities.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .corpus import UNNUMBERED_HEADINGS
from .labels import NUM
from .numerals import to_chinese

MAX_PAGES = 500                  # a PDF longer than this is refused; the longest codes run to ~300 pages
MAX_FILE_BYTES = 200 * 2**20     # any input larger than this is refused before it is read
MAX_UNZIPPED = 200 * 2**20       # a .docx that would unpack to more than this is refused
MAX_RATIO = 100                  # ...as is a member compressed more than this (Word XML is ~10:1)
_RATIO_FLOOR = 2**20             # members under 1 MiB cannot hurt, whatever their ratio

SUPPORTED = "a PDF with a text layer, a Word .docx, or UTF-8/GB18030 text (.txt/.md)"


class FormatError(ValueError):
    """The file cannot be read as a regulation; the message says what to do instead."""


# --- characters ------------------------------------------------------------------------------------

# Kangxi radicals (U+2F00-2FDF) and compatibility ideographs (U+F900-FAFF, U+2F800-2FA1F) have NFKC
# mappings to the ordinary character; fonts share one glyph for both, so PDF text layers emit ⼀ for 一.
# NFKC is applied to these characters only: on the whole text it would turn （，：；） into ASCII.
# (also 〈〉 as U+2329/U+232A and the ligatures ﬁ ﬂ, which PDF text layers emit too)
_COMPAT = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f\u2329\u232a\ufb00-\ufb06]")
# CJK Radicals Supplement (U+2E80-2EFF) has no NFKC mapping: each radical below maps to the character
# a simplified-Chinese font draws with the same glyph (taken from Noto CJK SC's cmap, in line with
# Unicode's EquivalentUnifiedIdeograph.txt). ⼾ is here because NFKC gives the traditional 戶 where an
# SC font's glyph, and the text, is 户.
_RADICALS = dict(zip(
    "⺂⺃⺅⺉⺋⺎⺏⺐⺒⺓⺔⺕⺖⺘⺙⺛⺞⺠⺡⺣⺤⺦⺨⺫⺭⺯⺰⺱⺲⺳⺹⺺⺾⻁⻂⻃⻄⻅⻆⻈⻉⻋⻌⻐⻑⻒⻓⻔⻖⻘⻙⻚⻛⻜⻝⻟⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻫⻬⻮⻯⻰⻱⻲⼾",
    "乛乚亻刂㔾兀尣尢巳幺彑彐忄扌攵旡歺民氵灬爫丬犭罒礻糹纟罓罒㓁耂肀艹虎衤覀西见角讠贝车辶钅長镸长门阝青韦页风飞食飠饣马骨鬼鱼鸟卤麦黄黾斉齐齿竜龙龜亀户",
    strict=True))
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                                 "\u200a\u202f\u205f"), " ")
_NEWLINES = re.compile("\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def fold_compat_chars(text: str) -> str:
    """fold_compat_chars("⼈⺠政府，⽇期：") -> "人民政府，日期：" (punctuation untouched)."""
    return _COMPAT.sub(lambda m: _RADICALS.get(m[0]) or unicodedata.normalize("NFKC", m[0]), text)


# --- lines -----------------------------------------------------------------------------------------

_HEAD = re.compile(rf"^第\s*({NUM})\s*(条|章|节|编)")
_BARE_HEAD = re.compile(rf"第{NUM}[条章节编]")
_ITEM = re.compile(rf"^[（(]{NUM}[）)]")
_TOC = re.compile(r"目\s*[录次]")
# a heading without a number (附　　则 at the end of a law, 法律责任 in some regulations), spaced out
_UNNUMBERED = re.compile("|".join(r"\s*".join(word) for word in UNNUMBERED_HEADINGS))
# a table of contents entry's dot leaders and page number: 第一章 总则……………1
_LEADER = re.compile(r"(?:[.…·．‥]{2,}|…)\s*\d*$")
_TERMINAL = re.compile(r"[。；：！？;:!?][”’」』）)]*$")
_TITLE_END = re.compile(r"(条例|办法|规定|法|细则|规则|决定|通过|修订|修正|公布)$")  # a title or an adoption note


def tidy_line(line: str) -> str:
    """Strip a line (and a markdown heading's #) and tidy the spaces in a heading; other lines keep theirs.

    tidy_line("第一章　总　　则") -> "第一章 总则";  tidy_line("第 一 条　为了") -> "第一条 为了"
    tidy_line("目　　录") -> "目录";  tidy_line("附　　则") -> "附则";  tidy_line("第一编　总　　则") -> "第一编 总则"
    tidy_line("第二章　自然人………………3") -> "第二章 自然人"
    """
    s = re.sub(r"^#{1,6}\s+", "", line.strip())  # a markdown heading: 第一章 is a heading already
    if m := _HEAD.match(s):
        num, kind, rest = m.group(1), m.group(2), s[m.end():].strip()
        if kind != "条":  # a heading: 第一章 总则, no spaces inside its name, no dot leaders
            rest = _LEADER.sub("", re.sub(r"\s+", "", rest))
        return f"第{num}{kind} {rest}".rstrip()
    if _UNNUMBERED.fullmatch(s):
        return re.sub(r"\s+", "", s)
    return "目录" if _TOC.fullmatch(s) else s


def _is_head(line: str) -> bool:
    """Article, chapter, section or item start, or a 目录 line: these begin a line of their own."""
    return bool(_HEAD.match(line) or _ITEM.match(line) or line == "目录")


def _is_article(line: str) -> bool:
    return bool((m := _HEAD.match(line)) and m.group(2) == "条")


def _is_heading_like(line: str, front: bool = True) -> bool:
    """Chapter and section heads, and in the front matter the title and adoption note, end without
    punctuation by design. After the first article a line ending in 法 is just a sentence cut short."""
    head = _HEAD.match(line)
    return bool((head and head.group(2) != "条") or line == "目录" or (front and not head and (
        re.fullmatch(r"（[^（）]*）", line) or (len(line) <= 60 and _TITLE_END.search(line)))))


def _join_heads(lines: list[str]) -> list[str]:
    """A bare 第X条 or 第X章 on its own line takes the next line as its text or name.

    _join_heads(["第一章", "总则", "第一条", "为了…。"]) -> ["第一章 总则", "第一条 为了…。"]
    """
    out: list[str] = []
    for line in lines:
        bare = out and _BARE_HEAD.fullmatch(out[-1])
        if bare and not _is_head(line) and (out[-1].endswith("条") or len(line) <= 20):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def drop_table_of_contents(lines: list[str]) -> list[str]:
    """Remove a 目录 block: from the 目录 line up to the second time the first part or chapter heading
    occurs.

    A title or adoption note between the last listed chapter and the real text is kept (some
    downloads put the 目录 before the title). Without a 目录 line before the first article, or
    without the chapter occurring twice, nothing is removed.
    """
    start = next((i for i, x in enumerate(lines) if x == "目录"), None)
    first_article = next((i for i, x in enumerate(lines) if _is_article(x)), len(lines))
    if start is None or start > first_article:
        return lines
    chapters = [(i, m.group(1, 2)) for i, x in enumerate(lines[start:], start)
                if (m := _HEAD.match(x)) and m.group(2) in "编章"]  # a code's contents begin with 第一编
    if not chapters:
        return lines
    first = chapters[0][1]
    again = next((i for i, n in chapters[1:] if n == first), None)
    if again is None:
        return lines
    last_entry = max(i for i, x in enumerate(lines[:again]) if i >= start and _HEAD.match(x))
    kept = [x for x in lines[last_entry + 1:again] if _is_heading_like(x) and not _HEAD.match(x)]
    return lines[:start] + kept + lines[again:]


def normalize_text(text: str) -> str:
    """The repairs every format gets; the result has one non-empty line per paragraph or heading."""
    text = _NEWLINES.sub("\n", text).translate(_ZERO_WIDTH).translate(_SPACES)
    raw = fold_compat_chars(text).split("\n")
    lines = _rejoined_by_indent(raw) or [tidy_line(x) for x in raw]
    # a page number on a line of its own (— 2 —, 第3页) is page furniture in any format, and so is a line
    # repeated beside page numbers (a running header in a PDF's text copied out as plain text)
    lines = drop_running_heads([x for x in lines if x])
    lines = drop_table_of_contents(_join_heads([x for x in lines if not _PAGE_NUMBER.fullmatch(x)]))
    return "\n".join(lines) + "\n" if lines else ""


def drop_running_heads(lines: list[str], reach: int = 2) -> list[str]:
    """Lines without their running headers and footers: a short line that is no article or heading, found
    within `reach` lines of a page number at least twice with the same words, is removed there (a title
    with the header's words elsewhere, at the top of the first page, stays).

    drop_running_heads(["某某法", "第一条 …", "…", "- 1 -", "某某法", "第二条 …", "- 2 -", "某某法", "第三条 …"])
    -> ["某某法", "第一条 …", "…", "- 1 -", "第二条 …", "- 2 -", "第三条 …"]
    """
    pages = [i for i, x in enumerate(lines) if _PAGE_NUMBER.fullmatch(x)]
    if len(pages) < 2:
        return lines
    near: dict[str, list[int]] = {}
    for p in pages:
        for i in range(max(p - reach, 0), min(p + reach + 1, len(lines))):
            x = lines[i]
            if i != p and len(x) <= 40 and not _PAGE_NUMBER.fullmatch(x) and not _HEAD.match(x) \
                    and i not in near.get(x, ()):
                near.setdefault(x, []).append(i)
    furniture = {i for x, at in near.items() if len(at) >= 2 for i in at}
    return [x for i, x in enumerate(lines) if i not in furniture]


def _rejoined_by_indent(raw: list[str]) -> list[str] | None:
    """Text hard-wrapped at every visual line (copied out of a PDF viewer), whose articles start indented
    and whose wrapped lines do not, rejoined as a PDF's lines are, by indentation; None for other text."""
    raw = [x for x in raw if x.strip()]
    first = next((i for i, x in enumerate(raw) if _is_article(x.strip())), len(raw))
    lead = [len(x) - len(x.lstrip()) for x in raw]
    articles = [n for x, n in zip(raw, lead) if _is_article(x.strip())]
    body = [n for x, n in zip(raw[first:], lead[first:]) if not _HEAD.match(x.strip())]
    if not (articles and body and sum(1 for n in articles if n) > 0.8 * len(articles)
            and sum(1 for n in body if not n) > 0.2 * len(body)):
        return None
    return [tidy_line(x) for x in join_pdf_lines([PdfLine(x.strip(), n) for x, n in zip(raw, lead)])]


# --- text ------------------------------------------------------------------------------------------

def decode_text(data: bytes, name: str = "the file") -> str:
    """UTF-8 (BOM optional), else GB18030; UTF-16 only with its BOM. Binary content is refused."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                # a few bad bytes in otherwise valid UTF-8 is a damaged file, not GB18030: decoding it as
                # GB18030 would succeed often enough to turn the whole text into mojibake
                as_utf8 = data.decode("utf-8", "replace")
                bad = as_utf8.count("\ufffd")
                if sum(ord(c) > 127 for c in as_utf8) - bad > 100 * bad:
                    raise FormatError(f"{name} is UTF-8 text with invalid bytes (the first at byte {e.start}); "
                                      "download it again or repair it") from e
                text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise FormatError(f"{name} is not UTF-8 or GB18030 text (and not a PDF or .docx); convert it with "
                          f"`iconv -f ENCODING -t UTF-8`, or provide {SUPPORTED}") from e
    if bad := _CONTROL.search(text):
        raise FormatError(f"{name} is not text: it contains control character {bad[0]!r} (binary data?); "
                          f"provide {SUPPORTED}")
    return text


# --- docx ------------------------------------------------------------------------------------------

def check_zip(archive: zipfile.ZipFile, name: str = "the file") -> None:
    """Refuse unsafe member names, unusual compression and zip bombs, by the sizes the archive declares."""
    total, seen = 0, set()
    for info in archive.infolist():
        member = info.filename
        if member in seen:
            raise FormatError(f"{name}: zip member {member!r} occurs twice; refusing an ambiguous archive")
        seen.add(member)
        if member.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", member) or ".." in re.split(r"[/\\]", member):
            raise FormatError(f"{name}: zip member {member!r} has an unsafe path; refusing the archive")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FormatError(f"{name}: zip member {member!r} uses compression method {info.compress_type}, "
                              "which Word never writes; open the document in Word and save it again")
        total += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FormatError(f"{name}: zip member {member!r} would unpack {info.compress_size:,} bytes to "
                              f"{info.file_size:,} (more than {MAX_RATIO}:1); refusing a possible zip bomb, "
                              "save the document again from Word or as PDF")
    if total > MAX_UNZIPPED:
        raise FormatError(f"{name} would unpack to {total:,} bytes, over the limit of {MAX_UNZIPPED:,}; "
                          "refusing a possible zip bomb, remove images or save it as PDF")


def repack_zip(data: bytes, name: str = "the file") -> bytes:
    """The archive checked by `check_zip` and copied uncompressed, for python-docx to open.

    The declared sizes can lie: zipfile trims a member to its declared size, but reading a whole
    member decompresses all of it first. Copying in 1 MiB reads bounds what is ever unpacked.
    """
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
            check_zip(src, name)
            if "word/document.xml" not in src.namelist():
                raise FormatError(f"{name} is a zip archive but not a Word .docx (no word/document.xml); "
                                  f"provide {SUPPORTED}")
            for info in (x for x in src.infolist() if not x.is_dir()):
                with src.open(info) as member, dst.open(info.filename, "w") as copy:
                    while chunk := member.read(2**20):
                        copy.write(chunk)
    except (zipfile.BadZipFile, EOFError, OSError) as e:  # bad CRC, truncated or damaged archive
        raise FormatError(f"{name} is a damaged zip archive ({e}); open it in Word and save it again") from e
    return out.getvalue()


def docx_text(data: bytes, name: str = "the file") -> str:
    """The paragraphs of a .docx in document order, one per line; single-column tables included.

    A paragraph's runs are joined, so "第一条" and "　为了…" in separate runs come out as one line.
    Tables with several columns (fee schedules, layout grids) are left out: their cells have no
    reading order a parser could rely on.
    """
    package = repack_zip(data, name)
    import docx  # python-docx, loaded on first use

    try:
        document = docx.Document(io.BytesIO(package))
        return "\n".join(_block_lines(document, numbering=Numbering(document)))
    except Exception as e:  # any failure inside the package means the file cannot be read
        raise FormatError(f"{name} could not be read as a Word .docx ({type(e).__name__}: {e}); "
                          "open it in Word and save it again, or save it as PDF") from e


def _block_lines(container, depth: int = 0, numbering: "Numbering | None" = None) -> list[str]:
    """Lines of a document body or table cell: paragraphs, and the cells of single-column tables. Blocks
    inside a content control (w:sdt, as templates wrap them) are read as if it were not there, and a
    paragraph Word numbers itself (第一条 or （一） as list numbering) gets its number written out."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    body = getattr(getattr(container, "element", None), "body", None)  # a Document's w:body; a cell's w:tc
    for element in _blocks(body if body is not None else container._element):
        if element.tag == _W + "p":
            lines.append((numbering.label(element) if numbering else "") + _paragraph_text(element))
        elif depth < 3 and len((block := Table(element, container)).columns) == 1:
            cells = {id(c._tc): c for row in block.rows for c in row.cells}  # a merged cell repeats
            for cell in cells.values():
                lines += _block_lines(cell, depth + 1, numbering)
    return lines


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _blocks(parent):
    """The paragraphs and tables of a body or cell, in order, those inside block content controls too."""
    for child in parent:
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag == _W + "sdt":
            for content in child.iter(_W + "sdtContent"):
                yield from _blocks(content)
                break


class Numbering:
    """Word's list numbering (numbering.xml): the number a numbered paragraph shows, which is not in its text.
    Laws exported from Word often number their articles (第%1条, in Chinese counting) or items (（%1）) so.
    Counters run per list and level; a level's counter restarts after a higher level of its list moves on."""

    FORMATS = {"decimal": str, "decimalZero": lambda n: f"{n:02d}", "chineseCounting": to_chinese,
               "chineseCountingThousand": to_chinese,
               "decimalFullWidth": lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))}

    def __init__(self, document):
        self.levels: dict[tuple[str, str], tuple[str, str, int]] = {}  # (numId, ilvl) -> (format, text, start)
        self.counts: dict[tuple[str, str], int] = {}
        self.styles: dict[str, object] = {}  # style id -> its w:style, for numbering set by a paragraph style
        try:
            self.styles = {st.get(_W + "styleId"): st for st in document.styles.element.iter(_W + "style")}
        except (KeyError, NotImplementedError, AttributeError):
            pass
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):  # no numbering part: nothing is numbered
            return
        abstract = {a.get(_W + "abstractNumId"): a for a in root.iter(_W + "abstractNum")}
        for num in root.iter(_W + "num"):
            ref = num.find(_W + "abstractNumId")
            if ref is None or (a := abstract.get(ref.get(_W + "val"))) is None:
                continue
            for lvl in a.iter(_W + "lvl"):
                fmt, text, start = (lvl.find(_W + k) for k in ("numFmt", "lvlText", "start"))
                self.levels[(num.get(_W + "numId"), lvl.get(_W + "ilvl"))] = (
                    fmt.get(_W + "val") if fmt is not None else "decimal",
                    text.get(_W + "val") if text is not None else "",
                    int(start.get(_W + "val")) if start is not None else 1)

    def label(self, p) -> str:
        """The number shown before paragraph `p` ("第三条 ", "（二）"), "" when Word does not number it."""
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        style = p.find(f"{_W}pPr/{_W}pStyle")
        for _ in range(3):  # else the paragraph style's numbering (List Number), or its base style's
            if num_pr is not None or style is None or (st := self.styles.get(style.get(_W + "val"))) is None:
                break
            num_pr, style = st.find(f"{_W}pPr/{_W}numPr"), st.find(_W + "basedOn")
        if num_pr is None or not self.levels:
            return ""
        num_id, ilvl = (num_pr.find(_W + k) for k in ("numId", "ilvl"))
        key = (num_id.get(_W + "val") if num_id is not None else "", ilvl.get(_W + "val") if ilvl is not None else "0")
        if key not in self.levels:
            return ""
        fmt, text, start = self.levels[key]
        self.counts[key] = self.counts.get(key, start - 1) + 1
        for other in [k for k in self.counts if k[0] == key[0] and int(k[1]) > int(key[1])]:
            del self.counts[other]  # deeper levels of this list start again
        shown = re.sub(r"%(\d)", lambda m: self._count(key[0], int(m.group(1)) - 1), text)
        return shown + (" " if shown.endswith("条") else "") if fmt in self.FORMATS else ""

    def _count(self, num_id: str, level: int) -> str:
        key = (num_id, str(level))
        fmt, _, start = self.levels.get(key, ("decimal", "", 1))
        return self.FORMATS.get(fmt, str)(self.counts.get(key, start))


def _paragraph_text(p) -> str:
    """A paragraph's text from every run in it: also those inside tracked insertions (w:ins), inline
    content controls and smart tags, which python-docx's paragraph.text skips; deleted text is not read."""
    out = []
    for node in p.iter(_W + "t", _W + "tab", _W + "br", _W + "cr"):
        if any(a.tag in (_W + "del", _W + "moveFrom") for a in node.iterancestors()):
            continue
        out.append(node.text or "" if node.tag == _W + "t" else "\t" if node.tag == _W + "tab" else "\n")
    return "".join(out)


# --- pdf -------------------------------------------------------------------------------------------

_EDGE = 3  # running headers and footers are among the first and last three lines of a page
_PAGE_NUMBER = re.compile(
    r"[-—–－·•~\s]*\d+[-—–－·•~\s]*"                         # 3, - 3 -, — 3 —
    r"|第\s*[\d一二三四五六七八九十百零〇]+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?"  # 第3页, 第 3 页 共 10 页
    r"|共\s*\d+\s*页\s*[,，]?\s*第\s*\d+\s*页"                # 共10页 第3页
    r"|\d+\s*/\s*\d+"                                         # 3/10
    r"|(?i:page)\s*\d+(?:\s*(?i:of|/)\s*\d+)?")               # Page 3 of 10


@dataclass(frozen=True)
class PdfLine:
    """One visual line of a PDF page."""

    text: str
    lead: int | None  # columns of space before the line in layout mode; None: position unknown


def pdf_text(data: bytes, name: str = "the file", max_pages: int = MAX_PAGES) -> str:
    """The text layer of a PDF without page furniture, one paragraph per line."""
    from pypdf import PdfReader  # loaded on first use

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypts_without_password(reader):
            raise FormatError(f"{name} is an encrypted (password-protected) PDF; open it with its password "
                              "and save or print an unprotected copy")
        n = len(reader.pages)
        if n > max_pages:
            raise FormatError(f"{name} has {n} pages, more than the limit of {max_pages}; split it, or "
                              "raise max_pages if it really is one regulation")
        pages = [_page_lines(page) for page in reader.pages]
    except FormatError:
        raise
    except Exception as e:  # pypdf raises many types on damaged files; all mean the same to the user
        raise FormatError(f"{name} is a damaged PDF ({type(e).__name__}: {e}); download it again, "
                          "or open it in a PDF viewer and save a new copy") from e
    lines = [x for page in map(_rebase, strip_page_furniture(pages)) for x in page]
    if not any(re.search(r"\w", x.text) for x in lines):  # page numbers alone do not make a text layer
        raise FormatError(f"{name} has no text layer (a scanned PDF?); run OCR first, e.g. "
                          "`ocrmypdf -l chi_sim in.pdf out.pdf`, or provide the text")
    return "\n".join(join_pdf_lines(lines))


def _rebase(page):
    """Leads counted from the page's leftmost line once its furniture is gone: a browser's header and footer
    (date, file:///… 3/9) start further left than the text, and would make every line look indented."""
    m = min((x.lead for x in page if x.lead is not None), default=0)
    return [x if x.lead is None else PdfLine(x.text, x.lead - m) for x in page]


def _decrypts_without_password(reader) -> bool:
    """Many official PDFs carry only an owner password (no copying): an empty user password opens them."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. pypdf's DependencyError: AES needs the cryptography package
        return False


def _page_lines(page) -> list[PdfLine]:
    """Lines of one page with their indentation, from pypdf's layout mode (x positions as columns).

    Layout mode fails on some fonts; such a page falls back to plain extraction, without positions.
    """
    try:
        raw = page.extract_text(extraction_mode="layout", layout_mode_space_vertically=False)
        known = True
    except Exception:
        raw, known = page.extract_text(), False
    rows = [fold_compat_chars(x.translate(_ZERO_WIDTH).translate(_SPACES)).rstrip()
            for x in _NEWLINES.sub("\n", raw).split("\n")]
    return [PdfLine(_squeeze(x), len(x) - len(x.lstrip()) if known else None) for x in rows if x.strip()]


def _squeeze(line: str) -> str:
    """Layout mode pads with spaces to mimic positions; between CJK characters they are not text.

    _squeeze("  江 西  省  ABC  公司") -> "江西省 ABC公司"
    """
    cjk = r"[\u2e80-\u9fff\uf900-\uffef\u3000-\u303f]"
    line = re.sub(rf"(?<={cjk})\s+(?={cjk})", "", line.strip())
    return re.sub(r"\s{2,}", " ", line)


def _key(text: str) -> str:
    """Lines that differ only in digits and spaces repeat: "第 3 页" and "第 4 页" share a key."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def strip_page_furniture(pages: list[list[PdfLine]]) -> list[list[PdfLine]]:
    """Drop page numbers and running headers/footers from the top and bottom lines of each page.

    A header or footer is a short line (digits aside) at the same edge on more than half of the pages,
    two at least. Each is removed once per page, so a title under a header with the same words stays;
    on the first page a title that is not also a header there is kept (often that page has no header).
    """
    def repeated(side: slice) -> set[str]:
        counts = Counter(k for page in pages for k in {_key(x.text) for x in page[side]})
        # (a long line repeated is furniture only with a page number in it: a browser's file:///… 3/9 footer)
        return {k for k, c in counts.items() if c >= 2 and 2 * c > len(pages) and (len(k) <= 40 or "#" in k)}

    top, bottom = repeated(slice(None, _EDGE)), repeated(slice(-_EDGE, None))
    out = []
    for number, page in enumerate(pages):
        keys = [_key(x.text) for x in page]

        def furniture(i: int, repeats: set[str], seen: set[str]) -> bool:
            if keys[i] in seen or not (_PAGE_NUMBER.fullmatch(page[i].text) or keys[i] in repeats):
                return False
            seen.add(keys[i])
            # (the title on page 1 is kept; a dated header ending in the title, 12/3/26 4:02 PM …法, is not)
            return not (number == 0 and _is_heading_like(page[i].text) and keys.count(keys[i]) == 1
                        and not re.search(r"\d", page[i].text))

        i, seen = 0, set()
        while i < min(_EDGE, len(page)) and furniture(i, top, seen):
            i += 1
        j, seen = len(page), set()
        while j > max(i, len(page) - _EDGE) and furniture(j - 1, bottom, seen):
            j -= 1
        out.append(page[i:j])
    return out


def join_pdf_lines(lines: list[PdfLine]) -> list[str]:
    """Rejoin the visual lines of a PDF into paragraphs.

    A line that does not end in 。；：！？ continues on the next one, unless it is a heading (title,
    adoption note, 第X章). A line that does end so also continues when the document indents its
    paragraphs (most article starts are indented) and the next line is neither indented nor a
    第X条/（一） start. A wrapped line that starts with 第X条 after an unfinished sentence
    ("依照本条例\n第三十条规定") is text, not an article.
    """
    # the body's left edge: pypdf puts each page's leftmost text at column 0, and continuation lines
    # (not the most common lead: in a list of one-line paragraphs most lines are indented) are there
    edge = min((x.lead for x in lines if x.lead is not None), default=0)

    def indented(x: PdfLine) -> bool | None:
        return None if x.lead is None else x.lead > edge

    starts = [indented(x) for prev, x in zip(lines, lines[1:]) if _TERMINAL.search(prev.text) and _HEAD.match(x.text)]
    indents = sum(1 for n in starts if n) > len(starts) / 2
    # a paragraph ends with 。 or ：, never with ；: after ； only an item (（二）, 2．) starts a line
    out: list[str] = []
    front = True  # before the first article
    for line in lines:
        prev = out[-1] if out else ""
        filled = (not front and prev.endswith(("；", ";")) and not _is_head(line.text)
                  and not re.match(r"\d{1,2}[.．、]", line.text))
        new = (not prev or _is_heading_like(prev, front)
               or _PAGE_NUMBER.fullmatch(prev) or _PAGE_NUMBER.fullmatch(line.text)
               or _LEADER.search(prev) and prev[-1:].isdecimal()  # a contents entry's leaders and page number
               or _TERMINAL.search(prev) and not filled
                  and (not indents or indented(line) is not False or _is_head(line.text)))
        # a chapter or section name wrapped onto a second (centered) line
        wrapped_head = (bool(m := _HEAD.match(prev)) and m.group(2) != "条" and not _is_head(line.text)
                        and len(line.text) <= 20 and not _TERMINAL.search(line.text) and indented(line) is not False
                        and not _UNNUMBERED.fullmatch(line.text) and not _PAGE_NUMBER.fullmatch(line.text))
        if wrapped_head:
            out[-1] = prev + line.text
        elif new:
            out.append(line.text)
            front = front and not _is_article(line.text)
        else:
            space = " " if re.search(r"[A-Za-z0-9,.]$", prev) and re.match(r"[A-Za-z0-9]", line.text) else ""
            out[-1] = prev + space + line.text
    return out


# --- entry points ----------------------------------------------------------------------------------

_OTHER_TYPES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word .doc/.wps or an encrypted Office file: "
                                          "save it as .docx or PDF without a password"),
    (b"{\\rtf", "an RTF file: save it as .docx or PDF"),
    (b"\x89PNG", "a PNG image: run OCR, or provide the text"),
    (b"\xff\xd8\xff", "a JPEG image: run OCR, or provide the text"),
    (b"GIF8", "a GIF image: run OCR, or provide the text"),
    (b"II*\x00", "a TIFF image: run OCR, or provide the text"),
    (b"MM\x00*", "a TIFF image: run OCR, or provide the text"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\x1f\x8b", "a gzip archive: unpack it and upload the regulation file inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: unpack it and upload the regulation file inside"),
    (b"Rar!", "a RAR archive: unpack it and upload the regulation file inside"),
)


def detect_format(data: bytes, name: str = "the file") -> str:
    """"pdf", "docx" (any zip: `repack_zip` checks it) or "text", from the first bytes; others are refused."""
    if data[:1024].lstrip()[:5] == b"%PDF-":
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "docx"
    for magic, what in _OTHER_TYPES:
        if data.startswith(magic):
            raise FormatError(f"{name} is an unsupported file type, {what}")
    if data[:200].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise FormatError(f"{name} is an unsupported file type, an HTML page: save its text as .txt, "
                          "or print it to PDF")
    return "text"


def read_bytes_document(data: bytes, name: str = "the file", max_pages: int = MAX_PAGES) -> str:
    """The regulation in `data` as normalized text for `corpus.parse`; `name` only labels errors."""
    if len(data) > MAX_FILE_BYTES:
        raise FormatError(f"{name} is {len(data) / 2**20:.0f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit")
    kind = detect_format(data, name)
    if kind == "pdf":
        raw = pdf_text(data, name, max_pages)
    elif kind == "docx":
        raw = docx_text(data, name)
    else:
        raw = decode_text(data, name)
    text = normalize_text(raw)
    if not text.strip():
        raise FormatError(f"{name} contains no text; provide {SUPPORTED}")
    return text


def read_document(path: str | Path, max_pages: int = MAX_PAGES) -> str:
    """Read a regulation file (PDF, .docx, text) as normalized text ready for `corpus.parse`."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise FormatError(f"{p} is over the {MAX_FILE_BYTES // 2**20} MiB limit")
        data = p.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read {p}: {e.strerror or e}; check the path and its permissions") from e
    return read_bytes_document(data, str(p), max_pages)
