"""The knowledge base: every regulation in the corpus folder, one of them primary, with versions.

    corpus/
        regulations.json      the registry: which file is which regulation, the primary one, names and
                              dates the text does not state (written by `python -m chatbot corpus add`)
        jiangxi-….md          the source files, unchanged (.md, .txt, .docx, .pdf)

A file in the folder that the registry does not list is still loaded (id from its file name), so a corpus
is usable without a registry. The primary regulation (the Jiangxi one in this product) gives the app its
title and is what a label or question without a law name means: 【第十条】 is its article 10, while the
other laws write their short name first: 【中小企业促进法第十条】. Of several versions of one title (same
title, different version dates) the latest is current and the others are superseded: retrieval uses
current texts unless a question asks about an old one (`Scope`).

`KnowledgeBase` answers what the rest of the pipeline asks of "the regulation" (title, clauses, resolve,
cite, article) for all laws at once, so indexing, retrieval, citations and the UI work across laws.
Parsing one text is `chatbot.corpus`; reading .docx/.pdf files is `chatbot.formats`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .corpus import PRC, Article, Clause, CorpusError, Regulation, is_generic_law, law_matches, parse, title_tail
from .labels import Label, parse_label

REGISTRY = "regulations.json"
SOURCE_SUFFIXES = (".md", ".txt", ".docx", ".pdf")
# a question about versions must say so (修订, 旧版, 2020年版, 新旧): everyday words such as 以前的 or 区别
# alone (以前的欠款, 国家标准和行业标准的区别) are not about versions. Then it asks for the old text, or
# for what changed
VERSION_WORD = re.compile(r"修订|修改|修正|旧版|新版|老版|原版|年版|\d{2,4}版|版本|新旧|[那这]一?版")
OLD_TEXT = re.compile(r"(?:(?<!\d)(\d{4}|\d{2})年?(?:版|版本|的版本|修订的|[那这]一?个?版|[^，。？！,?!\d]{0,4}的[那这]?一?版)|修订前|修改前|修正前|修订之前|修改之前|旧版|老版|原版|"
                      r"原来的版本|以前的版本)")
CHANGES = re.compile(r"变化|不同|区别|差别|差异|改了|改动|调整|变了|新旧|对比|相比")
# ... or, with an old text named, whether the current one still says so (2020年那版……对吗？现在新版还这样吗,
# 2020年那版……只说合理约定。2025年修订以后，有没有规定具体天数)
STILL = re.compile(r"新版|现行|现在|如今|目前|(?:修订|修改|修正)(?:以|之)?后")
# 本条例, 这个条例, 该条例: in a question these mean the primary regulation
THIS_REGULATION = re.compile(r"(?:本|这个|这部|该|此)条例")


class KnowledgeBaseError(CorpusError):
    """The corpus folder or its registry cannot be used; the message says what to fix."""


def slug(name: str) -> str:
    """A stable id from a file name: slug("SME Promotion Law 2017.md") -> "sme-promotion-law-2017";
    a name with no Latin letters or digits keeps its Chinese characters: slug("公司法.docx") -> "公司法"."""
    stem = Path(name).stem.lower()
    out = re.sub(r"[^a-z0-9\u4e00-\u9fff]+", "-", stem).strip("-")
    return out or "regulation-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def read_source(path: Path) -> str:
    """The text of a source file of any supported format (`chatbot.formats`)."""
    from .formats import FormatError, read_document

    try:
        return read_document(path)
    except FormatError as e:
        raise CorpusError(f"{path.name}: {e}") from e


@dataclass
class KnowledgeBase:
    regulations: list[Regulation]            # the primary first, then by title and version
    directory: Path | None = None
    _by_id: dict[str, Regulation] = field(default_factory=dict, init=False, repr=False)
    _name_index: "NameIndex | None" = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self._by_id = {r.id: r for r in self.regulations}

    # -- what the pipeline asks of "the regulation": the primary one, or all clauses --

    @property
    def primary(self) -> Regulation:
        return self.regulations[0]

    @property
    def title(self) -> str:
        return self.primary.title

    @property
    def articles(self) -> tuple[Article, ...]:
        return self.primary.articles

    @property
    def preamble(self) -> Clause | None:
        return self.primary.preamble

    @property
    def chapters(self) -> tuple[str, ...]:
        return self.primary.chapters

    @property
    def adoption(self) -> str:
        return self.primary.adoption

    @property
    def clauses(self) -> list[Clause]:
        """Every citable clause of every regulation (superseded versions too), the primary's first."""
        return [c for r in self.regulations for c in r.clauses]

    @property
    def sha256(self) -> str:
        """One hash of all the texts and how they are named: what an index was built from."""
        h = hashlib.sha256()
        for r in self.regulations:
            h.update(f"{r.id}\0{r.sha256}\0{r.short}\0{r.status}\0{r.primary}\0".encode())
        return h.hexdigest() if len(self.regulations) > 1 else self.primary.sha256

    def article(self, number: int, regulation: str | None = None) -> Article | None:
        reg = self.get(regulation) if regulation else self.primary
        return reg.article(number) if reg else None

    def get(self, regulation_id: str) -> Regulation | None:
        return self._by_id.get(regulation_id)

    def of(self, clause: Clause) -> Regulation:
        """The regulation a clause belongs to."""
        return self._by_id.get(clause.regulation, self.primary)

    @property
    def current(self) -> list[Regulation]:
        return [r for r in self.regulations if r.status == "current"]

    @property
    def others(self) -> list[Regulation]:
        """The current regulations besides the primary one."""
        return [r for r in self.current if not r.primary]

    def names(self, law: str) -> bool:
        return any(r.names(law) for r in self.regulations)

    def named(self, law: str | None, within: str | None = None) -> Regulation | None:
        """The regulation a law name in a label means: none named -> `within` (a regulation id) or the
        primary; a generic name (本条例) -> the primary; else the current one it names best, else None."""
        if not law:
            return self.get(within) if within else self.primary
        if is_generic_law(law):
            return self.get(within) if within else self.primary
        matches = [r for r in self.regulations if r.names(law)]
        if not matches:
            return None
        exact = [r for r in matches if law.endswith((r.short, r.title, r.title.removeprefix(PRC)))]
        pool = exact or matches
        year = re.match(r"(\d{4})年版", law)
        if year:  # 2020年版款项支付条例: the version of that year
            pool = [r for r in pool if (r.version or r.effective)[:4] == year.group(1)] or pool
        if within and any(r.id == within for r in pool):
            return self.get(within)
        return next((r for r in pool if r.status == "current"), pool[0])

    def resolve(self, label: str | Label, within: str | None = None) -> Clause | Article | None:
        """What a label names, in the law it names (or `within`, or the primary when it names none)."""
        ref = parse_label(label) if isinstance(label, str) else label
        if ref is None:
            return None
        reg = self.named(ref.regulation, within)
        return reg.resolve(replace(ref, regulation=None)) if reg else None

    def cite(self, clause: Clause, item: int | None = None) -> str:
        return self.of(clause).cite(clause, item)

    def laws_line(self) -> str:
        """《A》《B》…: the current regulations besides the primary, for the UI and refusals."""
        return "".join(f"《{r.title}》" for r in self.others)

    # -- which regulations a question is about --

    def mentioned(self, question: str) -> list[Regulation]:
        """The regulations a question names, by title, short name or an abbreviation (科技进步法), or by
        本条例 (the primary). Several versions of one title are all returned; `scope` picks among them."""
        return list(dict.fromkeys(r for _, regs in self.mentions(question) for r in regs))

    def _named(self, window: str) -> tuple[int, int, list[Regulation]]:
        """(score, length, regulations) of the best names the end of `window` gives (`_named_length`)."""
        best, length, regs = 0, 0, []
        for r in self._name_index.candidates(window):
            n, size = _named_length(window, r)
            if n > best:
                best, length, regs = n, size, [r]
            elif n == best and n:
                regs.append(r)
        return best, length, regs

    def mentions(self, question: str) -> list[tuple[int, list[Regulation]]]:
        """Each place a question names regulations: (where the name ends, the regulations it names)."""
        return [(end, regs) for _, end, regs in self.mention_spans(question)]

    def mention_spans(self, question: str) -> list[tuple[int, int, list[Regulation]]]:
        """(start, end, regulations) for each law name in a question (本条例 included)."""
        out: list[tuple[int, int, list[Regulation]]] = []
        if self._name_index is None:
            self._name_index = NameIndex(self.regulations)
        for m in re.finditer(r"法|条例|规定|办法", question):
            window = question[max(0, m.start() - 16):m.end()]
            best, length, regs = self._named(window)
            gap = 0
            if not best and (c := CONNECTOR.search(window[:-len(m.group(0))])) and \
                    not LAW_WORD_AFTER.match(question[m.end():]):
                # 国家那部科技成果转化的法, 产品质量那个法: the name with the word that joins it to 法 left out
                best, length, regs = self._named(window[:c.start()] + m.group(0))
                gap = len(c.group(0))
            if best:
                out.append((m.end() - length - gap, m.end(), regs))
            elif t := THIS_REGULATION.search(window[-6:]):
                out.append((m.end() - len(t.group(0)), m.end(), [self.primary]))
        return out

    def without_names(self, question: str, keep_primary: bool = True) -> str:
        """The question with the names of other laws than the primary taken out (科技进步法怎么规定… ->
        怎么规定…): once retrieval is kept to the law named, its name only matches every clause that repeats
        the title words. The primary regulation's name stays unless `keep_primary` is false: its retrieval
        was tuned with it, and 「为啥要出这个条例」 without it says nothing."""
        spans = [(a, b, regs) for a, b, regs in self.mention_spans(question)
                 if not (keep_primary and any(r.primary for r in regs))]
        out = question
        for start, end, _ in reversed(spans):
            out = out[:start] + out[end:]
        return out.strip(" 《》") or question

    def scope(self, question: str, allowed: list[str] | None = None) -> "Scope":
        """Which regulations retrieval may use for a question.

        Default: every current one (or those in `allowed`, a UI or API choice). A question that names
        laws is kept to them; one that asks about an old text (2020年版, 修订前) gets the superseded
        versions of the named laws (or of every law that has versions); one that asks what changed gets
        both versions.
        """
        named = self.mentioned(question)
        about_versions = VERSION_WORD.search(question)
        old = about_versions and OLD_TEXT.search(question)
        changes = about_versions and (CHANGES.search(question) or old and STILL.search(question))
        titles = {r.title for r in named} or {r.title for r in self.regulations
                                              if sum(x.title == r.title for x in self.regulations) > 1}
        if old or changes:
            versions = [r for r in self.regulations if r.title in titles]
            year = old.group(1) if old and old.group(1) else None
            year = "20" + year if year and len(year) == 2 else year  # 20年那版: 2020
            if year and not changes:
                chosen = ([r for r in versions if r.version[:4] == year]
                          or [r for r in versions if year in (r.effective[:4], r.adopted[:4])])
            elif old and not changes:
                chosen = [r for r in versions if r.status != "current"]
            else:
                chosen = versions
            if chosen:
                keep = [r for r in named if r.title not in titles] + chosen
                return Scope([r.id for r in dict.fromkeys(keep)], named=bool(named), versions=True)
        if named:
            ids = [r.id for r in named if r.status == "current"] or [named[0].id]
            return Scope(ids, named=True)
        ids = [r.id for r in self.current if allowed is None or r.id in allowed]
        return Scope(ids or [r.id for r in self.current], regulation_word="条例" in question)


