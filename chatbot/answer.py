"""The answer pipeline: retrieve, check scope, prompt, generate, verify citations, or refuse.

    question ─▶ clean ─▶ rewrite follow-up ─▶ retrieve ─▶ scope / relevance gate ─┬─▶ refusal
                                                                               └─▶ prompt ─▶ LLM (or quote)
                                                        verified citations ◀─ check labels ◀─┘

Every label shown to the user is built from retrieved clauses; the labels the model writes are verified
by `chatbot.citations`, and an answer left with no valid citation is never presented as coming from the
regulation (the clauses are quoted instead). Backends live in `chatbot.llm`, retrieval in
`chatbot.retrieve`, out-of-scope rules in `chatbot.scope`, follow-ups in `chatbot.conversation`.
"""

from __future__ import annotations

import re
import string
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .citations import Sentence, basis_list, bigrams, check_citations, excerpt, figure_sentence, numbers_in
from .config import MAX_TOP_K, Settings
from .conversation import Turn, bounded, rewrite
from .corpus import Clause, Regulation
from .labels import find_labels, format_label
from .llm import LLM, LLMError, load_llm
from .numerals import to_chinese
from .retrieve import Hit, Retrieval, Retriever, asks_article_text, asks_when, open_retriever
from .scope import asks_figure, gaps, out_of_scope, stated_figure
from .shape import render as render_sentences
from .shape import MAX_POINTS, excluded_item, fit, shape, yes_no
from .tokens import simplified

PROMPTS = Path(__file__).parent / "prompts"
NOT_COVERED = "本条例未对此作出规定"
KB_NOT_COVERED = "本知识库收录的法规未对此作出规定"  # when more laws than the primary one are loaded
REFUSAL_MARKERS = (NOT_COVERED, KB_NOT_COVERED, "未对此作出规定", "没有作出规定", "没有相关规定", "未作规定", "无法回答", "没有规定")
# nearest clauses listed with a refusal, so the reader sees what the regulation does say
SUGGESTIONS = 3
# a paragraph making an exception to the one before it
EXCEPTION = re.compile(r"前[一两二三]?款.{0,24}(?:不适用|除外|另有约定的，从其约定|另有规定的，(?:从|依照)其规定)|^但是")
UNRELATED = "这个问题与收录的法规无关"  # the refusal reason for weather, travel, recipes: no clause is suggested
# the relevance gate when it is neither set nor calibrated (no gold file, or a BM25-only index): the value
# calibrated for EmbeddingGemma before calibration was automatic
DEFAULT_MIN_RELEVANCE = 0.30


class InputError(ValueError):
    """The question cannot be asked as given; the message (in Chinese) tells the user what to change."""


@dataclass
class Answer:
    question: str                     # as the user typed it (cleaned)
    text: str                         # the answer shown, citations inline, ending with the 依据 list
    citations: list[Clause]           # the verified clauses the answer rests on, in order of first citation
    hits: list[Hit]                   # what retrieval returned
    refused: bool                     # True when the regulation does not cover the question
    backend: str                      # transformers, llama.cpp, openai or extractive
    standalone: str = ""              # the question after follow-up rewriting
    timings: dict[str, float] = field(default_factory=dict)  # seconds; tokens and tokens_per_s too
    removed_citations: list[str] = field(default_factory=list)  # labels the model wrote that failed checks
    added_citations: list[str] = field(default_factory=list)    # labels added to uncited sentences
    suggestions: list[Clause] = field(default_factory=list)     # nearest clauses, for refusals
    notices: list[str] = field(default_factory=list)            # e.g. fell back to quoting, and why
    refusal_reason: str = ""
    relevance: float | None = None    # best dense cosine of any clause (None when BM25 only)
    dropped: list[str] = field(default_factory=list)  # model sentences left out, each "why: sentence"
    fallback: bool = False            # the model's output was unusable and the clauses are quoted instead

    def to_json(self) -> dict:
        return {"question": self.question, "standalone": self.standalone, "answer": self.text,
                "citations": [{"regulation": c.regulation, "regulation_title": c.regulation_title,
                               "article": c.article, "paragraph": c.paragraph, "label": c.label, "text": c.text}
                              for c in self.citations],
                "refused": self.refused, "refusal_reason": self.refusal_reason, "backend": self.backend,
                "relevance": self.relevance,
                "suggestions": [c.label for c in self.suggestions],
                "removed_citations": self.removed_citations, "added_citations": self.added_citations,
                "dropped": self.dropped, "fallback": self.fallback,
                "notices": self.notices, "timings": {k: round(v, 4) for k, v in self.timings.items()},
                "hits": [{"regulation": h.clause.regulation, "regulation_title": h.clause.regulation_title,
                          "article": h.clause.article, "paragraph": h.clause.paragraph, "label": h.clause.label,
                          "score": h.score} for h in self.hits]}


# --- input ----------------------------------------------------------------------------------------

def clean_question(text: str, max_chars: int) -> str:
    """Normalize a question, or raise InputError with a message for the user.

    Control characters become spaces and runs of whitespace collapse; the text is otherwise kept as typed
    (tokenization does its own normalization).
    """
    if not isinstance(text, str):
        raise InputError("问题必须是文字。")
    s = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    s = re.sub(r"\s+", " ", s).strip()
    if not s:
        raise InputError("请输入问题，例如：工厂做技术改造，政府能给什么支持？")
    if len(s) > max_chars:
        raise InputError(f"问题太长（{len(s)}字），请精简到{max_chars}字以内再问。")
    return s


