"""Evaluation against a gold question set: validation of the gold file, retrieval metrics (the product's
retriever against its ablations and a naive RAG baseline) and answer metrics, plus the two runs the
command line and the web app start (`run_retrieval_eval`, `run_answer_eval`).

Articles are counted with their law: an article of the primary regulation is its number, one of another
law "<regulation id>:<number>" (`article_key`), so citing 第十条 of the wrong law is a miss.
Retrieval metrics are computed at article level, on in-scope questions (gold articles non-empty):
    Hit@1     the first article retrieved is a gold article
    Recall@k  share of gold articles among the first k distinct articles retrieved
    MRR       1 / rank of the first gold article (0 if none is retrieved)
Answer metrics (`answer_scores`, `aggregate_answers`): citation precision/recall at article and clause
level, key-point coverage, refusals, valid citations, lexical faithfulness, latency. Writing the
report files and comparing runs is `chatbot.tools.report`.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..answer import REFUSAL_MARKERS, below_relevance
from ..citations import (BRACKETS, SENTENCE, is_bare_answer, is_supported, is_supported_by, opens_with_answer,
                         restates)
from ..config import Settings
from ..corpus import Clause, Regulation
from ..kb import as_kb
from ..index import build_bm25, build_dense
from ..gold import GoldItem, load_gold
from ..labels import NUM
from ..numerals import to_int
from ..retrieve import Retriever, group_by_article, ranking
from ..scope import out_of_scope
from ..shape import yes_no
from ..tokens import Tokenizer

# a run of answer text with the labels that end it: 「……。【第十条第一款】【第十二条】」
CITED_RUN = re.compile(r"[^【】]+(?:【[^】]*】)+")


def dedupe(seq) -> list:
    """Keep first occurrences: dedupe([3, 1, 3, 2]) -> [3, 1, 2]."""
    seen, out = set(), []
    for x in seq:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def article_key(regulation: str, article: int, primary: str = ""):
    """How an article is counted: article_key("", 10) -> 10 (the primary regulation's), 
    article_key("sme-promotion-law-2017", 10) -> "sme-promotion-law-2017:10"."""
    return article if regulation in ("", primary) else f"{regulation}:{article}"


def gold_keys(item: GoldItem, primary: str = "") -> set:
    return {article_key(r, a, primary) for r, a in item.gold(primary)}


def key_regulation(key, primary: str) -> str:
    """The regulation id of an article key."""
    return key.rsplit(":", 1)[0] if isinstance(key, str) else primary


def versions_of(kb, regulation: str | None) -> set[str]:
    """The ids of every version of a regulation (those with its title), itself included; empty for None."""
    reg = kb.get(regulation) if regulation else None
    return {r.id for r in kb.regulations if r.title == reg.title} if reg is not None else set()


def article_metrics(gold: tuple[int, ...], ranked: list[int]) -> dict[str, float]:
    """Per-question metrics; `ranked` are distinct article numbers, best first.

    article_metrics((10, 19), [19, 4, 10]) -> hit@1 1.0, recall@3 1.0, recall@5 1.0, mrr 1.0
    article_metrics((10,), [4, 10]) -> hit@1 0.0, recall@3 1.0, recall@5 1.0, mrr 0.5
    """
    g = set(gold)
    first = next((i for i, a in enumerate(ranked, start=1) if a in g), None)
    return {
        "hit@1": float(bool(ranked) and ranked[0] in g),
        "recall@3": len(g & set(ranked[:3])) / len(g),
        "recall@5": len(g & set(ranked[:5])) / len(g),
        "mrr": 1.0 / first if first else 0.0,
    }


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = ("hit@1", "recall@3", "recall@5", "mrr")
    if not rows:
        return {k: 0.0 for k in keys} | {"n": 0}
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in keys} | {"n": len(rows)}


# --- retrievers compared ------------------------------------------------------------------------

def naive_chunks(source_text: str, regulation: Regulation | None = None, size: int = 250, overlap: int = 50,
                 key=lambda n: n):
    """Fixed-size character chunks of the raw source (what common RAG tools do by default), each with the
    articles it overlaps (as `key(number)`), found by the article heads in the raw text."""
    heads = [(m.start(), key(to_int(m.group(1)))) for m in re.finditer(rf"第({NUM})条", source_text)
             if m.start() == 0 or source_text[m.start() - 1] in "\n*"]
    chunks = []
    step = size - overlap
    for start in range(0, max(len(source_text) - overlap, 1), step):
        end = min(start + size, len(source_text))
        arts = [n for i, (pos, n) in enumerate(heads)
                if pos < end and (heads[i + 1][0] if i + 1 < len(heads) else len(source_text)) > start]
        chunks.append((source_text[start:end], tuple(arts)))
    return chunks


class Variants:
    """The product retriever and the retrievers it is compared with, sharing one embedder.

    `names` lists them in report order; each ablation removes one part of the product's retriever
    (article lookup, fusion, query expansion, user dictionary, article context) so its gain shows.
    """

    def __init__(self, retriever: Retriever, source_texts: dict[str, str] | str):
        index, embedder = retriever.index, retriever.embedder
        kb = index.regulation
        primary = kb.primary.id
        if isinstance(source_texts, str):
            source_texts = {primary: source_texts}
        current = [r for r in kb.current]
        self.product = retriever
        s = retriever.settings
        no_lookup = Retriever(index, embedder, s, lookup=False)
        no_expand = Retriever(index, embedder, s, expand=False)
        no_exact = Retriever(index, embedder, s, exact=False)
        # the dictionary ablation tokenizes documents, questions and expansions alike without it
        plain = Tokenizer(user_dict=False)
        no_dict_index = replace(index, bm25=build_bm25([c.search_text for c in index.clauses], plain),
                                tokenizer=plain)
        no_dict = Retriever(no_dict_index, embedder, s)
        n = len(index.clauses)
        search = lambda r, **kw: lambda q, qv: [  # noqa: E731
            article_key(a.regulation, a.article, primary) for a in r.search(q, k=n, query_vector=qv, **kw).articles()]
        self.rankers = {}
        if embedder is not None:
            ctx = [c.text_with_context for c in index.clauses]
            ctx_index = replace(index, bm25=build_bm25(ctx, index.tokenizer),
                                dense=build_dense(embedder.encode_documents(ctx)))
            other = "rrf" if retriever.fusion == "linear" else "linear"
            arts = [(r.id, a) for r in current for a in r.articles]
            art_vecs = embedder.encode_documents([a.text for _, a in arts])
            art_nums = [article_key(r, a.number, primary) for r, a in arts]
            naive = [c for r in current if r.id in source_texts
                     for c in naive_chunks(source_texts[r.id], key=lambda x, r=r: article_key(r.id, x, primary))]
            naive_vecs = embedder.encode_documents([t for t, _ in naive])
            self.rankers |= {
                "hybrid": search(retriever),
                "hybrid, no article lookup": search(no_lookup),
                f"hybrid, {other} fusion": search(Retriever(index, embedder, replace(s, fusion=other))),
                "hybrid, no query expansion": search(no_expand),
                "hybrid, no rare-term match": search(no_exact),
                "hybrid, clauses prefixed with article context": search(Retriever(ctx_index, embedder, s)),
                "dense (no lookup)": search(no_lookup, mode="dense"),
                "dense, clauses prefixed with article context (no lookup)": search(
                    Retriever(ctx_index, embedder, s, lookup=False), mode="dense"),
                "dense, whole articles (no lookup)": lambda q, qv: [art_nums[i] for i in ranking(art_vecs @ qv)],
                "naive: 250-char chunks, 50 overlap, dense": lambda q, qv: dedupe(
                    a for i in ranking(naive_vecs @ qv) for a in naive[i][1]),
            }
        self.rankers |= {
            "bm25": search(retriever, mode="bm25"),
            "bm25, no article lookup": search(no_lookup, mode="bm25"),
            "bm25, no query expansion": search(no_expand, mode="bm25"),
            "bm25, no rare-term match": search(no_exact, mode="bm25"),
            "bm25, no user dictionary": search(no_dict, mode="bm25"),
        }
        self.names = list(self.rankers)

    def rank(self, name: str, question: str, qv: np.ndarray | None) -> list[int]:
        """Distinct article numbers, best first, for one variant."""
        return self.rankers[name](question, qv)


def evaluate_retrieval(gold: list[GoldItem], retriever: Retriever, source_text: dict[str, str] | str,
                       progress=None) -> dict:
    """Metrics for every variant, overall, by question type and by regulation, and the product's retrieval
    latency. `source_text`: the raw text of each regulation (by id), for the naive baseline.

    Regulation accuracy: the first hit is from the question's law (either law, for a two-law question);
    version questions (type "version") count as current when their first hit is from the gold version."""
    variants = Variants(retriever, source_text)
    primary = retriever.index.regulation.primary.id
    index, embedder = retriever.index, retriever.embedder
    in_scope = [g for g in gold if g.in_scope]
    latencies: list[float] = []
    per_variant: dict[str, list[dict]] = {name: [] for name in variants.names}
    questions = []
    steps = progress(in_scope) if progress else in_scope
    for g in steps:
        t0 = time.perf_counter()
        r = variants.product.search(g.question, k=5)  # the timed path: query embedding (if any) + searches
        latencies.append(time.perf_counter() - t0)
        qv = embedder.encode_queries([g.question])[0] if embedder is not None else None
        keys = gold_keys(g, primary)
        top = (r.hits[0].clause.regulation or primary) if r.hits else None
        regs = {key_regulation(k, primary) for k in keys}
        row = {"id": g.id, "type": g.type, "question": g.question, "gold": sorted(keys, key=str),
               "regulation": g.regulation or primary, "top_regulation": top, "regulation_correct": top in regs,
               "first_version": next((h.clause.regulation for h in r.hits
                                      if h.clause.regulation in versions_of(index.regulation, g.regulation)), None)}
        for name in variants.names:
            ranked = variants.rank(name, g.question, qv)
            m = article_metrics(keys, ranked)
            per_variant[name].append(m | {"type": g.type, "regulation": g.regulation or primary})
            if name == variants.names[0]:
                row |= {"ranked": ranked[:5], **m}
        questions.append(row)
    types = sorted({g.type for g in in_scope})
    laws = list(dict.fromkeys(q["regulation"] for q in questions))
    share = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    versions = [q for q in questions if q["type"] == "version"]
    report = {
        "gold_questions": len(gold),
        "in_scope": len(in_scope),
        "embed_model": index.embed_model,
        "embed_dtype": getattr(retriever.embedder, "dtype", None),
        "fusion": retriever.fusion if retriever.embedder is not None else None,
        "variants": {name: mean_metrics(rows) for name, rows in per_variant.items()},
        "by_type": {name: {t: mean_metrics([r for r in rows if r["type"] == t]) for t in types}
                    for name, rows in per_variant.items()},
        "by_regulation": {name: {law: mean_metrics([r for r in rows if r["regulation"] == law]) for law in laws}
                          for name, rows in per_variant.items()},
        "regulation_accuracy": share([q["regulation_correct"] for q in questions]),
        "regulation_accuracy_by_regulation": {law: share([q["regulation_correct"] for q in questions
                                                          if q["regulation"] == law]) for law in laws},
        "version_questions_right_version": share([q["top_regulation"] == q["regulation"] for q in versions]),
        "version_questions_version_first": share([q["first_version"] == q["regulation"] for q in versions]),
        "latency_ms": {"median": round(statistics.median(latencies) * 1000, 1),
                       "p95": round(float(np.percentile(latencies, 95)) * 1000, 1),
                       "mode": variants.product.mode},
        "questions": questions,
    }
    return report


def retrieval_markdown(report: dict) -> str:
    from .report import embed_dtype as _dtype

    lines = ["# Retrieval evaluation\n",
             f"Gold questions: {report['gold_questions']} ({report['in_scope']} in scope). "
             f"Embedding model: `{report['embed_model']}`{_dtype(report)}. Article-level metrics.\n",
             "| retriever | Hit@1 | Recall@3 | Recall@5 | MRR |", "|---|---|---|---|---|"]
    for name, m in report["variants"].items():
        lines.append(f"| {name} | {m['hit@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} |")
    if report.get("regulation_accuracy") is not None and len(report.get("regulation_accuracy_by_regulation", {})) > 1:
        lines.append(f"\nRegulation accuracy of the first hit: {report['regulation_accuracy']:.3f}"
                     + (f"; version questions whose first hit is from the right version: "
                        f"{report['version_questions_right_version']:.3f} (whose first hit among the law's versions "
                        f"is the right one: {report['version_questions_version_first']:.3f})"
                        if report.get("version_questions_right_version") is not None else "") + ".\n")
        lines.append("| regulation | n | regulation accuracy | Hit@1 | Recall@5 | MRR |")
        lines.append("|---|---|---|---|---|---|")
        for law, m in report["by_regulation"][next(iter(report["variants"]))].items():
            lines.append(f"| {law} | {m['n']} | {report['regulation_accuracy_by_regulation'][law]:.3f} | "
                         f"{m['hit@1']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} |")
    lat = report["latency_ms"]
    lines.append(f"\nMedian retrieval latency ({lat['mode']}, query embedding + search, models loaded): "
                 f"{lat['median']} ms (p95 {lat['p95']} ms).\n")
    main = [n for n in ("hybrid", "dense (no lookup)", "bm25", "naive: 250-char chunks, 50 overlap, dense")
            if n in report["by_type"]]
    lines.append("## By question type (Hit@1 / Recall@5 / MRR)\n")
    lines.append("| type | n | " + " | ".join(main) + " |")
    lines.append("|---|---|" + "---|" * len(main))
    for t, m0 in report["by_type"][main[0]].items():
        cells = [f"{report['by_type'][n][t]['hit@1']:.2f} / {report['by_type'][n][t]['recall@5']:.2f} / "
                 f"{report['by_type'][n][t]['mrr']:.2f}" for n in main]
        lines.append(f"| {t} | {m0['n']} | " + " | ".join(cells) + " |")
    misses = [q for q in report["questions"] if q["hit@1"] < 1]
    lines.append(f"\n## Questions where the hybrid retriever's first article is wrong ({len(misses)})\n")
    for q in misses:
        lines.append(f"- {q['id']} ({q['type']}) {q['question']} — gold {q['gold']}, retrieved {q['ranked']}")
    return "\n".join(lines) + "\n"


# --- answers ----------------------------------------------------------------------------------------

def _squash(text: str) -> str:
    return "".join(text.split())


def gold_clauses(item: GoldItem, regulation) -> set[str]:
    """Clause ids that hold the gold answer: clauses of the gold articles containing a key point
    (all clauses of a gold article none of whose clauses holds one)."""
    out: set[str] = set()
    kb = as_kb(regulation)
    for r, a in item.gold(kb.primary.id):
        art = kb.article(a, r)
        hit = {c.id for c in art.clauses if any(_squash(k) in _squash(c.text) for k in item.key_points)}
        out |= hit or {c.id for c in art.clauses}
    return out


def answer_scores(item: GoldItem, answer, regulation: Regulation) -> dict:
    """Per-question answer scores. Precision is None when nothing is cited (it is not averaged then).

    In scope: citation precision/recall at article and clause level, key-point coverage, wrong refusal.
    Out of scope: whether it was refused.
    """
    primary = as_kb(regulation).primary.id
    cited_arts = {article_key(c.regulation, c.article, primary) for c in answer.citations}
    cited_ids = {c.id for c in answer.citations}
    row: dict = {"in_scope": item.in_scope, "refused": answer.refused,
                 "valid_citation": bool(answer.citations) and all(regulation.resolve(c.label) for c in answer.citations),
                 "removed_citations": len(answer.removed_citations)}
    lines = [s for s in answer.text.split("\n")[0:-1] or [answer.text]]
    # each cited run of a line (「……【第十条】」), not the line whole: three points on three articles are
    # each checked against the clauses, not as one text that no single clause holds
    runs = [run for line in lines for run in CITED_RUN.findall(line)]
    supported = [is_supported(BRACKETS.sub("", s), answer.citations) for s in runs] if answer.citations else []
    row["faithful"] = (sum(supported) / len(supported)) if supported else None
    if not item.in_scope:
        row["correct"] = answer.refused
        return row
    gold_a, gold_c = gold_keys(item, primary), gold_clauses(item, regulation)
    text = _squash(answer.text)
    row |= {
        "wrong_refusal": answer.refused,
        "precision": len(cited_arts & gold_a) / len(cited_arts) if cited_arts else None,
        "recall": len(cited_arts & gold_a) / len(gold_a),
        "clause_precision": len(cited_ids & gold_c) / len(cited_ids) if cited_ids else None,
        "clause_recall": len(cited_ids & gold_c) / len(gold_c),
        "key_points": (sum(_squash(k) in text for k in item.key_points) / len(item.key_points)
                       if item.key_points else None),
    }
    row["correct"] = not answer.refused and bool(cited_arts & gold_a)
    return row


def answer_body(text: str) -> str:
    """An answer without its closing 依据 line."""
    return text.split("\n依据：")[0].strip()


def cited_runs(body: str) -> list[tuple[str, list[str]]]:
    """(sentences, labels) for each run of sentences that ends with labels; a label shown once covers
    the sentences before it back to the previous label. A leading direct answer (可以。) is no claim.

    cited_runs("可以。甲。乙。【第十条】丙。【第二条】") -> [("甲。乙。", ["第十条"]), ("丙。", ["第二条"])]
    """
    runs, pending = [], ""
    for n, sentence in enumerate(x for x in SENTENCE.findall(body) if x.strip()):
        labels = BRACKETS.findall(sentence)
        text = BRACKETS.sub("", sentence).strip()
        if n == 0 and not labels and is_bare_answer(text):
            continue
        pending += text
        if labels:
            runs.append((pending, labels))
            pending = ""
    return runs


def _direct(first: str, question: str) -> bool:
    """Whether the first sentence answers a yes/no question directly: a common answer word (可以, 没有,
    条例没有…) or the question's own answer words (给 / 不给 for 给不给钱)."""
    words = yes_no(question) or ()
    return opens_with_answer(first) or bool(words) and first.startswith(tuple(words))


def reader_scores(item: GoldItem, answer, regulation: Regulation, max_chars: int) -> dict:
    """What a reader sees in one answer (None where it does not apply, e.g. to a refusal):
    echo (a sentence restates the question), cited_question (a cited one does), refusal_phrase (an
    answer that also says the regulation does not cover it), fallback (clauses quoted because the model
    output was unusable), over_budget (longer than `max_chars` before the 依据 line, labels not counted),
    direct (a yes/no question answered with 可以/能/有/是/不/没有… first), and how many cited sentence
    runs there are and how many of them their clauses support (`citations.is_supported_by`)."""
    if answer.refused:
        return {k: None for k in ("echo", "cited_question", "refusal_phrase", "fallback", "over_budget", "direct",
                                  "cited_runs", "supported_runs")}
    body = answer_body(answer.text)
    sentences = [BRACKETS.sub("", x).strip() for x in SENTENCE.findall(body) if x.strip()]
    runs = cited_runs(body)
    q = answer.standalone or answer.question
    return {
        "echo": any(restates(s, q) for s in sentences),
        "cited_question": any(restates(s, q) for text, _ in runs for s in SENTENCE.findall(text)),
        "refusal_phrase": any(m in body for m in REFUSAL_MARKERS),
        "fallback": bool(answer.fallback),
        "over_budget": len(BRACKETS.sub("", body)) > max_chars,
        "direct": _direct(sentences[0] if sentences else "", q) if item.yes_no else None,
        "cited_runs": len(runs),
        "supported_runs": sum(is_supported_by(text, [c for c in map(regulation.resolve, labels)
                                                     if isinstance(c, Clause)])
                              for text, labels in runs),
    }


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


def _f(x) -> float | None:
    return None if x is None else float(x)


def _f1(p: float | None, r: float | None) -> float | None:
    return round(2 * p * r / (p + r), 4) if p and r else (0.0 if p is not None and r is not None else None)


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 4) if xs else None