@dataclass(frozen=True)
class Scope:
    """The regulations one question may be answered from."""
    ids: list[str]
    named: bool = False        # the question named them
    versions: bool = False     # the question asked about an old text or what changed
    regulation_word: bool = False  # it says 条例 without naming one: most likely the primary (the assistant's own)


# the words people put between a law's name and 法 or 条例 (科技成果转化的法, 产品质量那个法), and the characters after
# 法 that make it part of another word (法律, 法规, 法人, 法定, 法院)
CONNECTOR = re.compile(r"(?:的|那个|这个|那部|这部|那一部|那)$")
LAW_WORD_AFTER = re.compile(r"[律规人定院官治制典]")


class NameIndex:
    """Which regulations a law name ending a question window could name, without trying every one: with
    thousands of laws, `_named_length` runs only on these. A regulation can be named (a) by a name of its
    own (title, title without 中华人民共和国, short name) that ends the window, or (b) by an abbreviation
    that ends like its title (法, 条例, 规定, 办法) with at least the two characters before that ending
    taken from its title (`corpus.law_matches`). So the candidates are the regulations with a name equal
    to a tail of the window, plus those whose title has that ending and contains both characters. Returned
    in knowledge-base order, so ties come out as a scan of every regulation would give them.

    candidates("依据中小企业促进法") over the shipped laws -> 中小企业促进法 and 促进科技成果转化法 (both end in 法
    and hold 促 and 进), not 标准化法
    """

    ENDINGS = ("法", "条例", "规定", "办法")

    def __init__(self, regulations: list[Regulation]):
        self.regulations = regulations
        self.by_name: dict[str, set[int]] = {}
        self.by_char: dict[tuple[str, str], set[int]] = {}
        for i, r in enumerate(regulations):
            for name in {r.title, r.title.removeprefix(PRC), r.short} - {""}:
                self.by_name.setdefault(name, set()).add(i)
            ending = next((e for e in self.ENDINGS if r.title.endswith(e)), None)
            if ending:
                for ch in set(r.title):
                    self.by_char.setdefault((ending, ch), set()).add(i)
        self.longest = max((len(n) for n in self.by_name), default=0)

    def candidates(self, window: str) -> list[Regulation]:
        found: set[int] = set()
        for size in range(1, min(len(window), self.longest) + 1):
            found |= self.by_name.get(window[-size:], set())
        for ending in self.ENDINGS:
            before = window[:-len(ending)] if window.endswith(ending) else ""
            if len(before) >= 2:
                found |= (self.by_char.get((ending, before[-1]), set())
                          & self.by_char.get((ending, before[-2]), set()))
        return [self.regulations[i] for i in sorted(found)]


