"""Hybrid retrieval: dense (FAISS) and BM25 scores fused (linear by default, reciprocal rank on request),
plus article lookup.

A question that names an article (第十条, 第10条, 十八条, 第五条第二款) gets that article's clauses
first; everything else is ranked by fusing the two retrievers (`Settings.fusion`: a convex combination
of normalized scores, or reciprocal rank fusion). Hits carry the clause, the fused score and each
retriever's rank and score, so callers (answers, UI, evaluation) never re-parse text. Finding article
references in a question is `chatbot.labels`; answer generation is left to `chatbot.answer`.

Over a knowledge base of several laws (`chatbot.kb`), a question is searched in the laws it names (or all
current ones, or those a caller chose), an article it names is looked up in the law named before it, and
the primary regulation is preferred among close matches (`PRIMARY_BONUS`). Each law's clauses are ordered
among themselves as if that law were searched alone (`per_law_fusion`, with BM25's inverse document
frequencies counted within the law: `Index.bm25_scores_by_law`); laws compete through their best clauses. Questions about a
law itself look up the article that answers them: whom it applies to, when it was adopted, when it takes
effect (`date_refs`); a question about liability prefers each law's 法律责任 chapter.

Over a million clauses nothing loops over every clause in Python: scores are numpy arrays, the laws in scope
are selected by integer codes (`Index.law_mask`), only the top of the order is sorted (`first_ranked`) and
ranks are counted for the hits alone (`ranks`). With an approximate dense index (`Index.dense_scores`),
only the clauses it scored are ranked by it; fusion takes the others at the lowest cosine it found.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from .config import Settings
from .corpus import Clause
from .embed import Embedder
from .index import MISSING, Index
from .kb import Scope
from .labels import PREAMBLE, Label, article_refs, article_refs_at, without_article_refs
from .tokens import simplified

RRF_K = 60  # reciprocal-rank-fusion constant from Cormack et al. (2009): damps the weight of top ranks so
#            that one retriever's first place does not outvote agreement lower down both lists


# article lookup: a named article's clauses score this instead of their fused score (at most 1.3), so they
# rank above every other clause; each later-named article gets 1 less, keeping the order the user named them
LOOKUP_BONUS = 10.0
# ... and a named paragraph (第五条第二款) this much more, so it comes before its sibling paragraphs;
# the other paragraphs of a named article follow in reading order, each ORDER_STEP lower
PARAGRAPH_BONUS = 0.5
ORDER_STEP = 0.01
# rare exact terms: a question word found verbatim in at most RARE_MAX_DF clauses (现代家具, 链长制) lifts
# them by up to EXACT_WEIGHT times the best fused score. Swept on the gold set (max df 1-3, weight 0.1-0.3,
# terms of 2 or 3+ characters): words used by one clause only, at 0.1-0.2, were best (Hit@1 +0.011) and left
# the held-out set unchanged; at 2-3 clauses a word already lifts wrong ones (README, "no rare-term match")
EXACT_WEIGHT = 0.2  # RARE_MAX_DF lives with the scoring, in chatbot.index
# Several laws in scope (README, "Knowledge base", for the sweep on the three gold sets):
# - the primary regulation is what the assistant is for: its clauses' fused scores are raised by this share,
#   so that a question its text answers is not taken over by a national law saying something close;
# - the other laws' clauses weigh the dense score more (BM25's user dictionary and synonyms are the
#   primary regulation's words, and on the other laws BM25 alone ranks well below dense retrieval).
PRIMARY_BONUS = 0.2
# ... among close matches only: when another law's best clause is closer to the question by meaning than the
# primary's best by more than this cosine, the primary gets no bonus (企业跟环保部门签减少排污的协议 went to the
# primary's 节能 clause at cosine 0.44, against 0.66 for 清洁生产促进法's 自愿削减污染物排放的协议)
PRIMARY_GAP = 0.15
OTHER_DENSE_WEIGHT = 0.9
# - laws are compared through their best clauses fused with one weight for all, the mean of the two: with
#   the primary at 0.7 and the others at 0.9, a primary clause that BM25 does not match topped out at 0.7
#   against 0.9 for another law's, more than the primary bonus makes up (敢闯敢试…会不会挨处分 went to the
#   product quality law's penalties instead of 第二十四条's 容错免责)
# ... and twice that when the question says 条例 without naming one (条例支持吗, 条例里有说吗)
REGULATION_WORD_BONUS = 0.4


# a question about when (or at which meeting) a law was adopted or amended, or when it takes effect: its
# 题注 (the notes under the title) and its article saying 自…起施行 are looked up like a named article
_WHEN = r"什么时候|啥时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|日期|时间|第几次|哪次|哪一次|哪个会|从哪"
_ADOPTED = r"通过(?!验收|审|评|认定|申请|考核)|颁布|公布|修订|修正|会议"
ASKS_ADOPTION = re.compile(rf"(?:{_WHEN})[^，。？?]{{0,8}}(?:{_ADOPTED})|(?:{_ADOPTED})[^，。？?]{{0,6}}?"
                           r"(?:时间|日期|是哪|是什么时候|是何时|是在|在哪)")
ASKS_EFFECTIVE = re.compile(rf"(?:{_WHEN})[^，。？?]{{0,8}}(?:施行|实施|实行|生效|开始执行)|(?:施行|实施|实行|生效)[^，。？?]{{0,6}}?"
                            r"(?:时间|日期|是哪|是什么时候|是何时)|(?:从|自)(?:什么时候|何时|哪天|哪一天)起|"
                            r"(?:施行|生效)了?(?:没有?|了吗)")  # 现在生效没
TAKES_EFFECT = re.compile(r"自[^，。]{2,16}起施行")
# a law's 题注 (its title and the notes under it) answers questions about the law itself: when and by whom it
# was adopted, amended or published, what it is called. For other questions its words (江西省…条例) match any
# question that names the law, so its fused score is multiplied by this (这个条例只管江西境内的事吗 went to it)
ABOUT_THE_LAW = re.compile(r"通过|会议|审议|表决|颁布|公布|发布|人大|常委会|机关|题注|标题|名称|全称|叫什么|哪[一]?年|"
                           r"什么时候|何时|日期|时间|修订|修正|修改|版本|[0-9０-９]{4}年?版|谁(?:制定|出台|定|发)|哪个部门(?:制定|出台)")
PREAMBLE_WEIGHT = 0.5
# a question about liability or penalties (要担什么责任, 会不会被处罚, 罚多少) prefers, within each law, the
# clauses of its 法律责任 chapter: their fused scores are raised by this share
ASKS_LIABILITY = re.compile(r"(?:承担|担|负|追究)[^，。？?]{0,6}责任|法律责任|处罚|处分|罚款|罚多少|怎么罚|罚不罚|吊销")
LIABILITY_BONUS = 0.1
# a question whether (or to whom) a law applies: 这个条例对我有约束吗, 外省企业也适用这个条例吗, 适用于哪些主体 …
_LAW = r"(?:条例|法律|法规|本法|这部法|该法|这个法|规定)"
ASKS_APPLIES = re.compile(rf"适用范围|适用对象|适用于哪|适用(?:这个|这部|本|该|此)?{_LAW}|{_LAW}[^，。？?]{{0,16}}?"
                          rf"(?:适用于|适不适用|约束|有关系|有没有关系|只管|管得着|管得到)|归[^，。？?]{{0,4}}?{_LAW}管"
                          # 清洁生产法管的是哪些人 是不是只管工厂
                          r"|法[^，。？?\s]{0,2}管(?:的是|的)?(?:哪些|什么|谁)|管(?:哪些|的是哪些)(?:人|企业|单位|主体|行业)"
                          r"|只管(?:工厂|企业|公司|单位|本地|国企|制造)")
# ... is answered by the article saying so (本条例适用于…, 从事…活动，必须遵守本法), among a law's first articles
APPLIES = re.compile(r"本(?:法|条例|办法|规定|细则)(?:的规定)?适用于|(?:遵守|适用)本(?:法|条例|办法|规定|细则)")
# ... or, failing that, the article placing it in the country and naming who acts under it (在中华人民共和国领域内，
# 从事生产和服务活动的单位……依照本法规定，组织、实施清洁生产)
APPLIES_WHERE = re.compile(r"在中华人民共和国(?:领域|境)内[^。]{0,80}(?:依照|按照|遵守)本法")
APPLIES_WITHIN = 6


# a question that only asks what a named article says (第十条说了啥, 中小企业促进法第37条第3款是什么内容):
# what is left once the law's name and the article are taken out
_WHAT_IT_SAYS = re.compile(r"(?:主要|具体|都)?(?:讲|说|规定)(?:了|的是|的)?(?:什么|啥)(?:内容|意思)?|是(?:什么|啥)(?:内容|意思)?"
                           r"|(?:是|讲的是|说的是)?(?:什么|啥)意思|(?:的|讲的|说的)?(?:主要)?内容(?:是什么|是啥)?"
                           # what it says about a thing it holds: 第1条讲的立法依据和目的是什么, 第五条规定的要求有哪些
                           r"|(?:里|中)?(?:讲|说|规定|提)(?:到)?的[^，,。？?！!吗]{1,12}(?:是什么|是啥|有哪些|有什么|是哪些|包括哪些)"
                           # 第三十二条规定了哪些追责情形, 第五条列了哪些要求
                           r"|(?:规定|列|列举)了?(?:哪些|哪几种|哪几项|几种|什么)[^，,。？?！!吗]{0,8}")
_ASIDE = re.compile(r"^(?:请问|想问一下|想问|问一下)?(?:本条例|这个条例|这部条例|该条例|条例|本法|这部法|该法)?的?|[\s？?。！!]+$")


def asks_article_text(question: str) -> bool:
    """Whether the question only asks what the article it names says; the law's name taken out already.

    asks_article_text("第11条主要讲什么？") -> True;  ("第二十一条第二款是讲融资的吧？企业可以发哪些债") -> False
    asks_article_text("十八条说了什么") -> True;  ("第十条第二款呢？") -> True;  ("哪一条规定了用地") -> False
    asks_article_text("第1条讲的立法依据和目的是什么") -> True;  ("第十条规定的优惠外地企业能享受吗") -> False
    """
    if not article_refs(question):
        return False
    rest = _ASIDE.sub("", without_article_refs(question.strip()))
    return rest in ("", "呢", "的内容") or bool(_WHAT_IT_SAYS.fullmatch(rest))  # 「第十条」, 「第二款呢？」


def asks_when(question: str) -> bool:
    """Whether the question asks when a law was adopted or amended, or when it takes effect."""
    return bool(ASKS_ADOPTION.search(question) or ASKS_EFFECTIVE.search(question))


def date_refs(question: str, reg) -> list[int]:
    """Articles of `reg` answering a question about the law itself: the article saying whom or what it
    applies to (本条例适用于…) for 「对我有约束吗」「适用于哪些主体」; 0 (the 题注: adoption and amendments)
    for 「什么时候通过的」「第几次会议通过」; the article saying 自…起施行 for 「从哪天开始施行」.

    date_refs("条例是什么时候通过、什么时候施行的？", jiangxi) -> [0, 26];  ("通过什么方式支持？") -> []
    date_refs("外省企业也适用这个条例吗？", jiangxi) -> [2]
    """
    out = []
    if ASKS_APPLIES.search(question):
        first = reg.articles[:APPLIES_WITHIN]
        out += ([a.number for a in first if APPLIES.search(a.text)] or
                [a.number for a in first if APPLIES_WHERE.search(a.text)])[:1]
    if ASKS_ADOPTION.search(question) and reg.preamble is not None:
        out.append(PREAMBLE)
    if ASKS_EFFECTIVE.search(question):
        out += [a.number for a in reversed(reg.articles) if TAKES_EFFECT.search(a.text)][:1]
    return out


def rrf(ranks: list[np.ndarray], k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion: score(d) = sum_i 1 / (k + rank_i(d)), over the rankings that rank d (ranks
    start at 1, one array per ranking, one entry per document; inf: this ranking leaves d out).

    rrf([[1, 2, inf], [inf, 1, 2]], k=1) -> [0.5, 1/3 + 0.5, 1/3]  (rankings [a, b] and [b, c])
    """
    out = np.zeros(len(ranks[0]) if ranks else 0, dtype=np.float64)
    for r in ranks:
        r = np.asarray(r, dtype=np.float64)
        out += np.where(np.isfinite(r), 1.0 / (k + r), 0.0)
    return out


