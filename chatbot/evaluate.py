"""Evaluation against a gold question set: validation of the gold file, article-level retrieval metrics,
and the comparison of the product's retriever with its ablations and with a naive RAG baseline.

Metrics are computed at article level, on in-scope questions (gold articles non-empty):
    Hit@1     the first article retrieved is a gold article
    Recall@k  share of gold articles among the first k distinct articles retrieved
    MRR       1 / rank of the first gold article (0 if none is retrieved)
Answer-level metrics (citations, refusals, latency of generation) are added by `chatbot.answer`.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .corpus import Clause, Regulation
from .embed import Embedder
from .index import Index, build_bm25, build_dense
from .retrieve import Retriever, ranking

REQUIRED_KEYS = ("id", "question", "articles", "key_points", "type")


class GoldError(ValueError):
    """The gold file is malformed; the message lists every bad line by number."""


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    articles: tuple[int, ...]
    key_points: tuple[str, ...]
    type: str

    @property
    def in_scope(self) -> bool:
        return bool(self.articles)


def load_gold(path: str | Path, n_articles: int) -> list[GoldItem]:
    """Read and validate a gold JSONL file; every problem is reported with its line number."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise GoldError(f"cannot read gold file {p}: {e.strerror}") from e
    items, errors, seen = [], [], set()
    for no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            errors.append(f"line {no}: not UTF-8")
            continue
        except json.JSONDecodeError as e:
            errors.append(f"line {no}: broken JSON ({e.msg})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {no}: expected a JSON object")
            continue
        missing = [k for k in REQUIRED_KEYS if k not in obj]
        if missing:
            errors.append(f"line {no}: missing key(s) {', '.join(missing)}")
            continue
        arts = obj["articles"]
        if not isinstance(arts, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in arts):
            errors.append(f"line {no}: 'articles' must be a list of integers")
            continue
        bad = [a for a in arts if not 1 <= a <= n_articles]
        if bad:
            errors.append(f"line {no}: article(s) {bad} outside the regulation (1..{n_articles})")
            continue
        if not isinstance(obj["question"], str) or not obj["question"].strip():
            errors.append(f"line {no}: 'question' must be a non-empty string")
            continue
        if not isinstance(obj["key_points"], list) or not all(isinstance(k, str) for k in obj["key_points"]):
            errors.append(f"line {no}: 'key_points' must be a list of strings")
            continue
        if obj["id"] in seen:
            errors.append(f"line {no}: duplicate id {obj['id']!r}")
            continue
        seen.add(obj["id"])
        items.append(GoldItem(str(obj["id"]), obj["question"], tuple(arts), tuple(obj["key_points"]),
                              str(obj["type"])))
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise GoldError(f"{p} has {len(errors)} bad line(s):\n  " + "\n  ".join(shown))
    if not items:
        raise GoldError(f"{p} holds no questions")
    return items


def dedupe(seq) -> list:
    """Keep first occurrences: dedupe([3, 1, 3, 2]) -> [3, 1, 2]."""
    seen, out = set(), []
    for x in seq:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


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