def _named_length(window: str, reg: Regulation) -> tuple[int, int]:
    """(score, length): how well and in how many characters the end of `window` names `reg` ((0, 0): it
    does not): its full name written out (scores 10 more), or an abbreviation (the longest tail that
    `law_matches` accepts)."""
    for name in sorted({reg.title, reg.title.removeprefix(PRC), reg.short}, key=len, reverse=True):
        if name and window.endswith(name) and not is_generic_law(name):
            return len(name) + 10, len(name)
    if not law_matches(window, reg.title, reg.short):
        return 0, 0
    # the abbreviation is the longest tail whose characters are the title's, in order (国家科技进步法 names
    # 科学技术进步法 in its last five characters: 家 is not in the title, and a name never spans 「，」)
    size = title_tail(window, reg.title)
    tail = window[len(window) - size:]
    if size and not is_generic_law(tail) and law_matches(tail, reg.title, reg.short):
        return size, size
    return 0, 0


# --- the folder and its registry ------------------------------------------------------------------

def registry(directory: Path) -> dict:
    p = directory / REGISTRY
    if not p.is_file():
        return {"primary": None, "regulations": []}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise KnowledgeBaseError(f"{p} is not valid JSON ({e}); fix it or delete it to list files afresh") from e
    if not isinstance(data, dict) or not isinstance(data.get("regulations", []), list):
        raise KnowledgeBaseError(f"{p} must hold {{\"primary\": id, \"regulations\": [...]}}")
    data.setdefault("regulations", [])
    data.setdefault("primary", None)
    return data