def linear_fusion(dense: np.ndarray, bm25: np.ndarray, dense_weight: float | np.ndarray) -> np.ndarray:
    """Convex combination of per-query normalized scores: w * minmax(dense) + (1 - w) * bm25 / max(bm25).

    Unlike RRF it keeps how far apart the scores are, so a clause that BM25 matches far better than
    any other is not flattened to "rank 1". Clauses BM25 does not match get 0 from it. The weight may
    differ per clause (an array): other laws than the primary weigh dense retrieval more.
    linear_fusion([0.2, 0.6], [0.0, 3.0], 0.5) -> [0.0, 1.0];  ([0.2, 0.6], [4.0, 2.0], 0.5) -> [0.5, 0.75]
    """
    d = np.asarray(dense, dtype=np.float64)
    b = np.asarray(bm25, dtype=np.float64)
    span = d.max() - d.min()
    dn = (d - d.min()) / span if span > 0 else np.zeros_like(d)
    bn = b / b.max() if b.max() > 0 else np.zeros_like(b)
    return dense_weight * dn + (1 - dense_weight) * bn


def runs(codes: np.ndarray) -> np.ndarray | None:
    """Where each group starts when `codes` come in runs (clauses are stored law by law), else None.

    runs([0, 0, 1]) -> [0, 2];  runs([1, 0, 1]) -> None
    """
    if len(codes) and (len(codes) < 2 or bool((codes[1:] >= codes[:-1]).all())):
        return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return None