def aggregate_answers(rows: list[dict]) -> dict:
    ins = [r for r in rows if r["in_scope"]]
    oos = [r for r in rows if not r["in_scope"]]
    answered = [r for r in rows if not r["refused"]]
    p, rc = _mean(r["precision"] for r in ins), _mean(r["recall"] for r in ins)
    cp, cr = _mean(r["clause_precision"] for r in ins), _mean(r["clause_recall"] for r in ins)
    t = lambda key: [r["timings"][key] for r in rows if key in r.get("timings", {})]  # noqa: E731
    return {
        "questions": len(rows), "in_scope": len(ins), "out_of_scope": len(oos),
        "citation_precision": p, "citation_recall": rc, "citation_f1": _f1(p, rc),
        "clause_precision": cp, "clause_recall": cr, "clause_f1": _f1(cp, cr),
        "key_point_coverage": _mean(r["key_points"] for r in ins),
        "out_of_scope_refused": _mean(float(r["refused"]) for r in oos),
        "in_scope_wrongly_refused": _mean(float(r["wrong_refusal"]) for r in ins),
        "answers_with_valid_citation": _mean(float(r["valid_citation"]) for r in answered),
        "invalid_citations_removed": sum(r["removed_citations"] for r in rows),
        "faithfulness": _mean(r["faithful"] for r in answered),
        "correct": _mean(float(r["correct"]) for r in rows),
        "echo_rate": _mean(_f(r.get("echo")) for r in answered),
        "cited_question_rate": _mean(_f(r.get("cited_question")) for r in answered),
        "refusal_phrase_in_answer_rate": _mean(_f(r.get("refusal_phrase")) for r in answered),
        "quote_fallback_rate": _mean(_f(r.get("fallback")) for r in answered),
        "over_length_budget_rate": _mean(_f(r.get("over_budget")) for r in answered),
        "yes_no_direct_answer_rate": _mean(_f(r.get("direct")) for r in answered if r.get("in_scope")),
        "cited_sentences_supported": (round(sum(r.get("supported_runs") or 0 for r in answered)
                                            / max(1, sum(r.get("cited_runs") or 0 for r in answered)), 4)
                                      if any(r.get("cited_runs") for r in answered) else None),
        "latency_s": {name: {"p50": _pct(t(name), 50), "p95": _pct(t(name), 95)}
                      for name in ("retrieval", "first_token", "total")},
        "tokens_per_s_median": _pct([x for x in t("tokens_per_s") if x > 0], 50),
    }