MAX_PARTS = 3    # parts of a question retrieved on their own
WHOLE_RANKS = 3  # ... whose best clause must be among the whole question's first hits
FAR_DENSE, FAR_BM25 = 50, 3  # ranks beyond both of which a hit is no evidence beside the best (`_far`)
OTHER_LAW_BM25 = 5  # BM25 rank a clause of another law than the best hit's needs to be evidence beside it


def sub_questions(question: str) -> list[str]:
    """The parts of a question that asks several things, split at its question marks (parts of at least
    four characters); a question of one part is returned whole.

    sub_questions("条例什么时候施行？施行后人大怎么监督政府落实？") -> ["条例什么时候施行", "施行后人大怎么监督政府落实"]
    sub_questions("那资金方面呢？（接上一问：技改支持？）") -> ["那资金方面呢？（接上一问：技改支持？）"]
    """
    original, question = question, re.sub(r"（接上一问：.*）$", "", question)  # a follow-up's context is no part
    parts = [_ask_of(p.strip(" ，,。；;")) for p in re.split(r"[？?]", question)]
    parts = [p for p in parts if len(p) >= 4]
    return parts if len(parts) > 1 else [original]


# where the story before an ask ends, and the number an ask of several starts with (一是, 第二, 2.)
STORY_END = re.compile(r"[。！!；;：:]")
ASK_NUMBER = re.compile(r"^(?:[一二三四五]是|其[一二三四五]|第[一二三四五](?:个问题|点|个|是)?[，,、：:]?|\d[.、．)）]|[（(]\d[)）])\s*")


def _ask_of(part: str) -> str:
    """A part of a question without the story told before it and its number:
    「……扩产反而啥都没有。想问两件事：一是政府支持技术改造有哪些方式」 -> 「政府支持技术改造有哪些方式」.
    A last sentence too short to ask anything alone (能申请吗) keeps the sentences before it."""
    pieces = [x for x in STORY_END.split(part) if x.strip()]
    last = ASK_NUMBER.sub("", pieces[-1].strip()) if pieces else part
    return last if len(last) >= 6 else part


# a question asking about each of several things: 办手续、水电气物流、拿地这几块，分别怎么支持
EACH = re.compile(r"分别|各[有自是]|这[几两三四][块个项样方面条种类]|几个方面|哪几[块个项方面]")
ENUM_SEP = re.compile(r"、|以及|(?<![涉])及|和|(?<![参给])与|跟|还有")  # (参与, 涉及: one word)
ENUM_START = re.compile(r"^.*?(?:从|在|对|就|关于|把|搞|做)(?=[^从在对就关于把搞做]{2,}[、和及与到])")
ENUM_END = re.compile(r"(?:这几|这些|这[两三四五]|几[块个项方面]|等方面|方面|上各|上分别|分别|各[有自是]|[上里中]$).*$")
THING_ASPECT = re.compile(r"(?<=..)的(?:作用|角色|方面|问题|情况|事情?|工作|职责|责任|规定|要求|政策)$")
WH_ASK = re.compile(r"哪些|什么|怎么|怎样|如何|多少|谁|哪")
# a question asking which article says something: 链长制是第几条讲的, 出自条例哪一条, 标准化法哪条规定了团体标准
WHICH_ARTICLE = re.compile(r"第几[条款]|哪[一几]?[条款]|哪个条款|哪些条款|出自哪")
# 国家和省里分别怎么规定: the laws' levels, whose answers the knowledge base's retrieval already brings, not things
_LEVEL = (r"(?:国家|中央|全国|省|省里|省级|本省|江西|江西省|地方|市里|县里)(?:层面|里|上|级)?"
          r"(?:的?(?:法律|法规|条例|规定))?")
LEVEL = re.compile(f"^{_LEVEL}$")
LEVELS = re.compile(f"{_LEVEL}(?:和|与|跟|及|、){_LEVEL}")  # 国家和省里各有什么规定
MAX_ITEMS = 4    # things of an enumeration retrieved on their own
MAX_THING = 8    # characters of a thing (办手续, 政府基金) as against an ask of its own (要担哪些职责)


def covers(thing: str, clauses: list[Clause], short: bool = True) -> bool:
    """Whether a clause names a thing asked about: verbatim, or at least half its character bigrams
    (新兴产业 in 「培育壮大新兴未来制造业……产业体系」). With `short`, a longer part (an ask of its own, 要担哪些
    职责) is never covered so."""
    if short and len(thing) > MAX_THING:
        return False
    want = bigrams(thing)
    return any(thing in c.text or want and 2 * len(want & bigrams(c.text)) >= len(want) for c in clauses)


