"""Citation checking: every 【label】 a model writes is verified against the clauses it was given.

Labels shown to the user are built from clauses, never copied from model text: a label the model writes
is parsed (`chatbot.labels`), resolved in the regulation, and kept only when it names a clause the model
was given. Uncited sentences get a label only when one given clause clearly supports them. Support is
lexical (character bigrams); it cannot see paraphrase or negation, which the README states.

What it leaves to others: generation and refusals (`chatbot.answer`), the label grammar (`chatbot.labels`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from .corpus import Article, Clause, Regulation, is_generic_law
from .kb import as_kb
from .labels import LABEL_PATTERN, NUM, find_labels
from .scope import asks_figure
from .tokens import expansion_terms

# a sentence is supported by a clause when at least this share of its character bigrams occur in it;
# the same threshold decides citation repair here and the faithfulness metric in the evaluation
MIN_SUPPORT = 0.5
# ... and a repaired citation needs this lead over the next-best clause, so an ambiguous sentence stays uncited
SUPPORT_MARGIN = 0.1
# sentences shorter than this many bigrams are too short to attribute to a clause by overlap
MIN_BIGRAMS_TO_REPAIR = 4
MIN_OWN = 4  # bigrams of a sentence only its clause has, for a second label on it to stay
# a cited sentence its clause supports, that another given clause supports at least RELABEL_SUPPORT and by
# RELABEL_MARGIN more, is that clause's: 「先进制造业发展规划由省人民政府制定。【第七条第一款】」 shares 先进制造业
# 发展规划 and 制定 with 第七条's 专家咨询委员会 (0.56), and all but three bigrams with 第五条第一款 (0.81)
RELABEL_SUPPORT = 0.75
RELABEL_MARGIN = 0.2
# a sentence that names a given article in words (按照《…》第十五条的规定，…) and shares this share of its
# bigrams with that clause, more than with any other given clause, cites it in the clause's own words
MENTION_SUPPORT = 0.3

BRACKETS = re.compile(r"[【\[]([^【】\[\]]{1,60})[】\]]")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?(?:\s*【[^】]*】)*")


def bigrams(text: str) -> set[str]:
    """Character bigrams of the word characters: bigrams("技术改造。") -> {"技术", "术改", "改造"}."""
    t = re.sub(r"[^\w]", "", text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def support(sentence: str, clause: Clause) -> float:
    """Share of the sentence's character bigrams found in the clause (0..1): lexical support.

    support("可以采取无偿补助方式", clause_10_1) is high; it cannot see paraphrase or negation.
    """
    s = bigrams(re.sub(r"【[^】]*】", "", sentence))
    return len(s & bigrams(clause.text)) / len(s) if s else 0.0


def own_share(sentence: str, labels: list[tuple[str, Clause]]) -> tuple[list[tuple[str, Clause]], list[str]]:
    """Of several labels on one sentence, those whose clause says some of it: the best-supporting first,
    then each that adds at least MIN_OWN of the sentence's bigrams the ones kept do not have; and the
    labels left out. 「……全流程办理，降低制度性交易成本。【第十六条】【第十七条】」 keeps 第十六条 only: all 第十七条
    shares with the sentence (县级以上人民政府及有关部门应当, 市政公用服务) is in 第十六条 too."""
    words = bigrams(sentence)
    ranked = sorted(dict.fromkeys(labels), key=lambda lc: -support(sentence, lc[1]))
    kept, covered, left = [], set(), []
    for label, clause in ranked:
        mine = (words & bigrams(clause.text)) - covered
        if not kept or len(mine) >= MIN_OWN:
            kept.append((label, clause))
            covered |= mine
        elif label not in [x for x, _ in kept]:
            left.append(label)
    order = {lc: i for i, lc in enumerate(labels)}  # in the order the model wrote them
    return sorted(kept, key=lambda lc: order[lc]), left


def is_supported(sentence: str, clauses: list[Clause]) -> bool:
    """Whether some clause supports the sentence at MIN_SUPPORT."""
    return max((support(sentence, c) for c in clauses), default=0.0) >= MIN_SUPPORT


NUMBER = re.compile(r"\d+(?:\.\d+)?|[零一二三四五六七八九十百千万亿两]{2,}|[零一二三四五六七八九十两][万亿元年倍]")
# "根据《…》第六条第一款，" / "依据第十条的规定，" / "十七条说了": a lead-in the label at the end already says
LEAD_IN = re.compile(r"^(?:(?:[^，,。；：:【】]{1,6}[：:])?(?:根据|依据|按照|依照)[^，,。；]{0,40}?(?:[条款项]|》|规定)(?:的规定|规定)?[，,]"
                     r"|(?:根据|依据|按照|依照)(?:本?条例)?(?:的规定|规定)?[，,]"  # 根据【第X条】， with its label gone
                     rf"|(?:条例)?第?{NUM}条(?:第{NUM}款)?(?:说了|规定了?|指出|明确)(?:[：:，,]|的(?=\S))?"
                     r"|(?:具体来说|具体而言|简单来说|简单地说|也就是说|总的来说|总之|换句话说)[，,])\s*")
# list numbering and markdown a model adds: "1. ", "（2）", "- ", "**试点示范**："
WRAPPED_WORD = re.compile(r"【([^【】\d第]{1,4}[。！!])】")
LIST_MARK = re.compile(r"^(?:\d+[.、)）](?!\d)|[（(]\d+[)）]|[-*•·])\s*|\*\*")
# how a direct answer to a yes/no question starts (the answer word, or that the regulation is silent)
OPENERS = ("可以", "能", "有", "是", "会", "算", "需要", "要", "支持", "鼓励", "应当", "对", "不", "没有", "否", "无",
           "条例没有", "本条例没有", "条例未", "本条例未")
BARE_ANSWER_CHARS = 6  # 可以。 不需要。 没有。: an answer word alone, which needs no citation
# a sentence that shares at least this share of its bigrams with the question, and adds fewer than
# ECHO_NEW_BIGRAMS of its own, restates it ("是的，设区的市需要编制规划。" adds 2: an echo with a yes;
# "财政资金主要起引导作用。" adds 3 to "财政资金主要起啥作用？": an answer)
ECHO_OVERLAP = 0.7
ECHO_NEW_BIGRAMS = 3
INTRO_WORDS = re.compile(r"以下|如下|下列|这些|几个方面|几点|包括")
TERMINALS = "。！？；.!?;"
UNSUPPORTED = "not supported by the clause it cites"


def numbers_in(text: str) -> list[str]:
    """Numbers, dates and amounts written in a sentence, labels left out (第十条 is a label, not a number).

    numbers_in("补助一百万元，2024年6月1日起【第十条】") -> ["一百万", "2024", "6", "1"]
    """
    return NUMBER.findall(LABEL_PATTERN.sub("", BRACKETS.sub("", text)))


# the words around an article named in running text that say only that it is cited:
# 「按照《保障中小企业款项支付条例》第十五条的规定，」「违反了《标准化法》第二十二条第二款的规定，即」
MENTION_BEFORE = re.compile(r"(?:根据|依据|按照|依照|违反了?|参照|见)$")
MENTION_AFTER = re.compile(r"(?:的规定|规定)?(?:[，,：:]?即|[，,：:])?")


def without_mentions(sentence: str) -> str:
    """The sentence without the articles it names in words and the words that only cite them, for
    measuring what it says: without_mentions("按照《保障中小企业款项支付条例》第十五条的规定，对无争议部分付款。")
    -> "对无争议部分付款。" """
    spans = [m.span() for m, _ in find_labels(sentence)]
    if not spans:
        return sentence
    out, at = [], 0
    for start, end in spans:
        out.append(MENTION_BEFORE.sub("", sentence[at:start]))
        at = MENTION_AFTER.match(sentence, end).end()
    out.append(sentence[at:])
    return "".join(out)


def _squash(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def is_supported_by(sentence: str, clauses: list[Clause], question: str = "") -> bool:
    """A cited sentence is supported when its character bigrams occur in the cited clauses at MIN_SUPPORT,
    every number, date or amount it states is written in them too (a wrong figure is never "close"), and
    it takes no words from the question that the clauses do not have (`imports_question`)."""
    if not clauses:
        return False
    joined = Clause("", 0, 0, (), "", "\n".join(c.text for c in clauses))
    text = _squash(joined.text)
    return (support(sentence, joined) >= MIN_SUPPORT and not missing_numbers(sentence, text)
            and not imports_question(sentence, question, text))


def missing_numbers(sentence: str, text: str) -> list[str]:
    """The numbers, dates and amounts of `sentence` that `text` does not write. A figure in digits must
    stand on its own there: the 6 of 「6月1日」 is not written by 「3月26日」.

    missing_numbers("3月26日通过，6月1日起施行", "2024年3月26日通过") -> ["6", "1"]
    """
    text = _squash(text)
    return [n for n in numbers_in(sentence)
            if not (re.search(rf"(?<![\d.]){re.escape(n)}(?![\d]|\.\d)", text) if n[0].isdigit()
                    else _squash(n) in text)]


def partner(sentence: str, clauses: list[Clause], given: list[Clause], question: str = "") -> Clause | None:
    """A given clause that, cited with `clauses`, supports a sentence they do not support alone because it
    states a figure they do not write: 「……3月26日……通过的，自2024年6月1日起施行。」 rests on the 题注 and on
    the article that sets the effective date. The one supporting most, or None."""
    text = "\n".join(c.text for c in clauses)
    if not missing_numbers(sentence, text):
        return None
    fits = [c for c in given if c not in clauses and is_supported_by(sentence, [*clauses, c], question)]
    return max(fits, key=lambda c: support(sentence, c), default=None)


def says_better(sentence: str, cited: Clause, given: list[Clause]) -> Clause | None:
    """The given clause that says a sentence far better than the clause it cites (RELABEL_SUPPORT, and
    RELABEL_MARGIN ahead of it and of every other given clause), else None: the model's label is its neighbour's."""
    if len(bigrams(sentence)) < MIN_BIGRAMS_TO_REPAIR:
        return None
    scored = sorted(((support(sentence, c), c) for c in given if c.id != cited.id), key=lambda x: -x[0])
    if not scored:
        return None
    (best, clause), rest = scored[0], scored[1:]
    runner = max(support(sentence, cited), rest[0][0] if rest else 0.0)
    return clause if best >= RELABEL_SUPPORT and best - runner >= RELABEL_MARGIN else None


IMPORTED_RUN = 4  # characters in a row of the question that a cited sentence may not add to its clause


def imports_question(sentence: str, question: str, clause_text: str) -> str:
    """A run of IMPORTED_RUN Chinese characters of the question that the sentence states and the clause
    does not: the model has merged the asker's words into the law's (「付款期限自甲方验收一拖再拖之日起算」
    for a clause that says 自检验或者验收合格之日起算). Returns the run, or "".

    imports_question("付款期限自甲方验收一拖再拖之日起算。", "甲方验收一拖再拖，付款期限从哪天开始算？",
                     "付款期限自检验或者验收合格之日起算") -> "甲方验收"
    """
    if not question:
        return ""
    s, q, text = _squash(BRACKETS.sub("", sentence)), _squash(question), _squash(clause_text)
    for i in range(len(s) - IMPORTED_RUN + 1):
        run = s[i:i + IMPORTED_RUN]
        if CJK_RUN.fullmatch(run) and run in q and run not in text:
            return run
    return ""


def opens_with_answer(sentence: str) -> bool:
    """Whether a sentence starts with a direct answer word: opens_with_answer("可以。") -> True."""
    return sentence.lstrip("，, ").startswith(OPENERS)


def is_bare_answer(sentence: str) -> bool:
    """可以。 / 不会。 / 适用。: an answer word and nothing else (any sentence of three characters or fewer
    says no more than that, whatever the word: a cited 「适用。【第二条】」 is no point)."""
    words = sentence.strip().rstrip("。！!，,；;")
    return len(sentence) <= BARE_ANSWER_CHARS and (opens_with_answer(sentence) or 0 < len(words) <= 3)


def restates(sentence: str, question: str) -> bool:
    """Whether a sentence only repeats the question: it asks something (ends with ？), or at least
    ECHO_OVERLAP of its bigrams are the question's and it adds fewer than ECHO_NEW_BIGRAMS.
    restates("企业能不能享受同等优惠。", "企业能不能享受同等优惠？") -> True; restates("可以。", ...) -> False;
    restates("条例把市场和政府的作用定位为市场主导、政府引导。", "条例把市场和政府的作用怎么定位？") -> False"""
    body = BRACKETS.sub("", sentence).strip()
    if body.endswith(("？", "?")):
        return True
    # "……有以下职责：" introduces a list: its 以下 adds nothing
    s = bigrams(INTRO_WORDS.sub("", body) if body.endswith(("：", ":")) else body)
    shared = s & bigrams(question)
    return (len(s) >= MIN_BIGRAMS_TO_REPAIR and len(shared) / len(s) >= ECHO_OVERLAP
            and len(s - shared) < ECHO_NEW_BIGRAMS)


# a case of a sentence (未作约定的，… / 情节严重的，…) that follows another case after ；: it says nothing alone
BRANCH = re.compile(r"^[^，。；：]{1,12}的[，,]")
ITEM_MARK = re.compile(r"[（(][一二三四五六七八九十\d]+[）)]")  # an item of a list: （一）…
# the words of any duty in a promotion law: no sign of which part of a clause a question asks about
DUTY_WORDS = ("人民政府", "有关部门", "县级以上", "先进制造业", "企业", "支持", "应当", "发展", "推动", "加强", "建设")
DUTY_BIGRAMS = frozenset().union(*(bigrams(w) for w in DUTY_WORDS))
EXCERPT_SHARE = 0.5  # an excerpt takes the segments next to its own that the sentence says this share of


def _segments(text: str) -> list[str]:
    """A clause's segments, split after 。；：and at line breaks (a list's items): what an excerpt is made of."""
    return [x.strip() for x in re.split(r"(?<=[。；：])|\n", text) if x.strip()]


def figure_sentence(question: str, clauses: list[Clause]) -> Sentence | None:
    """The segment of these clauses that writes a figure and shares the most bigrams with the question, as
    a cited sentence, or None: figure_sentence("隔多少年要复审一次", [标准化法第二十九条第二款]) ->
    「标准的复审周期一般不超过五年。」"""
    asked = bigrams(question)
    best = max(((len(asked & bigrams(t)), t, c) for c in dict.fromkeys(clauses)
                for t in _segments(c.text) if numbers_in(t)),
               key=lambda x: x[0], default=None)
    if not best or not best[0]:
        return None
    return Sentence(best[1].rstrip("；;：:") + ("" if best[1].endswith("。") else "。"), (best[2].label,), (best[2],))


def excerpt(clause: Clause, sentence: str, terms: tuple[str, ...] | list[str] = ()) -> str:
    """The clause's own words closest to a sentence: its segment (split at 。；：and lines) sharing the most
    bigrams with it, with the segments next to it that the sentence also says, ending with 。; what replaces
    a sentence the clause does not support. `terms` are words the sentence means without writing them (the
    regulation's terms for a question's everyday words: 每亩地的产出 -> 亩产效益): they choose the segment when
    the sentence itself points to none (no segment shares more than one bigram with it, such as 政府)."""
    segments = _segments(clause.text)
    own = [bigrams(x) for x in segments]
    target = bigrams(sentence)
    shared = [len(b & target - DUTY_BIGRAMS) for b in own]  # (every part of a duty has 政府, 应当 …)
    if max(shared) <= 1 and terms:
        meant = set().union(*(bigrams(t) for t in terms))
        shared = [(n, len(b & meant)) for n, b in zip(shared, own)]
    at = max(range(len(segments)), key=lambda i: shared[i])
    start = end = at

    def said(i: int) -> bool:  # the sentence says most of segment i too
        return bool(own[i]) and len(own[i] & target) >= EXCERPT_SHARE * len(own[i])

    while start and (said(start - 1) or BRANCH.match(segments[start]) and segments[start - 1].endswith("；")):
        start -= 1  # 「未作约定的，按照……」 is the other case of what comes before it: shown with it
    while end + 1 < len(segments) and said(end + 1):
        end += 1
    if start and ITEM_MARK.match(segments[start]):
        # an item never stands without the lead-in of its list: 「电子认证服务提供者名称；（二）……」 alone reads as
        # a fragment; 「电子签名认证证书应当准确载明下列内容：（一）……」 says what the items are
        lead = next((i for i in range(start - 1, -1, -1) if not ITEM_MARK.match(segments[i])), None)
        if lead is not None and segments[lead].endswith(("：", ":")):
            start = lead
    best = "".join(segments[start:end + 1])
    best = re.sub(r"^[（(][^）)]{1,3}[）)]", "", best)  # an item's number, （一）
    return best.rstrip("；：;:，,") + ("" if best.endswith("。") else "。")


ADDED_SUPPORT = 0.5  # a later part of a cited sentence with less support than this is the model's own addition
REPEATED_PART = 0.8  # ... and one with this share of its bigrams in one part before it says that part again


def unsaid_parts(sentence: str, clauses: list[Clause], question: str = "") -> list[str]:
    """The parts after the first (split at ，：；) of a cited sentence that its clauses do not say: fewer than
    ADDED_SUPPORT of their bigrams (three or more) are the clauses' or the question's. A sentence as a whole
    passes the support check on the clause's words it copies; a purpose or a means the model added to them
    (「…降低要素成本：通过制定和执行优惠政策」, 「…上市，以提高企业知名度」) is no part of the law, and a part
    saying an earlier one again (「优化峰谷分时电价实施机制：通过优化峰谷分时电价实施机制」) adds nothing.

    unsaid_parts("降低用电成本：通过制定和执行优惠政策。", [第十七条]) -> ["通过制定和执行优惠政策"]
    """
    said = set().union(bigrams(question), *(bigrams(c.text) for c in clauses))
    body = BRACKETS.sub("", sentence).rstrip("。！!")
    parts = [p for p in re.split(r"[，：；,:;]", body) if p.strip()]
    out = []
    for i, p in enumerate(parts[1:], 1):
        b = bigrams(p)
        # (an item of a list copied as the law writes it is no repeat of the items like it: （六）电子认证服务提供者
        # 的电子签名 after （一）电子认证服务提供者名称, unless the sentence has it more often than the law)
        again = any(len(b & bigrams(x)) >= REPEATED_PART * len(b) for x in parts[:i]) and \
            body.count(p.strip()) > max((c.text.count(p.strip()) for c in clauses), default=0)
        if len(b) >= 3 and (len(b & said) < ADDED_SUPPORT * len(b) or again):
            out.append(p)
    return out


LIST_PART = re.compile(rf"^{ITEM_MARK.pattern}|.*[：:]$")  # an item of a list, or its intro
COPIED = 0.9  # a sentence is a copy of a segment when this share of its bigrams is the segment's


def asked_part(sentence: str, clause: Clause, question: str) -> str:
    """The part of the clause that the question asks about, when the sentence copies another part of it:
    the copied part shares no bigram with the question beyond DUTY_BIGRAMS, and another part does (the
    most). Else "".

    「公司计划在厂区配套建一个储能电站，政府会给予支持吗」 and a copy of 第十七条's first part (用电、用水…要素成本)
    -> 「优化峰谷分时电价实施机制，加大对先进制造业企业建设新型储能的支持，保障先进制造业项目合理用能需求。」
    """
    segments = _segments(clause.text)
    mine = bigrams(sentence)
    if len(segments) < 2 or not mine:
        return ""
    own = [bigrams(x) for x in segments]
    copied = [i for i, b in enumerate(own) if len(mine & b) >= COPIED * len(mine)]
    asked = bigrams(question) - DUTY_BIGRAMS
    scores = [len(b & asked) for b in own]
    if len(copied) != 1 or scores[copied[0]] or not max(scores):
        return ""
    best = segments[max(range(len(segments)), key=lambda i: scores[i])]
    if any(LIST_PART.match(x) for x in (segments[copied[0]], best)):
        return ""  # a list's intro and items are shown together (`shape.join_lists`), not swapped one by one
    return excerpt(clause, best)


@dataclass(frozen=True)
class Sentence:
    text: str                        # the sentence without labels
    labels: tuple[str, ...] = ()     # verified labels, canonical
    clauses: tuple[Clause, ...] = ()  # the clauses they name, in the same order


@dataclass
class CitationCheck:
    sentences: list[Sentence]        # what survives the checks, in order
    removed: list[str]               # labels that failed the check (unknown, not given, or naming no article)
    added: list[str]                 # labels added to uncited sentences
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (why, sentence) for each sentence dropped

    @property
    def text(self) -> str:
        return "".join(s.text + "".join(f"【{x}】" for x in s.labels) for s in self.sentences).strip()

    @property
    def replaced(self) -> list[str]:
        """The cited sentences their clauses did not support, which the clauses' own words replaced."""
        return [s for why, s in self.dropped if why == UNSUPPORTED]

    @property
    def cited(self) -> list[Clause]:
        """The clauses cited, in order of first citation."""
        return list(dict.fromkeys(c for s in self.sentences for c in s.clauses))