def write_registry(directory: Path, data: dict) -> None:
    """Write the registry atomically (a temporary file renamed over the old one)."""
    p = directory / REGISTRY
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(p)


def entries(directory: Path) -> tuple[list[dict], str | None]:
    """The registry's entries plus one for every source file it does not list, and the primary id."""
    data = registry(directory)
    listed = {e.get("file") for e in data["regulations"]}
    out = [dict(e) for e in data["regulations"]]
    for p in sorted(directory.iterdir()):
        if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES and p.name not in listed:
            out.append({"id": slug(p.name), "file": p.name})
    return out, data["primary"]


def parse_entry(entry: dict, text: str, primary: bool, law: str | None = None) -> Regulation:
    """A registry entry's regulation: parsed from its text, with the entry's values where given."""
    reg = parse(text, id=entry["id"], short=entry.get("short", ""), primary=primary,
                title=entry.get("title", ""), effective=entry.get("effective", ""), law=law)
    return replace(reg, version=entry.get("version") or reg.version or reg.effective, source=entry["file"])


def with_status(regulations: list[Regulation]) -> list[Regulation]:
    """Mark every version but the latest of each title superseded (by version date, then effective date)."""
    latest: dict[str, Regulation] = {}
    for r in regulations:
        key = (r.version, r.effective)
        if r.title not in latest or key > (latest[r.title].version, latest[r.title].effective):
            latest[r.title] = r
    return [replace(r, status="current" if latest[r.title] is r else "superseded") for r in regulations]