def asked_items(question: str) -> list[tuple[str, str]]:
    """(thing, its query) for each thing a one-sentence question asks about: an enumeration before
    分别/各有/这几块 (or of three or more things in 、), or two clauses each asking a wh-question;
    else nothing. The query is the thing with the question's ask: 「拿地」 -> 「拿地条例分别是怎么支持的」.

    asked_items("办手续、水电气物流、拿地这几块，条例分别是怎么支持的？")[2] -> ("拿地", "拿地条例分别是怎么支持的")
    asked_items("县级政府要担哪些职责，又由谁来监督") -> [("县级政府要担哪些职责", ...), ("又由谁来监督", ...)]
    """
    q = re.sub(r"（接上一问：.*）$", "", question).strip().rstrip("？?。！!")
    if len([p for p in re.split(r"[？?]", q) if len(p.strip()) >= 4]) > 1:
        return []  # a question of several sentences: `sub_questions`
    segments = [x for x in re.split(r"[，,：:；;]", q) if x.strip()]
    if LEVELS.search(q):
        return []  # what the national law and the provincial regulation each say: both laws are retrieved
    marked = bool(EACH.search(q))
    if not marked and (yes_no(q) or not WH_ASK.search(q)):
        return []  # 立项、拿地、环评、安评跑了大半年，条例有没有说要简化: one ask, its examples listed
    for n, seg in enumerate(segments):
        from_to = "从" in seg and "到" in seg  # 从立项审批到拿地，政府分别怎么保障
        if "、" not in seg and not (marked and (ENUM_SEP.search(seg) or from_to)
                                    and EACH.search(seg + "".join(segments[n + 1:n + 2]))):
            continue
        if not marked and seg.count("、") < 2:
            continue
        body = ENUM_END.sub("", ENUM_START.sub("", seg))
        if "从" in seg and "到" in body:
            body = body.replace("到", "、", 1)  # 从财政、政府基金到银行贷款: 到 joins two things ("提到" does not)
        things = [t.strip() for t in ENUM_SEP.split(body) if len(t.strip()) >= 2]
        things = [THING_ASPECT.sub("", t) for t in things]  # 政府的作用 -> 政府 (打造自己的品牌 stays)
        if len(things) < 2 or any(len(t) > 12 for t in things) or "等" in things[-1] or any(map(LEVEL.match, things)):
            # 有色金属、石化化工、建材等传统产业: examples of one thing, not things asked about each
            continue
        ask = "".join(segments[n + 1:]) or WH_ASK.search(seg) and seg[WH_ASK.search(seg).start():] or "有哪些规定"
        return [(t, t + ask) for t in things[:MAX_ITEMS]]
    asks = [x.strip() for x in segments if WH_ASK.search(x) and len(x.strip()) >= 4]
    if len(asks) == 2 and len(segments) <= 3:
        return [(x, x) for x in asks]
    return []


# --- prompts --------------------------------------------------------------------------------------

def render(name: str, **values) -> str:
    """Fill a prompt template from chatbot/prompts/; a missing variable raises KeyError (no silent gaps)."""
    return string.Template((PROMPTS / name).read_text(encoding="utf-8")).substitute(**values)


def build_messages(regulation: Regulation, question: str, clauses: list[Clause],
                   max_chars: int = Settings.max_answer_chars, retry: bool = False) -> list[dict]:
    """The chat messages for one question. `retry` is the second try after an unusable output (a small
    model that only repeated the question): the example becomes a worked exchange before the question,
    and the question is followed by a reminder (prompts/retry.txt)."""
    context = "\n".join(f"【{c.label}】{c.text}" for c in clauses)
    answers = yes_no(question)
    # a yes/no question names its two possible answers, so that the first sentence can be one of them
    hint = render("yes_no.txt", yes=answers[0], no=answers[1]) if answers else ""
    user = render("user.txt", clauses=context, question=question, hint=hint)
    titles = _titles(regulation, clauses)
    if not retry:
        return [{"role": "system", "content": rules(regulation, max_chars, titles) + "\n" + render("example.txt")},
                {"role": "user", "content": user}]
    question_ex, answer_ex = re.search(r"【问题】(.+)\n【回答】(.+)", render("example.txt")).groups()
    cited = [c for _, label in find_labels(answer_ex) if isinstance(c := regulation.resolve(label), Clause)]
    context_ex = "\n".join(f"【{c.label}】{c.text}" for c in cited)
    return [{"role": "system", "content": rules(regulation, max_chars, titles)},
            {"role": "user", "content": render("user.txt", clauses=context_ex, question=question_ex, hint="")},
            {"role": "assistant", "content": answer_ex},
            {"role": "user", "content": render("user.txt", clauses=context, question=question,
                                               hint="\n".join(x for x in (hint.strip(), render("retry.txt").strip()) if x))}]


def rules(regulation: Regulation, max_chars: int, titles: list[str] | None = None) -> str:
    """The system prompt's rules: what a prompt-extraction attempt would try to get repeated. (The example
    answer that follows them may be repeated: it is a true answer.) The assistant is introduced as that of
    the laws the evidence comes from (`titles`), by default the primary regulation."""
    return render("system.txt", title="》《".join(titles or [regulation.title]), max_chars=max_chars)


def _titles(regulation, clauses: list[Clause]) -> list[str]:
    """The titles of the laws the evidence clauses come from, the primary's first (if it is among them)."""
    titles = list(dict.fromkeys(c.regulation_title for c in clauses if c.regulation_title))
    return titles if titles and titles != [regulation.title] else [regulation.title]


def leaks_prompt(answer: str, system_prompt: str, window: int = 16, names: tuple[str, ...] = ()) -> bool:
    """Whether the answer repeats a long stretch of the system prompt (a prompt-extraction attempt). The
    laws' `names`, which the prompt introduces itself with, are no leak: an answer may name its law
    (《中华人民共和国促进科技成果转化法》第四十条 is 18 characters of the prompt)."""
    a = re.sub(r"\s", "", answer)
    s = re.sub(r"\s", "", system_prompt)
    for name in sorted(names, key=len, reverse=True):
        a, s = a.replace(name, "|"), s.replace(name, "|")
    return any(s[i:i + window] in a for i in range(0, max(len(s) - window, 0), 4))