def group_reduce(ufunc, values: np.ndarray, codes: np.ndarray, n: int, start: float,
                 starts: np.ndarray | None = None) -> np.ndarray:
    """`ufunc` (np.maximum, np.minimum) of `values` within each group `codes` (0..n-1); `start` where empty.
    `starts` (from `runs`) makes it one reduceat instead of a scatter.

    group_reduce(np.maximum, [1, 5, 2], [0, 0, 1], 3, -inf) -> [5, 2, -inf]
    """
    out = np.full(n, start, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if starts is not None and len(values):
        out[codes[starts]] = ufunc.reduceat(values, starts)
    else:
        ufunc.at(out, codes, values)
    return out


def per_law_fusion(dense: np.ndarray, bm25: np.ndarray, dense_weight: float | np.ndarray,
                   codes: np.ndarray, bm25_own: np.ndarray | None = None,
                   across: float | np.ndarray | None = None, rare: np.ndarray | None = None,
                   rare_own: np.ndarray | None = None, rare_weight: float = 0.0) -> np.ndarray:
    """Linear fusion normalized within each law (`codes`: each clause's law), rescaled so that each law's
    best clause keeps the score it has in fusion over all laws (`linear_fusion`, with the weight `across`
    for every law when given, so that laws are compared on equal terms).

    Within a law, clauses are then ordered exactly as if that law were searched alone: another law's
    longer BM25 scores or wider cosine range no longer change how dense and BM25 weigh against each
    other inside it. Across laws, each law's best clause is compared as before.
    per_law_fusion([0.2, 0.6, 0.5], [4.0, 2.0, 8.0], 0.5, [0, 0, 1]) -> [0.4167, 0.625, 0.875]

    The rare-term lift (`rare_weight` times the best score, times a clause's rare-term weight) follows
    the same split: inside a law with the terms rare in that law (`rare_own`), as that law alone would
    have it; across laws with the terms rare in all of them (`rare`), so a word one law uses once and
    others use too lifts its clause within the law, not the law against the others.
    """
    d = np.asarray(dense, dtype=np.float64)
    b = np.asarray(bm25, dtype=np.float64)
    codes = np.asarray(codes)
    whole = linear_fusion(d, b, dense_weight if across is None else across)
    if rare is not None and len(whole) and whole.max() > 0:
        whole = whole + rare_weight * float(whole.max()) * rare
    if not len(d):
        return whole
    n = int(codes.max()) + 1
    starts = runs(codes)  # (the groups are found once for the reductions)
    lo = group_reduce(np.minimum, d, codes, n, np.inf, starts)
    hi = group_reduce(np.maximum, d, codes, n, -np.inf, starts)
    span = (hi - lo)[codes]
    dn = np.where(span > 0, (d - lo[codes]) / np.where(span > 0, span, 1.0), 0.0)
    own = b if bm25_own is None else np.asarray(bm25_own, dtype=np.float64)
    top = group_reduce(np.maximum, own, codes, n, 0.0, starts)[codes]
    bn = np.where(top > 0, own / np.where(top > 0, top, 1.0), 0.0)
    local = dense_weight * dn + (1 - dense_weight) * bn
    if rare_own is not None:
        local = local + rare_weight * group_reduce(np.maximum, local, codes, n, 0.0, starts)[codes] * rare_own
    best_local = group_reduce(np.maximum, local, codes, n, 0.0, starts)
    best_whole = group_reduce(np.maximum, whole, codes, n, 0.0, starts)
    scale = np.where(best_local > 0, best_whole / np.where(best_local > 0, best_local, 1.0), 0.0)[codes]
    return np.where(best_local[codes] > 0, local * scale, whole)


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float                    # fused score; article-lookup hits rank above all others
    dense_rank: int | None = None   # 1-based rank by the dense retriever, None if not used
    bm25_rank: int | None = None    # 1-based rank by BM25, None if it scored 0
    dense_score: float | None = None
    bm25_score: float | None = None
    lookup: bool = False            # the question named this clause's article

    @property
    def first_of_both(self) -> bool:
        """Both retrievers rank it first (BM25 alone, when there is no dense retriever)."""
        return self.bm25_rank == 1 and self.dense_rank in (1, None)


@dataclass(frozen=True)
class ArticleHit:
    article: int
    score: float
    hits: tuple[Hit, ...]
    regulation: str = ""   # the regulation's id ("" for a regulation parsed on its own)


@dataclass
class Retrieval:
    question: str
    hits: list[Hit]
    refs: list[Label] = field(default_factory=list)         # articles the question named (regulation: id)
    missing_refs: list[Label] = field(default_factory=list)  # ... that their regulation lacks
    mode: str = "hybrid"            # hybrid, dense, bm25
    seconds: float = 0.0
    max_dense: float | None = None  # best cosine of any clause, for refusal decisions
    notice: str = ""                # set when retrieval had to degrade (e.g. the embedder failed)
    scope: Scope | None = None      # the regulations searched (all current ones, or those the question named)

    def articles(self, k: int | None = None) -> list[ArticleHit]:
        """The first k articles retrieved, each with its clause hits, ranked by their best clause."""
        return group_by_article(self.hits)[:k]


def group_by_article(hits: list[Hit]) -> list[ArticleHit]:
    """Group clause hits (best first) by article, articles ranked by their best clause.

    hits of clauses a10p1, a18p1, a10p2 -> [ArticleHit(10, (a10p1, a10p2)), ArticleHit(18, (a18p1,))]
    (articles of different regulations are different groups)
    """
    groups: dict[tuple[str, int], list[Hit]] = {}
    for h in hits:
        groups.setdefault((h.clause.regulation, h.clause.article), []).append(h)
    return [ArticleHit(a, hs[0].score, tuple(hs), r) for (r, a), hs in groups.items()]


def ranking(scores: np.ndarray, positive_only: bool = False) -> list[int]:
    """Indices by descending score (stable on ties); with positive_only, scores <= 0 are dropped."""
    order = np.argsort(-scores, kind="stable")
    return [int(i) for i in order if not positive_only or scores[i] > 0]


def ranks(scores: np.ndarray, ids: list[int], above: float | None = None) -> list[int | None]:
    """The 1-based place of each of `ids` in the stable descending order of `scores` (as `ranking` gives
    it), None for one scoring `above` or less; without sorting everything when there are few ids:
    place(i) = #{j: s_j > s_i} + #{j < i: s_j == s_i} + 1.

    ranks([0.2, 0.5, 0.2, 0.0], [0, 2, 3], above=0.0) -> [2, 3, None]
    """
    if len(ids) > 32:  # many: one sort is cheaper than a pass per id
        places = rank_array(scores, above)
        return [int(places[i]) if np.isfinite(places[i]) else None for i in ids]
    ranked = [i for i in ids if above is None or scores[i] > above]
    if not ranked:
        return [None] * len(ids)
    # only the scores at or above the lowest of these ids can come before one of them
    at = np.flatnonzero(scores >= min(scores[i] for i in ranked))
    top = scores[at]
    place = {i: int(np.count_nonzero(top > scores[i]) + np.count_nonzero(top[at < i] == scores[i])) + 1
             for i in ranked}
    return [place.get(i) for i in ids]


def rank_array(scores: np.ndarray, above: float | None = None) -> np.ndarray:
    """Every document's 1-based place in the stable descending order of `scores`; inf for one scoring
    `above` or less (those come last, so with above=0 the others' places are those of `ranking(scores, True)`).

    rank_array([0.2, 0.5, 0.0], above=0.0) -> [2, 1, inf]
    """
    scores = np.asarray(scores)
    out = np.empty(len(scores), dtype=np.float64)
    out[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    if above is not None:
        out[~(scores > above)] = np.inf
    return out


def first_ranked(score: np.ndarray, keys: tuple[np.ndarray, ...], among: np.ndarray, m: int) -> list[int]:
    """The first m of the documents where `among` is true, by descending `score`, ties broken by `keys`
    (ascending, first key first), then by index; only the top of the order is sorted.

    first_ranked([0.1, 0.9, 0.9, 0.5], (), [True, True, True, False], 2) -> [1, 2]
    """
    idx = np.flatnonzero(among)
    if m <= 0:
        return []
    if m < len(idx):
        v = score[idx]
        above = v > v.min()
        if np.count_nonzero(above) >= m:  # then the lowest score (often shared by most) is not among the first m
            idx, v = idx[above], v[above]
        if m < len(idx):
            idx = idx[v >= np.partition(v, len(v) - m)[len(v) - m]]  # the m best, and every tie of the m-th
    order = np.lexsort((idx, *(k[idx] for k in reversed(keys)), -score[idx]))
    return idx[order[:m]].tolist()


class Retriever:
    """Ranks the clauses of one index. `embedder=None` (or an index with no vectors) means BM25 only.

    Fusion, its weight and the RRF constant come from `settings` (defaults: `Settings`); `lookup`,
    `expand` and `exact` switch off article lookup, query expansion and the rare-term match for the
    ablations of the evaluation.
    """

    def __init__(self, index: Index, embedder: Embedder | None = None, settings: Settings | None = None,
                 lookup: bool = True, expand: bool = True, exact: bool = True):
        self.settings = settings or Settings()
        self.index = index
        self.embedder = embedder if index.dense is not None else None
        self.lookup = lookup
        self.expand = expand
        self.exact = exact
        self.primary_bonus = PRIMARY_BONUS
        self.primary_gap = PRIMARY_GAP
        self.other_dense_weight = OTHER_DENSE_WEIGHT

    @property
    def fusion(self) -> str:
        return self.settings.fusion

    @property
    def mode(self) -> str:
        return "hybrid" if self.embedder is not None else "bm25"

    def search(self, question: str, k: int = 5, mode: str | None = None,
               query_vector: np.ndarray | None = None, regulations: list[str] | None = None,
               law: str | None = None) -> Retrieval:
        """The k best clauses for a question, among the regulations it may use (`KnowledgeBase.scope`:
        the current ones, or `regulations` when given, narrowed to those the question names). An article
        the question names (第十条) is looked up in the law named just before it, else in `law` (the
        previous turn's regulation id), else in the primary regulation."""
        t0 = time.perf_counter()
        question = simplified(question)
        mode = mode or self.mode
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown retrieval mode {mode!r}; choose hybrid, dense or bm25")
        if mode != "bm25" and self.embedder is None:
            raise ValueError(f"{mode} retrieval needs an embedding model; this index is BM25 only")
        kb = self.index.regulation
        scope = kb.scope(question, regulations)
        allowed = set(scope.ids)
        every = self.index.clauses
        inside = self.index.law_mask(allowed)
        sub = np.flatnonzero(inside)  # the clauses searched, in index order; position i below is clause sub[i]
        part = sub if len(sub) < len(every) else slice(None)  # (no copies when every law is in scope)
        mine = self.index.law_mask([kb.primary.id])[part]  # the primary regulation's clauses among them
        # kept to the laws it names, a question is searched without their names (they match every clause
        # that repeats the title's words)
        text = kb.without_names(question) if scope.named else question
        if text != question:
            query_vector = None
        per_law = mode == "hybrid" and self.fusion == "linear" and self.index.several_laws
        bm_own = None
        if mode == "dense":
            bm = np.zeros(len(sub), np.float32)
        elif per_law:
            bm, bm_own = (x[part] for x in self.index.bm25_scores_by_law(text, expand=self.expand))
        else:
            bm = self.index.bm25_scores(text, expand=self.expand)[part]
        dn = None
        notice = ""
        lifted = False
        if mode != "bm25":
            try:
                qv = query_vector if query_vector is not None else self.embedder.encode_queries([text])[0]
                also = None
                if mode == "hybrid" and not self.index.exact and len(bm):  # BM25's best: their true cosine
                    m = min(self.index.candidates, len(bm))
                    best = np.argpartition(-bm, m - 1)[:m]
                    also = sub[best[bm[best] > 0]]
                dn = self.index.dense_scores(qv, among=None if isinstance(part, slice) else inside, also=also)[part]
            except Exception as e:  # noqa: BLE001 - a failing embedder must not take answers down
                if mode == "dense":
                    raise
                mode, notice = "bm25", f"语义检索出错，本次仅用关键词检索（{type(e).__name__}: {e}）"
        # an approximate index scores some clauses only (`Index.dense_scores`; the others are MISSING): they
        # alone are ranked, and linear fusion takes the others at the lowest cosine found, as exact search would
        # at worst, so that min-max normalization spans the same range as with exact search
        dense_above = None if dn is None or self.index.exact else MISSING
        dn_fused = dn
        if dense_above is not None and (dn > MISSING).any():
            dn_fused = np.where(dn > MISSING, dn, dn[dn > MISSING].min())
        if mode == "bm25":
            fused = bm / bm.max() if len(bm) and bm.max() > 0 else bm
        elif mode == "dense":
            fused = dn
        elif self.fusion == "linear":
            w = self.settings.dense_weight
            if len(allowed) > 1:
                w = np.where(mine, w, self.other_dense_weight)
            across = (self.settings.dense_weight + self.other_dense_weight) / 2
            if per_law:
                rare = rare_own = None
                lifted = self.exact  # (the rare-term lift is inside the per-law fusion)
                if self.exact:
                    # inside the primary regulation, its own rare words (as with it alone); inside the other
                    # laws, the words rare over all of them, as before (their own gave nothing: README)
                    rare = self.index.rare_term_scores(text)[part]
                    rare_own = np.where(mine, self.index.rare_term_scores(text, by_law=True)[part], rare)
                fused = per_law_fusion(dn_fused, bm, w, self.index.law_codes[part], bm_own, across,
                                       rare, rare_own, EXACT_WEIGHT)
            else:
                fused = linear_fusion(dn_fused, bm, w)
        else:
            fused = rrf([rank_array(dn, dense_above), rank_array(bm, 0.0)], k=self.settings.rrf_k)
        if self.exact and mode != "dense" and not lifted and len(fused) and fused.max() > 0:
            fused = fused + EXACT_WEIGHT * float(fused.max()) * self.index.rare_term_scores(text)[part]
        if self.lookup and len(fused) and not ABOUT_THE_LAW.search(text):
            fused = np.where(self.index.articles[part] == PREAMBLE, fused * PREAMBLE_WEIGHT, fused)
        if self.lookup and len(fused) and ASKS_LIABILITY.search(text):
            fused = fused * (1.0 + LIABILITY_BONUS * self.index.liability_mask[part])
        if self.primary_bonus and len(allowed) > 1 and len(fused) and fused.max() > 0:
            bonus = max(self.primary_bonus, REGULATION_WORD_BONUS) if scope.regulation_word else self.primary_bonus
            if self.primary_gap is not None and dn is not None and mine.any() and (~mine).any() and \
                    float(dn[~mine].max()) - float(dn[mine].max()) > self.primary_gap:
                bonus = 0.0
            # multiplied, not added: the primary regulation's clauses keep their ratios to each other, so the
            # evidence chosen among them (within a share of the best) is what it would be for it alone
            fused = fused * (1.0 + bonus * mine)

        refs, missing = [], []
        if self.lookup:
            mentions = kb.mentions(question)
            for pos, ref in article_refs_at(question):
                before = [regs for end, regs in mentions if end <= pos]
                named = (before[-1] if before else mentions[0][1] if mentions else
                         [kb.get(law)] if law and kb.get(law) else [kb.primary])
                reg = next((r for r in named if r.id in allowed), named[0])
                ref = Label(ref.article, ref.paragraph, regulation=reg.id or None)
                refs.append(ref)
                # 第零条 names no article (article 0 is how the preamble is numbered, not a citable 第X条)
                if ref.article == PREAMBLE or reg.article(ref.article) is None:
                    missing.append(ref)
        if self.lookup and not refs:
            # 什么时候通过的 / 从哪天起施行: the 题注 and the 施行 article of the law asked about
            laws = [kb.get(i) for i in scope.ids] if scope.named else [kb.get(law) if law and kb.get(law) else kb.primary]
            for reg in [r for r in laws if r is not None][:2]:
                refs += [Label(n, regulation=reg.id or None) for n in date_refs(question, reg)]
        boost: dict[int, float] = {}
        articles = self.index.articles[part]
        for j, ref in enumerate(r for r in refs if r not in missing):
            for i in np.flatnonzero(articles == ref.article).tolist():
                c = every[sub[i]]
                if (c.regulation or None) == ref.regulation:
                    # named articles first, in the order named; a named paragraph before its siblings
                    bonus = (LOOKUP_BONUS - j + (PARAGRAPH_BONUS if ref.paragraph == c.paragraph else 0.0)
                             - ORDER_STEP * c.paragraph)
                    boost[i] = max(boost.get(i, 0.0), bonus)
        # the order: by score (a looked-up clause's boost replaces its fused score), ties in fused order, then
        # looked-up clauses that are not candidates, in index order. BM25 alone ranks the clauses with a
        # matching word, approximate dense search alone the clauses it scored
        candidate = (bm > 0 if mode == "bm25" else dn > MISSING if mode == "dense" and dense_above is not None
                     else np.ones(len(sub), dtype=bool))
        score = np.asarray(fused, dtype=np.float64).copy()
        pool = candidate.copy()
        late = np.zeros(len(sub), dtype=np.int8)
        if boost:
            looked = np.fromiter(boost, dtype=np.int64, count=len(boost))
            score[looked] = np.fromiter(boost.values(), dtype=np.float64, count=len(boost))
            pool[looked] = True
            late[looked] = ~candidate[looked]
        # (without looked-up clauses the score is the fused score, and its order needs no tie-breaking keys)
        keys = (late, np.where(late == 0, -np.asarray(fused, dtype=np.float64), 0.0)) if boost else ()
        ids = first_ranked(score, keys, pool, k)
        if (scope.named or scope.versions) and len(scope.ids) > 1:
            # a question naming several laws (本条例和中小企业促进法…), or asking what changed between versions,
            # gets the best clause of each in the top k
            firsts = [next(iter(first_ranked(score, keys, pool & self.index.law_mask([law])[part], 1)), None)
                      for law in scope.ids]
            extra = [i for i in firsts if i is not None and i not in ids[:k]]
            top = [i for i in ids[:k] if i not in extra][:max(k - len(extra), 1)]
            ids = sorted(top + extra[:k - 1], key=lambda i: -float(score[i]))
        ids = ids[:k]
        dense_places = ranks(dn, ids, dense_above) if dn is not None else [None] * len(ids)
        bm25_places = ranks(bm, ids, 0.0)
        hits = [
            Hit(clause=every[sub[i]], score=round(float(score[i]), 6),
                dense_rank=dr, bm25_rank=br,
                dense_score=float(dn[i]) if dn is not None and dr is not None else None,
                bm25_score=float(bm[i]) if mode != "dense" else None, lookup=i in boost)
            for i, dr, br in zip(ids, dense_places, bm25_places)
        ]
        return Retrieval(question, hits, refs, missing, mode, time.perf_counter() - t0,
                         max_dense=float(dn.max()) if dn is not None and len(dn) else None, notice=notice,
                         scope=scope)


def open_retriever(settings, log=None) -> tuple[Retriever, list[str]]:
    """Parse the corpus, load the embedder (or fall back to BM25), open the index.

    Returns the retriever and the notices for the user (e.g. that dense retrieval is off and why).
    """
    import sys

    from .embed import load_embedder
    from .index import open_index
    from .kb import load_kb

    log = log or (lambda msg: print(msg, file=sys.stderr))
    regulation = load_kb(settings.corpus_dir)
    embedder, notice = load_embedder(settings)
    notices = [notice] if notice else []
    for n in notices:
        log(n)
    index = open_index(regulation, settings.index_dir, embedder, log=log, gold_file=settings.gold_file)
    return Retriever(index, embedder, settings), notices