def refusal_curve(rows: list[dict], thresholds=None) -> list[dict]:
    """Refusals if the relevance threshold were t: out-of-scope refused vs in-scope wrongly refused.

    Uses each question's best dense cosine (`relevance`), whether the scope rules fired (`scope_gap`) and
    whether it named an article (`lookup`); refused at t when the rules fired, or when its relevance is
    below t and it named no article.
    """
    thresholds = thresholds if thresholds is not None else [round(x, 2) for x in np.arange(0.0, 0.65, 0.05)]
    ins = [r for r in rows if r["in_scope"]]
    oos = [r for r in rows if not r["in_scope"]]
    out = []
    for t in thresholds:
        alone = lambda r: below_relevance(r["relevance"], r.get("lookup", False), t)  # noqa: E731
        refused = lambda r: r["scope_gap"] or alone(r)  # noqa: E731 - as Assistant._refusal_reason decides
        share = lambda f, xs: round(sum(map(f, xs)) / len(xs), 4) if xs else None  # noqa: E731
        out.append({"threshold": t,
                    "out_of_scope_refused": share(refused, oos), "in_scope_wrongly_refused": share(refused, ins),
                    "threshold_alone_out_of_scope_refused": share(alone, oos),
                    "threshold_alone_in_scope_wrongly_refused": share(alone, ins)})
    return out