def _far(h) -> bool:
    """A hit far from the question by meaning (dense rank beyond FAR_DENSE) that BM25 does not rank among its
    first FAR_BM25 either: close to the best score only through its own law's scale (「有啥前提条件」 finds
    第二十二条第二款's 符合条件的 at dense rank 145), no evidence beside the best clause."""
    return (h.dense_rank is None or h.dense_rank > FAR_DENSE) and (h.bm25_rank is None or h.bm25_rank > FAR_BM25)


def below_relevance(relevance: float | None, named_article: bool, threshold: float) -> bool:
    """The relevance gate: refuse when even the best clause is far from the question (dense cosine below
    `threshold`), unless the question names an article. Without dense retrieval there is no gate."""
    return relevance is not None and relevance < threshold and not named_article


def relevance_threshold(settings: Settings, manifest: dict) -> tuple[float, str]:
    """(threshold, where it comes from): an explicit setting, else the index's calibration, else the default."""
    if settings.min_relevance != "auto":
        return float(settings.min_relevance), "setting"
    calibrated = manifest.get("relevance")
    if calibrated:
        return float(calibrated["min_relevance"]), f"calibrated on {Path(calibrated['gold_file']).name}"
    return DEFAULT_MIN_RELEVANCE, "default"


# --- the assistant --------------------------------------------------------------------------------

@dataclass
class Event:
    """One streamed piece: kind "token" carries text; kind "answer" carries the final Answer."""
    kind: str
    text: str = ""
    answer: Answer | None = None