def check_citations(answer: str, given: list[Clause], regulation: Regulation, question: str = "",
                    drop_phrases: tuple[str, ...] = (), min_support: float = MIN_SUPPORT,
                    margin: float = SUPPORT_MARGIN) -> CitationCheck:
    """Verify every 【label】 in a model answer against the clauses it was given, sentence by sentence.

    - a label naming a clause that does not exist, or one not given to the model, is removed;
    - 【第十条】 for a multi-paragraph article becomes the given paragraph that best supports the sentence;
    - a sentence naming an article that does not exist (第三十条) is dropped;
    - list numbers, markdown and lead-ins ("根据第十条规定，", "十七条说了") are taken off;
    - a sentence that restates `question`, or holds one of `drop_phrases`, is dropped;
    - a cited sentence its clauses do not support (`is_supported_by`) is replaced by their own words
      (`excerpt`); one that another given clause says far better is cited to that clause (`says_better`);
    - a sentence without a label gets the given clause that supports it best, when that support is at
      least `min_support` and ahead of the runner-up by `margin`; in the clause's own words when it takes
      a run of the question's words the clause does not have (`imports_question`);
    - a last sentence cut off mid-way (no end mark, no label: the token budget ran out) is dropped;
    - a clause named only by a bare answer word (有。【第七条】) or by a dropped echo, when nothing else is
      cited, is shown in its own words (`excerpt`), so the model's choice of clause is not lost.
    """
    regulation = as_kb(regulation)
    given_ids = {c.id for c in given}
    laws = list(dict.fromkeys(c.regulation for c in given if c.regulation))

    def lookup(ref):
        """What a label names: in the law it names; a label naming no law, in the primary regulation or,
        when that clause was not given, in the law of the given clauses that has it (a model that wrote
        【第十条】 for 【中小企业促进法第十条】)."""
        target = regulation.resolve(ref)
        if (ref.regulation is None or is_generic_law(ref.regulation)) and not _given(target):
            for law in laws:
                other = regulation.resolve(ref, within=law)
                if _given(other):
                    return other
        return target

    def exists(ref) -> bool:
        """Whether an article a sentence names exists: in the law it names, or for one naming no law (本法第二十七条,
        copied from a clause of another law than the primary), in the primary or a given clause's law."""
        if lookup(ref) is not None:
            return True
        return (ref.regulation is None or is_generic_law(ref.regulation)) and any(
            regulation.resolve(ref, within=law) is not None for law in laws)

    def _given(target) -> bool:
        if isinstance(target, Article):
            return any(c.id in given_ids for c in target.clauses)
        return target is not None and target.id in given_ids

    check = CitationCheck([], [], [])
    pointed: list[Clause] = []  # clauses named by a bare answer word or by a dropped echo
    bare = False                # the model gave a bare answer word

    def resolve(raw: str, sentence: str, mentioned: bool = False) -> list[tuple[str, Clause]]:
        """The given clauses that the labels in `raw` name; `mentioned`: articles named in the running text
        of a sentence without labels (「按照《某条例》第十五条的规定，…」), where a name not given is no
        label to remove, only words."""
        found = []
        for _, ref in find_labels(raw):
            target = lookup(ref)
            item = ref.item
            if isinstance(target, Article):
                options = [c for c in target.clauses if c.id in given_ids]
                target = max(options, key=lambda c: support(sentence, c)) if options else None
                item = None
            if target is None or target.id not in given_ids:
                if not mentioned:
                    check.removed.append(ref.full)
                continue
            found.append((regulation.cite(target, item), target))
        return found

    # 「【会。】政府会……」: an answer word wrapped like a label is the answer word, not a label and a stray 】
    answer = WRAPPED_WORD.sub(r"\1", answer)
    raw_sentences = [x for x in SENTENCE.findall(answer) if x.strip()]
    for n, sentence in enumerate(raw_sentences):
        body = BRACKETS.sub("", sentence)
        if not body.strip():
            # labels on a line of their own belong to the sentence before them
            if check.sentences:
                last = check.sentences[-1]
                more = [x for m in BRACKETS.finditer(sentence) for x in resolve(m.group(1), last.text)]
                check.sentences[-1] = Sentence(last.text, tuple(dict.fromkeys([*last.labels, *(x for x, _ in more)])),
                                               tuple(dict.fromkeys([*last.clauses, *(c for _, c in more)])))
            continue
        bad_mention = [m for m, ref in find_labels(body) if not exists(ref)]
        if bad_mention:
            check.removed.extend(m.group(0) for m in bad_mention)
            check.dropped.append(("names an article that does not exist", body.strip()))
            continue
        labels: list[tuple[str, Clause]] = []
        paired: list[tuple[str, Clause]] = []  # labels with a partner clause that writes their figures
        for m in BRACKETS.finditer(sentence):
            labels.extend(resolve(m.group(1), body))
        words_only = False  # the sentence's labels are articles it names in words
        if not labels and not BRACKETS.search(sentence):
            # no label, but the sentence names its article in words: that article, given and supporting
            # the sentence (its name taken out: the law's title is no support), is its citation
            named = resolve(body, body, mentioned=True)
            plain = without_mentions(body)
            labels = [x for x in named if is_supported_by(plain, [x[1]], question)]
            if not labels and named and given:
                # the sentence says the named clause's content in its own words (support short of
                # MIN_SUPPORT, but at MENTION_SUPPORT and more than any other given clause's): the name
                # and the words agree, so it cites the clause, shown in the clause's words (below)
                best = max(given, key=lambda c: support(plain, c))
                labels = [x for x in named if x[1].id == best.id and support(plain, best) >= MENTION_SUPPORT]
            words_only = bool(labels)
        body = LIST_MARK.sub("", body.strip().lstrip("】]")).strip()
        if LEAD_IN.match(body) and LEAD_IN.sub("", body):
            body = LEAD_IN.sub("", body)
        checked = without_mentions(body) if words_only else body  # the words a clause must support
        if question and restates(body, question):
            check.dropped.append(("restates the question", body))
            pointed.extend(c for _, c in labels)  # the clause the model meant, if nothing else cites one
            continue
        if any(p in body for p in drop_phrases):
            check.dropped.append(("refusal phrase in an answer", body))
            continue
        if not labels and n == len(raw_sentences) - 1 and not body.endswith(tuple(TERMINALS)):
            check.dropped.append(("cut off", body))
            continue
        if is_bare_answer(body):
            # "有。【第七条第一款】": the answer word needs no citation (shape decides whether it stays); the
            # clause the model named is its reason, shown in the clause's own words unless a point cites it
            pointed.extend(c for _, c in labels)
            bare = True
            labels = []
        if labels and not is_supported_by(checked, [c for _, c in labels], question):
            other = [c for c in given if is_supported_by(body, [c], question)]
            if other:  # the model's words are a given clause's, under the wrong label: cite that clause
                best = max(other, key=lambda c: support(body, c))
                check.removed.extend(x for x, _ in labels)
                labels = [(regulation.cite(best), best)]
            elif (more := partner(body, [c for _, c in labels], given, question)) is not None:
                # its figures are another given clause's: cite that one too
                paired = [*labels, (regulation.cite(more), more)]
                check.added.append(regulation.cite(more))
            else:
                check.dropped.append((UNSUPPORTED, body))
                body = excerpt(labels[0][1], body)
                labels = labels[:1]
        elif len(labels) == 1 and not words_only and (better := says_better(checked, labels[0][1], given)):
            check.removed.append(labels[0][0])
            check.added.append(regulation.cite(better))
            labels = [(regulation.cite(better), better)]
        if paired:
            labels = paired
        elif len(labels) > 1:
            labels, extra = own_share(body, labels)
            check.removed.extend(extra)
        if not labels and len(bigrams(body)) >= MIN_BIGRAMS_TO_REPAIR and given:
            ranked = sorted(given, key=lambda c: -support(body, c))
            best = support(body, ranked[0])
            runner = support(body, ranked[1]) if len(ranked) > 1 else 0.0
            if best >= min_support and best - runner >= margin:
                if imports_question(body, question, ranked[0].text):
                    # the clause's content in the asker's words (「你委托的科技中介机构故意提供虚假的信息……」 for a
                    # law that says 科技服务机构): as with a cited sentence, shown in the clause's own words
                    check.dropped.append((UNSUPPORTED, body))
                    body = excerpt(ranked[0], body)
                    labels = [(regulation.cite(ranked[0]), ranked[0])]
                    check.added.append(labels[0][0])
                else:
                    # a figure the clause does not write must be another given clause's, cited with it
                    more = partner(body, [ranked[0]], given, question)
                    if more is not None or not missing_numbers(body, ranked[0].text):
                        labels = [(ranked[0].label, ranked[0])] + ([(regulation.cite(more), more)] if more else [])
                        check.added.extend(x for x, _ in labels)
        for part in unsaid_parts(body, [c for _, c in labels], question) if labels else ():
            check.dropped.append(("a part its clauses do not say", part))
            body = re.sub(rf"[，：；,:;]{re.escape(part)}(?=[，：；,:;。！!]|$)", "", body, count=1)
        pairs = list(dict.fromkeys(labels))
        if any(s.text == body for s in check.sentences):
            continue  # the same words twice (a replaced sentence can repeat one already given)
        check.sentences.append(Sentence(body, tuple(dict.fromkeys(x for x, _ in pairs)),
                                        tuple(dict.fromkeys(c for _, c in pairs))))
    # a clause shown in one sentence only, copying a part of it the question does not ask about: the part
    # it asks about instead (a clause copied part by part, as a penalty's cases are, keeps its parts)
    shown = [c for s in check.sentences for c in s.clauses]
    for i, s in enumerate(check.sentences):
        if question and len(s.clauses) == 1 and shown.count(s.clauses[0]) == 1 and not (
                asks_figure(question) and numbers_in(s.text)) and (part := asked_part(s.text, s.clauses[0], question)):
            # (罚多少钱, and the model copied 「拒不改正的，处以五万元以上五十万元以下的罚款」: the figure is what was asked)
            check.dropped.append(("another part of its clause is what was asked", s.text))
            check.sentences[i] = replace(s, text=part)
    if check.cited:
        pointed = [c for c in pointed if bare]  # reasons for an answer word only; points are there
    elif bare and not pointed:
        pointed = given[:1]  # a bare answer word with no valid reason: the best evidence is its reason
    for clause in dict.fromkeys(pointed):
        if clause not in check.cited:
            # the model gave no words of its own: the part of the clause that the question asks about
            words = excerpt(clause, question, expansion_terms(question)) if question else excerpt(clause, answer)
            check.sentences.append(Sentence(words, (regulation.cite(clause),), (clause,)))
            check.added.append(regulation.cite(clause))
    return check


def basis_list(citations: list[Clause]) -> str:
    """The closing line of an answer: 依据：【第十条第一款】【第十八条】."""
    return "依据：" + "".join(f"【{c.label}】" for c in citations)