def evaluate_answers(gold: list[GoldItem], assistant, progress=None) -> tuple[dict, list[dict]]:
    """Answer every gold question; return (metrics, per-question rows for answers.jsonl)."""
    reg = assistant.regulation
    primary = reg.primary.id
    rows = []
    for item in (progress(gold) if progress else gold):
        ans = assistant.ask(item.question)
        scores = answer_scores(item, ans, reg) | reader_scores(item, ans, reg, assistant.settings.max_answer_chars)
        ranked = [article_key(a.regulation, a.article, primary) for a in group_by_article(ans.hits)]
        gold_a = gold_keys(item, primary)
        retrieval = article_metrics(gold_a, ranked) if item.in_scope else None
        cited_laws = {c.regulation or primary for c in ans.citations}
        rows.append({"id": item.id, "type": item.type, "question": item.question, "gold": sorted(gold_a, key=str),
                     "regulation": item.regulation or primary,
                     "cites_gold_regulation": (bool(cited_laws) and cited_laws <= {key_regulation(k, primary)
                                                                                   for k in gold_a})
                     if item.in_scope and not ans.refused else None,
                     # of the law's versions, the answer cites the one asked about (the current text) and no other
                     "cites_version_asked": ({c.regulation or primary for c in ans.citations}
                                             & versions_of(reg, item.regulation or primary) == {item.regulation})
                     if item.in_scope and not ans.refused and item.regulation else None,
                     "key_points": list(item.key_points), **ans.to_json(), **scores, "retrieval": retrieval,
                     "retrieved_articles": ranked[:5], "scope_gap": out_of_scope(ans.standalone) is not None,
                     "lookup": bool(ans.hits and ans.hits[0].lookup)})
    metrics = aggregate_answers(rows)
    ins = [r for r in rows if r["in_scope"]]
    metrics["retrieval"] = mean_metrics([r["retrieval"] for r in ins])
    types = sorted({r["type"] for r in rows})
    metrics["by_type"] = {t: aggregate_answers([r for r in rows if r["type"] == t]) |
                          {"retrieval": mean_metrics([r["retrieval"] for r in ins if r["type"] == t])}
                          for t in types}
    laws = list(dict.fromkeys(r["regulation"] for r in rows if r["in_scope"]))
    if len(reg.regulations) > 1:
        metrics["by_regulation"] = {law: aggregate_answers([r for r in rows if r["regulation"] == law and r["in_scope"]])
                                    for law in laws}
        metrics["cites_only_gold_regulations"] = _mean(_f(r["cites_gold_regulation"]) for r in ins)
        metrics["version_questions_right_version"] = _mean(
            _f(r["cites_gold_regulation"]) for r in ins if r["type"] == "version")
        metrics["version_questions_cite_the_version_asked"] = _mean(
            _f(r["cites_version_asked"]) for r in ins if r["type"] == "version")
    metrics["recall_by_article"] = {
        a: round(sum(r["retrieval"]["recall@5"] for r in ins if a in r["gold"]) /
                 max(1, sum(a in r["gold"] for r in ins)), 4)
        for a in range(1, len(reg.articles) + 1)}
    metrics["refusal_curve"] = refusal_curve(rows)
    metrics["backend"] = assistant.backend
    metrics["llm_model"] = assistant.llm.name if assistant.llm is not None else None
    metrics["embed_model"] = assistant.retriever.index.embed_model
    metrics["embed_dtype"] = getattr(assistant.retriever.embedder, "dtype", None)
    metrics["min_relevance"] = {"value": assistant.min_relevance, "source": assistant.relevance_source}
    metrics["length_budget"] = assistant.settings.max_answer_chars
    return metrics, rows