class Assistant:
    """Load once, ask many times. Thread-safe for concurrent questions (the LLM serializes generation)."""

    def __init__(self, settings: Settings, retriever: Retriever, llm: LLM | None, notices: list[str] | None = None,
                 min_relevance: float | None = None):
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.notices = list(notices or [])
        self.regulation = retriever.index.regulation
        # below this best dense cosine nothing retrieved is about the question
        self.min_relevance, self.relevance_source = relevance_threshold(settings, retriever.index.manifest)
        if min_relevance is not None:
            self.min_relevance, self.relevance_source = min_relevance, "given"

    @classmethod
    def load(cls, settings: Settings, log=lambda m: print(m, file=sys.stderr)) -> "Assistant":
        retriever, notices = open_retriever(settings, log=log)
        llm, missing = load_llm(settings, log=log)
        notices += missing
        return cls(settings, retriever, llm, notices)

    def with_index(self, index) -> "Assistant":
        """The same assistant (settings, LLM, notices) answering from another index of the knowledge base."""
        retriever = Retriever(index, self.retriever.embedder, self.settings)
        given = self.min_relevance if self.relevance_source == "given" else None
        return Assistant(self.settings, retriever, self.llm, self.notices, min_relevance=given)

    @property
    def backend(self) -> str:
        return self.llm.backend if self.llm is not None else "extractive"

    @property
    def not_covered(self) -> str:
        """The refusal's opening: this regulation, or the knowledge base when it holds several laws."""
        return KB_NOT_COVERED if self.regulation.others else NOT_COVERED

    def ask(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
            regulations: list[str] | None = None) -> Answer:
        answer = None
        for ev in self.stream(question, history, top_k, regulations):
            if ev.kind == "answer":
                answer = ev.answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: list[Turn] | None = None, top_k: int | None = None,
               regulations: list[str] | None = None) -> Iterator[Event]:
        """Yield token events while the answer is generated, then one "answer" event with the result.

        `regulations` (ids) keeps retrieval to those laws (default: every current one). Raises InputError
        for an empty or over-long question before anything else happens.
        """
        t0 = time.perf_counter()
        q = clean_question(question, self.settings.max_question_chars)
        hist = bounded(history or [], self.settings.history_turns)
        standalone = rewrite(simplified(q), hist)  # (a question in traditional characters is read in simplified)
        # the literal words stay in retrieval: a rewritten follow-up still contains them
        law = hist[-1].regulation if hist else None
        if regulations is None and self.settings.regulations.strip():
            regulations = [x.strip() for x in self.settings.regulations.split(",") if x.strip()]
        r = self.retriever.search(standalone, k=max(1, min(int(top_k or self.settings.top_k), MAX_TOP_K)),
                                  regulations=regulations, law=law)
        timings = {"retrieval": r.seconds}
        base = dict(question=q, hits=r.hits, backend=self.backend, standalone=standalone, relevance=r.max_dense,
                    notices=[r.notice] if r.notice else [])
        if self.settings.log_questions:
            print(f"question: {q!r}", file=sys.stderr)

        reason = self._refusal_reason(standalone, r)
        if reason:
            yield Event("answer", answer=self._refusal(reason, r, timings, t0, **base))
            return
        given = self._context(r)
        required = self._parts(standalone, r, regulations, law)
        top = r.hits[0]
        if not top.lookup and top.bm25_rank == 1 and top.dense_rank == 1 and top.clause not in [c for _, c in required]:
            # both retrievers put it first: an answer that leaves it out is completed with it (行业协会能不能参与
            # 政策咨询: 第七条第二款 names both; a small model answered from 第一款's 专家咨询委员会)
            required.append((standalone, top.clause))
        # 离婚协议能用电子签名签吗: the exception that names 婚姻 answers it, whether or not the model cites it
        wanted = [c for _, c in required]
        required += [(standalone, c) for c in given if c not in wanted and excluded_item(standalone, c)]
        given += [c for _, c in required if c not in given]
        if named := self._article_text(standalone, r):
            # 第十条说了啥: the article's own words answer it, paragraph by paragraph
            ans = self._quote_article(named, timings, t0, **base)
            yield Event("token", text=ans.text)
            yield Event("answer", answer=ans)
            return
        if self.llm is None:
            ans = self._extractive(given, timings, t0, **base)
            yield Event("token", text=ans.text)
            yield Event("answer", answer=ans)
            return

        messages = build_messages(self.regulation, standalone, given, self.settings.max_answer_chars)
        pieces: list[str] = []
        first = None
        try:
            for piece in self.llm.stream(messages, self.settings.max_new_tokens):
                if first is None:
                    first = time.perf_counter() - t0
                pieces.append(piece)
                yield Event("token", text=piece)
        except LLMError as e:
            ans = self._extractive(given, timings, t0, **base)
            ans.notices.append(f"语言模型生成失败，已改为直接引用条文：{e}")
            yield Event("answer", answer=ans)
            return
        gen_end = time.perf_counter()
        raw = "".join(pieces)
        timings |= {"first_token": first or (gen_end - t0), "generation": gen_end - t0 - timings["retrieval"],
                    "tokens": float(len(pieces)),
                    "tokens_per_s": (len(pieces) - 1) / max(gen_end - t0 - (first or 0), 1e-6) if len(pieces) > 1 else 0.0}
        ans = self._finish(raw, r, given, timings, t0, required=required, **base)
        if ans.fallback:
            # nothing usable (a small model that only repeated the question): one more try, worded otherwise
            retry = build_messages(self.regulation, standalone, given, self.settings.max_answer_chars, retry=True)
            try:
                second = self._finish("".join(self.llm.stream(retry, self.settings.max_new_tokens)),
                                      r, given, timings, t0, required=required, **base)
            except LLMError:
                second = ans
            timings["retries"] = 1.0
            if not second.fallback:
                second.dropped = [f"first try, {x}" for x in ans.dropped] + second.dropped
                ans = second
        yield Event("answer", answer=ans)

    # -- pieces of the pipeline --

    def _refusal_reason(self, question: str, r: Retrieval) -> str:
        if r.missing_refs and not any(h.lookup for h in r.hits):
            reg = self.regulation.get(r.missing_refs[0].regulation) or self.regulation.primary
            nums = "、".join(format_label(x.article) for x in r.missing_refs)
            name = "本条例" if reg.primary else f"《{reg.title}》"
            return f"{name}共{to_chinese(len(reg.articles))}条，没有{nums}"
        # a question asking when the law takes effect asks a date it writes, not a time limit it does not set
        # (条例3月26号通过，几月几号开始施行？中间隔了多长时间)
        when = asks_when(question)
        found = [g for g in gaps(question) if g.kind != "amount" or not when]
        gap = found[0] if found else None
        if gap and gap.kind == "unrelated":
            return UNRELATED  # 庐山怎么走: not 「本条例没有规定与本条例无关的事项」, and no clause to suggest
        index = self.retriever.index

        def texts():  # the clauses in scope, read only for a topic gap (`Gap.holds_for`)
            ids = r.scope.ids if r.scope is not None else ()
            return (c.text for c, law in zip(index.clauses, index.laws) if law in ids)

        # a matter no law in scope names is refused in its own word, whichever law's clause comes first
        # (醉驾被查会怎么处罚: a penalty, which other laws set, but 醉驾, which none of them names); so is one
        # that no clause retrieved for the question names (电子发票丢了还能报销吗: 科学技术进步法 names 经费报销,
        # which retrieval does not bring up for it)
        retrieved = [h.clause.text for h in r.hits]
        held = next((g for g in found if g.kind == "other_matter" and g.holds_for(retrieved)), None)
        # (a matter a retrieved clause of another law names is that law's: 减少排污的协议 and 清洁生产促进法's 污染物排放,
        # though the primary's 节能 clause comes first)
        named = gap is not None and gap.kind == "other_matter" and not gap.holds_for(retrieved)
        if gap and held is None and not named and self._about_primary(r):
            if gap.kind == "other_law" and gap.match:
                return f"本知识库没有收录《{gap.match}》"  # not 「本条例没有规定其他法律法规」
            return f"本条例没有规定{gap.what}"
        if held := held or next((g for g in found if g.holds_for(texts())), None):
            if held.kind == "other_law":
                return f"本知识库没有收录《{held.match}》"  # 加班费按劳动法: a law, not a topic
            return f"收录的法规都没有涉及「{held.topic}」"
        if not r.hits:
            return "没有找到相关条文"
        evidence = self._context(r)
        figure = asks_figure(question) if not when else None
        if figure and not any(numbers_in(c.text) for c in evidence):
            # a figure asked for (多少钱, 保护期多少年) that no clause of the evidence writes: the laws do not set it
            return f"收录的法规没有规定{figure.what}"
        stated = stated_figure(question)
        if stated and not any(stated[1].search(c.text) for c in evidence):
            # 是不是按15%交: a rate or sum stated that no clause of the evidence writes one of
            return f"收录的法规没有规定{stated[0]}"
        if below_relevance(r.max_dense, r.hits[0].lookup, self.min_relevance):
            return "没有找到足够相关的条文"
        return ""

    def _about_primary(self, r: Retrieval) -> bool:
        """Whether a question is about the primary regulation, whose gaps `chatbot.scope` knows (it sets no
        amounts or penalties; other laws do): it names only that one, or names none and the best clause
        is the primary's. A law named in 《》 that the knowledge base does not hold counts as the primary's."""
        if r.scope is not None and r.scope.named:
            return r.scope.ids == [self.regulation.primary.id]
        return not r.hits or self.regulation.of(r.hits[0].clause).primary

    def _context(self, r: Retrieval) -> list[Clause]:
        """The evidence: the best hit and the hits scoring close to it, within the context budget (another
        law's only with words of the question).

        The same clauses are quoted by the extractive backend and given to a model. Giving a small model
        only the clauses retrieval is sure of (instead of a fixed top 4) halved its wrong refusals and
        raised its citation recall on the gold set (README, "Answers").
        """
        top = r.hits[0].score
        law = r.hits[0].clause.regulation
        # another law's clause needs words of the question too (BM25 among its first OTHER_LAW_BM25), unless
        # the question asks about several laws (国家和省里, two names): a small model given another law's
        # near-miss by meaning alone (产品质量法's 阻碍执法 for 「敢闯敢试没搞成会不会挨处分」) answers from it as
        # often as from the law retrieval put first
        laws_named = r.scope is not None and len(r.scope.ids) > 1 and bool(r.scope.named or r.scope.versions)
        several = laws_named or bool(LEVELS.search(r.question))
        # 条例对银行和保险机构分别提了什么要求: 条例 with no name, and the primary's clause first, means the
        # primary regulation; other laws' clauses on 金融机构 are no evidence then
        own = r.scope is not None and r.scope.regulation_word and self.regulation.of(r.hits[0].clause).primary
        chosen = [h.clause for i, h in enumerate(r.hits[: self.settings.context_clauses])
                  if (h.score >= self.settings.quote_ratio * top or h.lookup)
                  and (several or h.lookup or h.clause.regulation == law
                       or not own and h.bm25_rank is not None and h.bm25_rank <= OTHER_LAW_BM25)
                  and (i == 0 or h.lookup or not _far(h))]
        # a question naming several laws (or versions): the best clause of each, so the answer can say which
        # says what (or what changed)
        chosen += [c for c in _best_of_each_law(r) if c not in chosen]
        chosen = chosen or [r.hits[0].clause]
        # a rule comes with its exceptions: 第三条第二款's 不得仅因为……否定其法律效力 with 第三款's 前款规定不适用下列文书
        return chosen + [e for c in chosen if (e := self._exception(c)) is not None and e not in chosen]

    def _exception(self, clause: Clause) -> Clause | None:
        """The paragraph after `clause` when it makes an exception to it (前款规定不适用……, ……除外, 当事人对前款
        规定的事项另有约定的，从其约定), else None."""
        article = self.regulation.of(clause).article(clause.article)
        after = next((c for c in article.clauses if c.paragraph == clause.paragraph + 1), None) if article else None
        return after if after is not None and EXCEPTION.search(after.text) else None

    def _each_law(self, r: Retrieval) -> list[Clause]:
        """For a question naming several laws or asking what changed between versions, the best clause of
        each (all in the evidence: `_context`); an answer that leaves a law out is completed with it. A name
        that fits several laws (促进法) names one of them, not each."""
        if r.scope is not None and not r.scope.versions and len(self.regulation.mentions(r.question)) < 2:
            return []
        return _best_of_each_law(r)

    def _parts(self, question: str, r: Retrieval, regulations: list[str] | None,
               law: str | None) -> list[tuple[str, Clause]]:
        """(part, its best clause) for each part of a question that asks several things, else nothing: each
        is retrieved on its own, so that the evidence holds an answer to each, not only to the part that
        leads the whole question's retrieval. A part alone can find anything (有啥前提条件
        finds 「符合条件的」 somewhere), so its best clause counts only when both retrievers rank it first for
        the part (or it names the article) and the whole question ranks it among its first WHOLE_RANKS."""
        parts = sub_questions(question)
        whole = {h.clause for h in r.hits[:WHOLE_RANKS]}
        out: list[tuple[str, Clause]] = []
        for part in parts[:MAX_PARTS] if len(parts) > 1 else ():
            # a part naming its law (一是按江西先进制造业促进条例，……有哪些方式) is searched in that law without its
            # name, which would match every clause repeating the title's words (先进制造业)
            named = self.regulation.scope(part, regulations)
            query = self.regulation.without_names(part, keep_primary=False) if named.named else part
            rp = self.retriever.search(query, k=1, regulations=named.ids if named.named else regulations, law=law)
            best = rp.hits[0] if rp.hits else None
            sure = best is not None and (best.lookup or best.first_of_both or best.bm25_rank == 1
                                         and self._first_in_its_law(query, best.clause, law))
            if sure and best.clause in whole and not out_of_scope(part):
                out.append((part, best.clause))
        # the things of one sentence's enumeration (财政、政府基金到银行贷款、上市融资): each in the law the
        # whole question is answered from, its best clause there counting when a retriever ranks it first
        items = asked_items(question) if len(parts) == 1 and r.hits else []
        several = r.scope is not None and r.scope.named and len(r.scope.ids) > 1
        within = regulations if several or not r.hits[0].clause.regulation else [r.hits[0].clause.regulation]
        evidence = [c for c in self._context(r) if within is None or c.regulation in within]
        for thing, query in [] if several else items:
            named = next((c for c in evidence if covers(thing, [c], short=False)), None) if thing != query else None
            if named is not None:
                # 市场和政府的作用: 第三条's 市场主导、政府引导 in the evidence already says both; that clause answers
                # the thing (completed if the model leaves it out), no other is fetched (a wh-ask is its own query)
                if named not in [c for _, c in out]:
                    out.append((thing, named))
                continue
            rp = self.retriever.search(query, k=1, regulations=within, law=law)
            best = rp.hits[0] if rp.hits else None
            sure = best is not None and (best.lookup or 1 in (best.bm25_rank, best.dense_rank))
            if sure and best.clause not in [c for _, c in out] and not out_of_scope(thing):
                out.append((thing, best.clause))
        return out

    def _first_in_its_law(self, query: str, clause: Clause, law: str | None) -> bool:
        """Whether both retrievers rank `clause` first for `query` within its own law: over all laws, another
        law's clause may come first by meaning (the payment regulation's 商业汇票 for 「企业想发公司债」)."""
        if not clause.regulation or not self.retriever.index.several_laws:
            return False
        hits = self.retriever.search(query, k=1, regulations=[clause.regulation], law=law).hits
        return bool(hits) and hits[0].clause == clause and hits[0].first_of_both

    def _article_text(self, question: str, r: Retrieval) -> list[Clause]:
        """The clauses of the articles (or paragraphs) a question names, when all it asks is what they say."""
        question = self.regulation.without_names(question, keep_primary=False)  # 先进制造业促进条例第五条讲什么
        if not r.refs or r.missing_refs or not asks_article_text(question):
            return []
        out: list[Clause] = []
        for ref in r.refs:
            reg = self.regulation.get(ref.regulation) if ref.regulation else self.regulation.primary
            art = reg.article(ref.article) if reg is not None else None
            out += [c for c in (art.clauses if art else ()) if ref.paragraph in (None, c.paragraph) and c not in out]
        return out

    def _named_only(self, text: str, given: list[Clause]) -> list[Clause]:
        """The given clauses an output names when it is nothing but labels (「【第八条第一款】」, 「第十三条」);
        an article named stands for its given paragraphs, a law left unnamed for the law given."""
        found = list(find_labels(text))
        rest = text
        for m, _ in reversed(found):
            rest = rest[:m.start()] + rest[m.end():]
        if not found or re.sub(r"[\s【】\[\]《》<>「」“”\"'：:，,。.、；;和及与]", "", rest):
            return []
        out: list[Clause] = []
        for _, ref in found:
            law = self.regulation.named(ref.regulation) if ref.regulation else None
            out += [c for c in given if c.article == ref.article and ref.paragraph in (None, c.paragraph)
                    and (law is None or c.regulation == law.id) and c not in out]
        return out

    def _quote_article(self, clauses: list[Clause], timings: dict, t0: float, lead: str = "", **base) -> Answer:
        """The named clauses in their own words, each cited, at most three, within the length budget; after
        `lead` as a sentence of its own when given (the label a 「哪一条」 question asks for)."""
        points = [Sentence(c.text.replace("\n", ""), (c.label,), (c,)) for c in clauses]
        dropped: list[tuple[str, str]] = [("more than three points", s.text) for s in points[MAX_POINTS:]]
        sentences = fit(points[:MAX_POINTS], self.settings.max_answer_chars - len(lead) - 1, dropped,
                        base["standalone"])
        if lead:
            sentences.insert(0, Sentence(f"{lead}。"))
        cited = list(dict.fromkeys(c for s in sentences for c in s.clauses))
        timings["total"] = time.perf_counter() - t0
        timings.setdefault("first_token", timings["total"])
        return Answer(text=f"{render_sentences(sentences)}\n{basis_list(cited)}", citations=cited, refused=False,
                      timings=timings, dropped=[f"{why}: {s}" for why, s in dropped], **base)

    def _refusal(self, reason: str, r: Retrieval, timings: dict, t0: float, **base) -> Answer:
        near = [h.clause for h in r.hits[:SUGGESTIONS] if not r.missing_refs or h.lookup] \
            if r.hits and reason != UNRELATED else []
        text = f"{self.not_covered}。{reason}。"
        if near:
            text += "\n可参考的相关条款：" + "".join(f"【{c.label}】" for c in near)
        if self.regulation.others:
            text += f"\n本知识库收录：《{self.regulation.title}》{self.regulation.laws_line()}"
        timings["total"] = time.perf_counter() - t0
        return Answer(text=text, citations=[], refused=True, timings=timings, suggestions=near,
                      refusal_reason=reason, **base)

    def _extractive(self, given: list[Clause], timings: dict, t0: float, **base) -> Answer:
        """Quote the evidence clauses, each with its label."""
        body = "\n".join(f"{c.text}【{c.label}】" for c in given)
        intro = "条例的相关规定如下：" if all(self.regulation.of(c).primary for c in given) else "相关法规的规定如下："
        text = f"{intro}\n{body}\n{basis_list(given)}"
        timings["total"] = time.perf_counter() - t0
        timings.setdefault("first_token", timings["total"])
        return Answer(text=text, citations=given, refused=False, timings=timings, **base)

    def _finish(self, raw: str, r: Retrieval, given: list[Clause], timings: dict,
                t0: float, required: list[tuple[str, Clause]] = (), **base) -> Answer:
        text = raw.strip()
        titles = _titles(self.regulation, given)
        if leaks_prompt(text, rules(self.regulation, self.settings.max_answer_chars, titles), names=tuple(titles)):
            return self._refusal("该请求与本条例内容无关", r, timings, t0, **base)
        question = base["standalone"]
        if named := self._named_only(text, given):
            # 「【第八条第一款】」 and nothing else (链长制是第几条讲的): the clauses it names answer in their own words,
            # after the label when the question asks which article says it
            lead = "、".join(dict.fromkeys(c.label for c in named)) if WHICH_ARTICLE.search(question) else ""
            return self._quote_article(named, timings, t0, lead=lead, **base)
        check = check_citations(text, given, self.regulation, question=question, drop_phrases=REFUSAL_MARKERS)
        says_not_covered = any(m in text for m in REFUSAL_MARKERS)
        if says_not_covered and not check.cited:
            # the model's answer is that the clauses do not cover the question (echoes aside)
            return self._refusal("所给条文没有涉及这一问题", r, timings, t0, **base)
        dropped = [f"{why}: {s}" for why, s in check.dropped]
        if check.cited:
            # a question of several parts (条例什么时候施行？施行后人大怎么监督？): a part whose article the model
            # left out is answered in its clause's own words
            answered = {(c.regulation, c.article) for c in check.cited}
            first = sub_questions(question)[0]
            paragraphs: dict[tuple[str, int], set[Clause]] = {}
            for _, clause in required:
                paragraphs.setdefault((clause.regulation, clause.article), set()).add(clause)
            for part, clause in required:
                # (the whole question's clause is wanted itself, not another paragraph of its article; so is the
                # clause of a part when another part asks for another paragraph of the same article)
                key = (clause.regulation, clause.article)
                done = clause in check.cited if part == question or len(paragraphs[key]) > 1 else key in answered
                if not done and not covers(part, check.cited):
                    point = Sentence(excerpt(clause, part), (self.regulation.cite(clause),), (clause,))
                    # the first part's answer goes first: 集群有哪些？……怎么推进的 answers 有哪些 before 怎么推进
                    check.sentences.insert(0 if part == first != question else len(check.sentences), point)
                    answered.add((clause.regulation, clause.article))
            # 2020版和2025版比…有什么变化, answered from the 2020 text alone: the other version's best clause is
            # added, so the answer says what each text says
            for clause in self._each_law(r):
                if clause.regulation not in {law for law, _ in answered}:
                    check.sentences.append(Sentence(excerpt(clause, question), (self.regulation.cite(clause),),
                                                    (clause,)))
                    answered.add((clause.regulation, clause.article))
        topic = self.regulation.without_names(question)
        sentences, cut = (shape(check.sentences, question, text, self.settings.max_answer_chars, topic=topic)
                          if check.cited else ([], []))
        dropped += [f"{why}: {s}" for why, s in cut]
        figure = asks_figure(question)
        if figure and sentences and not any(numbers_in(s.text) for s in sentences):
            # 隔多少年要复审一次, answered with 「……对其制定的标准进行复审。」: the cited clause's sentence that
            # writes the figure (标准的复审周期一般不超过五年) is added when it fits
            extra = figure_sentence(question, [c for s in sentences for c in s.clauses])
            if extra and sum(len(s.text) for s in sentences) + len(extra.text) <= self.settings.max_answer_chars:
                sentences.append(replace(extra, labels=(self.regulation.cite(extra.clauses[0]),)))
        cited = list(dict.fromkeys(c for s in sentences for c in s.clauses))
        if not cited:
            # nothing usable: no sentence cited a clause, or shaping left none (an answer word before a list
            # intro alone); the clauses are quoted instead
            ans = self._extractive(given, timings, t0, **base)
            ans.removed_citations, ans.dropped, ans.fallback = check.removed, dropped, True
            ans.notices.append("模型回答无法对应到条文，已改为直接引用条文。")
            return ans
        if figure and not any(numbers_in(c.text) for c in cited):
            # a figure was asked for (加计扣除比例是多少) and none of the clauses the answer rests on writes one
            return self._refusal(f"收录的法规没有规定{figure.what}", r, timings, t0, **base)
        timings["total"] = time.perf_counter() - t0
        return Answer(text=f"{render_sentences(sentences)}\n{basis_list(cited)}", citations=cited, refused=False,
                      timings=timings, removed_citations=check.removed, added_citations=check.added,
                      dropped=dropped, **base)


def _best_of_each_law(r: Retrieval) -> list[Clause]:
    """The best hit of each law a question names (or of each version, asked what changed), in the order named;
    nothing for a question naming one law or none."""
    if r.scope is None or len(r.scope.ids) < 2 or not (r.scope.named or r.scope.versions):
        return []
    best = [next((h.clause for h in r.hits if (h.clause.regulation or law) == law), None) for law in r.scope.ids]
    return [c for c in best if c is not None]


def turn_of(answer: Answer) -> Turn:
    """What the conversation keeps of an answered question."""
    clauses = answer.citations or [h.clause for h in answer.hits[:1]]
    return Turn(answer.question, answer.standalone, tuple(dict.fromkeys(c.article for c in clauses)),
                clauses[0].regulation if clauses else "")