def load_kb(path: str | Path) -> KnowledgeBase:
    """Every regulation in a corpus folder (or the one file given), the primary first."""
    p = Path(path)
    if p.is_file():
        reg = parse_entry({"id": slug(p.name), "file": p.name}, read_source(p), primary=True)
        return KnowledgeBase([reg], p.parent)
    if not p.is_dir():
        raise KnowledgeBaseError(f"no corpus folder at {p}; create it and add a regulation with "
                                 "`python -m chatbot corpus add FILE`")
    items, primary_id = entries(p)
    if not items:
        raise KnowledgeBaseError(f"no regulation file (.md, .txt, .docx, .pdf) in {p}/; add one with "
                                 "`python -m chatbot corpus add FILE`")
    ids = [e["id"] for e in items]
    if len(set(ids)) != len(ids):
        raise KnowledgeBaseError(f"{p}/{REGISTRY} lists an id twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    primary_id = primary_id if primary_id in ids else ids[0]
    regs, texts = [], {}
    for e in items:
        src = p / e["file"]
        if not src.is_file():
            raise KnowledgeBaseError(f"{p}/{REGISTRY} lists {e['file']}, which is not in {p}/; restore it "
                                     f"or run `python -m chatbot corpus remove {e['id']}`")
        try:
            texts[e["id"]] = read_source(src)
            regs.append(parse_entry(e, texts[e["id"]], primary=e["id"] == primary_id))
        except CorpusError as err:
            raise KnowledgeBaseError(f"{src}: {err}") from err
    regs = with_status(regs)
    # a superseded version's labels name its year (2020年版款项支付条例第八条), apart from the current one's
    regs = [r if r.status == "current" or r.primary else
            replace(parse_entry(next(e for e in items if e["id"] == r.id), texts[r.id], primary=False,
                                law=f"{(r.version or r.effective)[:4]}年版{r.short}"), status=r.status)
            for r in regs]
    regs.sort(key=lambda r: (not r.primary, r.status != "current", ids.index(r.id)))
    return KnowledgeBase(regs, p)


def as_kb(regulation: Regulation | KnowledgeBase) -> KnowledgeBase:
    """A knowledge base of one regulation, or the knowledge base given."""
    return regulation if isinstance(regulation, KnowledgeBase) else KnowledgeBase([regulation])


# --- adding and removing regulations ----------------------------------------------------------------

@dataclass
class Added:
    regulation: Regulation          # as parsed and registered
    kb: KnowledgeBase               # the knowledge base after the add
    superseded: list[str]           # ids of earlier versions this one supersedes

    def to_json(self) -> dict:
        r = self.regulation
        return {"id": r.id, "title": r.title, "short": r.short, "articles": len(r.articles),
                "clauses": len(r.clauses), "version": r.version, "effective": r.effective, "status": r.status,
                "issuer": r.issuer, "chapters": list(r.chapters), "file": r.source,
                "superseded": self.superseded, "warnings": list(r.warnings)}


def describe(reg: Regulation) -> dict:
    """One regulation as `corpus list --json` prints it."""
    return {"id": reg.id, "title": reg.title, "short": reg.short, "version": reg.version, "status": reg.status,
            "articles": len(reg.articles), "primary": reg.primary, "issuer": reg.issuer, "adopted": reg.adopted,
            "amended": list(reg.amended), "effective": reg.effective, "chapters": len(reg.chapters),
            "file": reg.source}


def _plan_add(directory: str | Path, source: str | Path, title: str = "", short: str = "",
              effective: str = "", version: str = "", reg_id: str = "", primary: bool = False):
    """Every check of an add, changing nothing: (folder, source, target file, registry entry, parsed
    regulation, the registry after the add)."""
    d = Path(directory)
    src = Path(source)
    if not src.is_file():
        raise KnowledgeBaseError(f"no file at {src}")
    for name, value in (("--effective", effective), ("--version", version)):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise KnowledgeBaseError(f"{name} expects a date as YYYY-MM-DD, got {value!r}")
    data = registry(d)
    items, primary_id = entries(d) if d.is_dir() else ([], None)
    reg_id = reg_id or slug(src.name)
    if any(e["id"] == reg_id for e in items):
        raise KnowledgeBaseError(f"{reg_id} is already in the knowledge base; remove it first "
                                 f"(`python -m chatbot corpus remove {reg_id}`) or pass --id")
    target = d / src.name
    if target.exists():
        raise KnowledgeBaseError(f"{target} already exists; rename the file or remove that regulation first")
    entry = {"id": reg_id, "file": src.name}
    entry |= {k: v for k, v in (("title", title), ("short", short), ("effective", effective),
                                ("version", version)) if v}
    make_primary = primary or not items
    reg = parse_entry(entry, read_source(src), primary=make_primary)
    if not reg.title:
        raise KnowledgeBaseError(f"{src.name}: no title found on its first line; pass --title")
    if not reg.version and not reg.effective:
        reg = replace(reg, warnings=(*reg.warnings, "no adoption, amendment or effective date found in the text: "
                                     "pass --version YYYY-MM-DD so that versions of this title are ordered"))
    new_data = {"primary": reg_id if make_primary else (data["primary"] or primary_id),
                "regulations": [*items, entry]}
    return d, src, target, entry, reg, new_data


def preview_add(directory: str | Path, source: str | Path, **options) -> dict:
    """What `add_regulation` would add, changing nothing: the regulation as `describe` shows it, plus its
    warnings, chapters, first articles, and the ids of the versions it would supersede (or that supersede
    it). Raises KnowledgeBaseError/CorpusError as the add would."""
    d, _, _, _, reg, _ = _plan_add(directory, source, **options)
    existing = load_kb(d).regulations if d.is_dir() and entries(d)[0] else []
    ranked = with_status([*existing, reg])
    new = ranked[-1]
    same = [r for r in ranked[:-1] if r.title == new.title]
    return describe(new) | {
        "warnings": list(reg.warnings),
        "chapter_titles": list(reg.chapters),
        "first_articles": [{"article": a.number, "label": a.label, "text": a.text} for a in reg.articles[:3]],
        "supersedes": [r.id for r in same if new.status == "current" and r.status == "superseded"],
        "superseded_by": [r.id for r in same if new.status == "superseded"],
        "clauses": len(reg.clauses)}


def add_regulation(directory: str | Path, source: str | Path, title: str = "", short: str = "",
                   effective: str = "", version: str = "", reg_id: str = "", primary: bool = False,
                   rebuild=None) -> Added:
    """Copy a regulation file into the corpus folder, register it, and call `rebuild(kb)` (the index).

    Everything is checked before anything changes: the file must read and parse (a file with no 第X条
    structure is refused), have a title (from its first line or `title`), and not clash with an id or
    file already there. If `rebuild` fails, the file and the registry are put back as they were, so a
    failed add leaves the corpus (and, the index build being atomic, the index) untouched.
    """
    d, src, target, entry, reg, new_data = _plan_add(directory, source, title, short, effective, version,
                                                     reg_id, primary)
    reg_id = entry["id"]
    d.mkdir(parents=True, exist_ok=True)
    old_registry = (d / REGISTRY).read_bytes() if (d / REGISTRY).is_file() else None
    tmp = d / f".{src.name}.adding"
    try:
        tmp.write_bytes(src.read_bytes())
        tmp.replace(target)
        write_registry(d, new_data)
        kb = load_kb(d)
        if rebuild is not None:
            rebuild(kb)
    except BaseException:
        tmp.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        if old_registry is None:
            (d / REGISTRY).unlink(missing_ok=True)
        else:
            (d / REGISTRY).write_bytes(old_registry)
        raise
    added = replace(kb.get(reg_id), warnings=reg.warnings)
    superseded = [r.id for r in kb.regulations if r.title == added.title and r.status == "superseded"
                  and added.status == "current"]
    return Added(added, kb, superseded)


def remove_regulation(directory: str | Path, reg_id: str, rebuild=None) -> Regulation:
    """Remove a regulation (its file and registry entry) and call `rebuild(kb)`; put both back if that fails.
    The primary regulation cannot be removed while others remain."""
    d = Path(directory)
    items, primary_id = entries(d)
    entry = next((e for e in items if e["id"] == reg_id), None)
    if entry is None:
        raise KnowledgeBaseError(f"no regulation {reg_id!r}; `python -m chatbot corpus list` shows the ids")
    kb_before = load_kb(d)
    if kb_before.get(reg_id).primary and len(items) > 1:
        raise KnowledgeBaseError(f"{reg_id} is the primary regulation; remove the others first")
    if len(items) == 1:
        raise KnowledgeBaseError(f"{reg_id} is the only regulation; a knowledge base needs one")
    src = d / entry["file"]
    kept = src.read_bytes()
    old_registry = (d / REGISTRY).read_bytes() if (d / REGISTRY).is_file() else None
    try:
        write_registry(d, {"primary": primary_id, "regulations": [e for e in items if e["id"] != reg_id]})
        src.unlink()
        kb = load_kb(d)
        if rebuild is not None:
            rebuild(kb)
    except BaseException:
        src.write_bytes(kept)
        if old_registry is None:
            (d / REGISTRY).unlink(missing_ok=True)
        else:
            (d / REGISTRY).write_bytes(old_registry)
        raise
    return kb_before.get(reg_id)