# --- the runs the command line and the web app start -------------------------------------------------

def run_retrieval_eval(settings: Settings, gold_path: str | Path, out: Path, progress=None) -> str:
    """Retrieval metrics of every variant on a gold file; writes retrieval.json and retrieval.md into
    `out` and returns the markdown. Raises GoldError for a malformed file, OSError when `out` is unwritable."""
    from ..kb import read_source
    from ..retrieve import open_retriever
    from .report import atomic_write

    retriever, _ = open_retriever(settings)
    kb = retriever.index.regulation
    gold = load_gold(gold_path, kb)
    texts = {r.id: read_source(kb.directory / r.source) for r in kb.current if kb.directory and r.source}
    report = evaluate_retrieval(gold, retriever, texts, progress=progress)
    md = retrieval_markdown(report)
    atomic_write(out / "retrieval.json", json.dumps(report, ensure_ascii=False, indent=2))
    atomic_write(out / "retrieval.md", md)
    return md


@dataclass
class AnswerRun:
    metrics: dict
    rows: list[dict]
    files: list[Path]           # metrics.json, answers.jsonl, report.md, report.html and the plots
    archive: Path | None = None  # the report folder as a zip, when asked for


def run_answer_eval(assistant, gold_path: str | Path, out: Path, limit: int = 0, progress=None,
                    archive: bool = False) -> AnswerRun:
    """Answer the gold questions (the first `limit`, when > 0) and write the report into `out`.

    Raises GoldError for a malformed gold file (before anything runs), OSError when the report cannot be
    written (files already written stay whole: writes are atomic).
    """
    import shutil

    from .report import write_report

    gold = load_gold(gold_path, assistant.regulation)
    if limit > 0:
        gold = gold[:limit]
    metrics, rows = evaluate_answers(gold, assistant, progress=progress)
    files = write_report(out, metrics, rows)
    zipped = Path(shutil.make_archive(str(out), "zip", root_dir=out)) if archive else None
    return AnswerRun(metrics, rows, files, zipped)