def naive_chunks(source_text: str, regulation: Regulation, size: int = 250, overlap: int = 50):
    """Fixed-size character chunks of the raw source (what common RAG tools do by default), each with the
    articles it overlaps, found by the article heads in the raw text."""
    import re

    from .numerals import to_int

    heads = [(m.start(), to_int(m.group(1))) for m in re.finditer(r"第([一二三四五六七八九十百零]+)条", source_text)
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

    def __init__(self, retriever: Retriever, source_text: str):
        index, embedder = retriever.index, retriever.embedder
        reg = index.regulation
        self.index, self.embedder = index, embedder
        self.product = retriever
        opts = dict(fusion=retriever.fusion, dense_weight=retriever.dense_weight, rrf_k=retriever.rrf_k)
        no_lookup = Retriever(index, embedder, **opts, lookup=False)
        no_expand = Retriever(index, embedder, **opts, expand=False)
        no_dict_index = replace(index, bm25=build_bm25([c.search_text for c in index.clauses], user_dict=False))
        no_dict = Retriever(no_dict_index, embedder, **opts)
        n = len(index.clauses)
        search = lambda r, **kw: lambda q, qv: dedupe(  # noqa: E731
            h.clause.article for h in r.search(q, k=n, query_vector=qv, **kw).hits)
        self.rankers = {}
        if embedder is not None:
            ctx = [c.text_with_context for c in index.clauses]
            ctx_index = replace(index, bm25=build_bm25(ctx), dense=build_dense(embedder.encode_documents(ctx)))
            other = "rrf" if retriever.fusion == "linear" else "linear"
            art_vecs = embedder.encode_documents([a.text for a in reg.articles])
            art_nums = [a.number for a in reg.articles]
            naive = naive_chunks(source_text, reg)
            naive_vecs = embedder.encode_documents([t for t, _ in naive])
            self.rankers |= {
                "hybrid": search(retriever),
                "hybrid, no article lookup": search(no_lookup),
                f"hybrid, {other} fusion": search(Retriever(index, embedder, **(opts | {"fusion": other}))),
                "hybrid, no query expansion": search(no_expand),
                "hybrid, clauses prefixed with article context": search(Retriever(ctx_index, embedder, **opts)),
                "dense (no lookup)": search(no_lookup, mode="dense"),
                "dense, clauses prefixed with article context (no lookup)": search(
                    Retriever(ctx_index, embedder, **opts, lookup=False), mode="dense"),
                "dense, whole articles (no lookup)": lambda q, qv: [art_nums[i] for i in ranking(art_vecs @ qv)],
                "naive: 250-char chunks, 50 overlap, dense": lambda q, qv: dedupe(
                    a for i in ranking(naive_vecs @ qv) for a in naive[i][1]),
            }
        self.rankers |= {
            "bm25": search(retriever, mode="bm25"),
            "bm25, no article lookup": search(no_lookup, mode="bm25"),
            "bm25, no query expansion": search(no_expand, mode="bm25"),
            "bm25, no user dictionary": search(no_dict, mode="bm25"),
        }
        self.names = list(self.rankers)

    def rank(self, name: str, question: str, qv: np.ndarray | None) -> list[int]:
        """Distinct article numbers, best first, for one variant."""
        return self.rankers[name](question, qv)


def evaluate_retrieval(gold: list[GoldItem], retriever: Retriever, source_text: str, progress=None) -> dict:
    """Metrics for every variant, overall and by question type, and the product's retrieval latency."""
    variants = Variants(retriever, source_text)
    index, embedder = retriever.index, retriever.embedder
    in_scope = [g for g in gold if g.in_scope]
    latencies: list[float] = []
    per_variant: dict[str, list[dict]] = {name: [] for name in variants.names}
    questions = []
    steps = progress(in_scope) if progress else in_scope
    for g in steps:
        qv = None
        if variants.product.embedder is not None:
            t0 = time.perf_counter()
            r = variants.product.search(g.question, k=5)  # the timed path: query embedding + both searches
            latencies.append(time.perf_counter() - t0)
            qv = embedder.encode_queries([g.question])[0]
        else:
            t0 = time.perf_counter()
            r = variants.product.search(g.question, k=5)
            latencies.append(time.perf_counter() - t0)
        row = {"id": g.id, "type": g.type, "question": g.question, "gold": list(g.articles)}
        for name in variants.names:
            ranked = variants.rank(name, g.question, qv)
            m = article_metrics(g.articles, ranked)
            per_variant[name].append(m | {"type": g.type})
            if name == variants.names[0]:
                row |= {"ranked": ranked[:5], **m}
        questions.append(row)
    types = sorted({g.type for g in in_scope})
    report = {
        "gold_questions": len(gold),
        "in_scope": len(in_scope),
        "embed_model": index.embed_model,
        "fusion": retriever.fusion if retriever.embedder is not None else None,
        "variants": {name: mean_metrics(rows) for name, rows in per_variant.items()},
        "by_type": {name: {t: mean_metrics([r for r in rows if r["type"] == t]) for t in types}
                    for name, rows in per_variant.items()},
        "latency_ms": {"median": round(statistics.median(latencies) * 1000, 1),
                       "p95": round(float(np.percentile(latencies, 95)) * 1000, 1),
                       "mode": variants.product.mode},
        "questions": questions,
    }
    return report


def retrieval_markdown(report: dict) -> str:
    lines = [f"# Retrieval evaluation\n",
             f"Gold questions: {report['gold_questions']} ({report['in_scope']} in scope). "
             f"Embedding model: `{report['embed_model']}`. Article-level metrics.\n",
             "| retriever | Hit@1 | Recall@3 | Recall@5 | MRR |", "|---|---|---|---|---|"]
    for name, m in report["variants"].items():
        lines.append(f"| {name} | {m['hit@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} |")
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
