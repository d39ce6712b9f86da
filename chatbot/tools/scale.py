"""Retrieval at scale: the product's retrieval timed on synthetic knowledge bases of 10^4 to 10^6 clauses.

A synthetic knowledge base holds the real clauses first, then new ones made of real phrases: each new
clause takes a real clause of a current law as its model and is as many phrases of that law, drawn at
random, as the model has. So texts, words and vector neighbourhoods look like the real ones, and the real
`Index` and `Retriever` code runs on them unchanged. Nothing is embedded or tokenized per clause:
- vectors: each distinct real phrase is embedded once by `HashEmbedder` (character uni- and bigrams hashed
  into signed buckets: no model, deterministic); a clause's vector is the normalized sum of its phrases'
  vectors plus a little noise, so clauses sharing phrases are neighbours, as with a real embedder;
- BM25: each distinct real phrase is tokenized once by the product's `Tokenizer`; a clause's tokens are its
  phrases' tokens.
For each size, in two fresh processes (one builds and writes the index, one loads it as the app would):
build times (dense exact and approximate, BM25, the exact-term index), index size on disk, resident memory
of the loaded process, query latency p50/p95 over questions of the gold sets for dense, BM25 and hybrid
retrieval (`Retriever.search`), with exact and approximate dense search where feasible, and the recall@10
of approximate dense search against exact. The answer pipeline around retrieval is not timed here.
"""

from __future__ import annotations

import concurrent.futures
import gc
import json
import multiprocessing
import re
import shutil
import tempfile
import time
import unicodedata
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..corpus import Clause
from ..kb import KnowledgeBase
from ..labels import format_label

PHRASE = re.compile(r"(?<=[。；！？\n，：])")  # a phrase ends after one of these; "".join(phrases) == text
DIM = 768             # vector size: EmbeddingGemma's, the embedder the README measures
NOISE = 0.1           # norm of the noise added to a clause's unit vector (cosine to the noiseless one ~0.995)
FIRST_ARTICLE = 1000  # synthetic clauses are numbered from here, above every real article, so that a
#                       question naming 第十条 finds the real article only
QUESTIONS = 100       # questions timed per size
GOLD_FILES = ("eval/gold.jsonl", "eval/gold_related.jsonl")
TARGET_MS = 300       # hybrid query p50 to stay under at a million clauses (drawn in the plot)
EXACT_LIMIT_S = 120   # exact dense search is timed on fewer questions when one takes longer than this / QUESTIONS


def phrases(text: str) -> list[str]:
    """A text cut after each 。；！？，： or line break: phrases("甲，乙。丙") -> ["甲，", "乙。", "丙"]."""
    return [p for p in PHRASE.split(text) if p]


class HashEmbedder:
    """A deterministic stand-in for a sentence embedder: each character and character bigram of the
    NFKC-lowered text adds ±1 to one of `dim` buckets (crc32 of the feature), then the vector is normalized.
    Texts sharing words have a positive cosine, unrelated ones about 0. Same interface as `chatbot.embed`."""

    def __init__(self, dim: int = DIM):
        self.dim = dim
        self.name = f"hashing-{dim}"
        self.dtype = "float32"

    def _one(self, text: str) -> np.ndarray:
        t = [ch for ch in unicodedata.normalize("NFKC", text).lower() if not ch.isspace()]
        v = np.zeros(self.dim, dtype=np.float32)
        for f in t + [a + b for a, b in zip(t, t[1:])]:
            h = zlib.crc32(f.encode("utf-8"))
            v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def encode_documents(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_documents(texts)


@dataclass
class Synthetic:
    """A synthetic knowledge base: clause i is `phrases[members[starts[i]:starts[i + 1]]]` joined."""

    clauses: list[Clause]
    phrases: list[str]     # the distinct real phrases
    starts: np.ndarray     # int64, len(clauses) + 1
    members: np.ndarray    # int32 phrase ids

    def parts(self, i: int) -> list[int]:
        return self.members[self.starts[i]:self.starts[i + 1]].tolist()


def synthesize(kb: KnowledgeBase, n: int, seed: int = 0) -> Synthetic:
    """The real clauses (all of them, in index order), then n - len(real) new ones (see the module doc).

    Each law gets new clauses in proportion to its real ones; a new clause's id is x<number>, its article
    FIRST_ARTICLE + number // 3, paragraph number % 3 + 1, so that articles group a few clauses as real ones do.
    """
    rng = np.random.default_rng(seed)
    real = kb.clauses
    ids: dict[str, int] = {}
    pool: dict[str, list[int]] = {}
    members, starts = [], [0]
    for c in real:
        for p in phrases(c.search_text) or [c.search_text]:
            if p not in ids:
                ids[p] = len(ids)
                pool.setdefault(c.regulation, []).append(ids[p])
            members.append(ids[p])
        starts.append(len(members))
    texts = list(ids)
    current = {r.id for r in kb.current}
    laws = sorted(pool)
    law_of = np.array([laws.index(c.regulation) if c.regulation in pool else -1 for c in real])
    models = np.array([i for i, c in enumerate(real) if c.regulation in current and c.regulation in pool])
    extra = max(n - len(real), 0)
    picks = rng.choice(models, size=extra)
    counts = np.maximum(np.diff(np.array(starts))[picks], 2)
    new_starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    member_law = np.repeat(law_of[picks], counts)
    draw = rng.random(len(member_law))
    new_members = np.empty(len(member_law), dtype=np.int32)
    for k, law in enumerate(laws):  # each phrase drawn from the phrases of its clause's law
        where = member_law == k
        options = np.array(pool[law], dtype=np.int32)
        new_members[where] = options[(draw[where] * len(options)).astype(np.int64)]
    titles = {r.id: r.title for r in kb.regulations}
    clauses = list(real)
    for j in range(extra):
        law = laws[law_of[picks[j]]]
        text = "".join([texts[m] for m in new_members[new_starts[j]:new_starts[j + 1]].tolist()])
        article, paragraph = FIRST_ARTICLE + j // 3, j % 3 + 1
        clauses.append(Clause(id=f"x{j}", article=article, paragraph=paragraph, items=(),
                              label=format_label(article, paragraph), text=text, regulation=law,
                              regulation_title=titles[law]))
    all_members = np.concatenate((np.array(members, dtype=np.int32), new_members))
    all_starts = np.concatenate((np.array(starts, dtype=np.int64), new_starts[1:] + len(members)))
    return Synthetic(clauses, texts, all_starts, all_members)


def clause_vectors(syn: Synthetic, embedder: HashEmbedder, noise: float = NOISE, seed: int = 0,
                   chunk: int = 1 << 16) -> np.ndarray:
    """Unit vectors, one a clause: the normalized sum of its phrases' vectors, plus noise of norm ~`noise`."""
    base = embedder.encode_documents(syn.phrases)
    rng = np.random.default_rng(seed)
    n = len(syn.clauses)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        first, last = syn.starts[lo], syn.starts[hi]
        v = np.add.reduceat(base[syn.members[first:last]], syn.starts[lo:hi] - first, axis=0)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        v += rng.standard_normal(v.shape, dtype=np.float32) * np.float32(noise / np.sqrt(v.shape[1]))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[lo:hi] = v
    return out


class _ClauseTokens:
    """Token ids of every clause, made on demand from its phrases' (bm25s reads the corpus three times;
    holding a million Python lists would take gigabytes)."""

    def __init__(self, syn: Synthetic, phrase_tokens: list[list[int]], empty: int):
        self.syn, self.phrase_tokens, self.empty = syn, phrase_tokens, empty

    def __len__(self) -> int:
        return len(self.syn.clauses)

    def __iter__(self):
        pt, members, starts = self.phrase_tokens, self.syn.members, self.syn.starts
        for i in range(len(self)):
            ids = [t for m in members[starts[i]:starts[i + 1]].tolist() for t in pt[m]]
            yield ids or [self.empty]


def clause_bm25(syn: Synthetic, tokenizer):
    """A bm25s index of the clauses, each real phrase tokenized once with the product's `tokenizer`."""
    import bm25s
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {}
    phrase_tokens = [[vocab.setdefault(t, len(vocab)) for t in tokenizer(p)] for p in syn.phrases]
    empty = vocab.setdefault("", len(vocab))
    bm = bm25s.BM25()
    bm.index(Tokenized(ids=_ClauseTokens(syn, phrase_tokens, empty), vocab=vocab), show_progress=False)
    return bm


def gold_questions(root: Path, count: int = QUESTIONS) -> list[str]:
    """`count` questions spread evenly over the gold sets (every type, in scope or not)."""
    qs = [json.loads(line)["question"] for f in GOLD_FILES
          for line in (root / f).read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(len(qs) / count, 1.0)
    return [qs[int(i * step)] for i in range(min(count, len(qs)))]


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2 ** 20, 1)


def _size_mb(*paths: Path) -> float:
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return round(sum(f.stat().st_size for f in files) / 2 ** 20, 1)


def build_synthetic(corpus_dir: str, n: int, folder: str, seed: int = 0) -> dict:
    """Make a synthetic knowledge base of n clauses and write its index to `folder` as `chatbot.index` lays
    it out (chunks.jsonl, dense.faiss, bm25/, manifest.json), the dense index of the kind `build_dense`
    chooses; when that is exact, an approximate one for comparison (compare.faiss). Returns build times
    and sizes on disk. Runs in a fresh process (`run_scale`)."""
    import faiss

    from ..index import build_dense, dense_params, is_exact
    from ..kb import load_kb
    from ..tokens import Tokenizer

    d = Path(folder)
    kb = load_kb(corpus_dir)
    t0 = time.perf_counter()
    syn = synthesize(kb, n, seed)
    embedder = HashEmbedder()
    vectors = clause_vectors(syn, embedder, seed=seed)
    row = {"clauses": len(syn.clauses), "phrases": len(syn.phrases),
           "generate_s": round(time.perf_counter() - t0, 1)}
    t0 = time.perf_counter()
    bm = clause_bm25(syn, Tokenizer())
    row["build_bm25_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    dense = build_dense(vectors)
    built = round(time.perf_counter() - t0, 2)
    exact = is_exact(dense)
    t0 = time.perf_counter()
    other = build_dense(vectors, exact_max=0 if exact else len(vectors))
    other_s = round(time.perf_counter() - t0, 2)
    if not exact:
        other = None  # timed only: serving takes the exact vectors from the HNSW index's own storage
    del vectors
    row |= {"dense_kind": "flat" if exact else "hnsw", "dim": dense.d,
            "build_dense_exact_s": built if exact else other_s,
            "build_dense_approx_s": other_s if exact else built}
    with open(d / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in syn.clauses:
            f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    faiss.write_index(dense, str(d / "dense.faiss"))
    if exact:
        faiss.write_index(other, str(d / "compare.faiss"))
    bm.save(str(d / "bm25"), show_progress=False)
    manifest = {"embed_model": embedder.name, "dim": row["dim"], "chunks": len(syn.clauses),
                "dense_index": dense_params(dense), "compare_index": dense_params(other) if exact else None}
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    row |= {"disk_mb": _size_mb(d / "chunks.jsonl", d / "dense.faiss", d / "bm25", d / "manifest.json"),
            "disk_dense_mb": _size_mb(d / "dense.faiss"), "disk_bm25_mb": _size_mb(d / "bm25"),
            "disk_chunks_mb": _size_mb(d / "chunks.jsonl"), "dense_index": manifest["dense_index"]}
    return row


def _percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "n": len(ms)}


def _time(retriever, questions: list[str], vectors: np.ndarray, mode: str, k: int = 5,
          limit_s: float | None = None) -> tuple[dict, list]:
    """Latency of `Retriever.search` over the questions (after two untimed ones), and the hits' clause ids."""
    for q, v in zip(questions[:2], vectors[:2]):
        retriever.search(q, k=k, mode=mode, query_vector=v)
    seconds, ids, spent = [], [], 0.0
    for q, v in zip(questions, vectors):
        t0 = time.perf_counter()
        r = retriever.search(q, k=k, mode=mode, query_vector=v)
        seconds.append(time.perf_counter() - t0)
        ids.append([h.clause.id for h in r.hits])
        spent += seconds[-1]
        if limit_s is not None and spent > limit_s and len(seconds) >= 10:
            break
    return _percentiles(seconds), ids


def _top(scores: np.ndarray, k: int = 10) -> set[int]:
    return set(np.argpartition(-scores, k)[:k].tolist()) if len(scores) > k else set(range(len(scores)))


def serve_synthetic(corpus_dir: str, folder: str, root: str, questions: int = QUESTIONS) -> dict:
    """Load the index in `folder` as the app would (the clauses, BM25, the dense index with its manifest
    parameters, the exact-term index) and time the product's retrieval on gold questions: hybrid, BM25 and
    dense, with the index's own dense search and with the other kind (exact or approximate), plus the
    recall@10 of approximate dense search against exact. Runs in a fresh process (`run_scale`)."""
    import bm25s
    import faiss

    from ..index import Index, read_chunks, read_dense
    from ..kb import load_kb
    from ..retrieve import Retriever

    d = Path(folder)
    kb = load_kb(corpus_dir)
    rss_start = _rss_mb()
    t0 = time.perf_counter()
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    clauses = read_chunks(d)
    bm = bm25s.BM25.load(str(d / "bm25"), show_progress=False)
    dense = read_dense(d / "dense.faiss", manifest["dense_index"])
    embedder = HashEmbedder(manifest["dim"])
    index = Index(kb, clauses, bm, dense, embedder.name, manifest)
    load_s = time.perf_counter() - t0
    index.tokenizer("预热")  # jieba loads its dictionary on first use: not part of the exact-term index
    t0 = time.perf_counter()
    index.substrings  # noqa: B018 - built on first use: timed here, not in the first question
    terms_s = time.perf_counter() - t0
    index.law_mask([]), index.articles  # noqa: B018 - likewise
    gc.collect()
    row = {"load_s": round(load_s, 1), "build_terms_s": round(terms_s, 2), "rss_mb": _rss_mb(),
           "rss_start_mb": rss_start}
    qs = gold_questions(Path(root), questions)
    vecs = embedder.encode_queries(qs)
    retriever = Retriever(index, embedder)
    own = "exact" if index.exact else "approx"
    row[f"hybrid_{own}"], hyb_own = _time(retriever, qs, vecs, "hybrid", k=10)
    row["bm25"], _ = _time(retriever, qs, vecs, "bm25")
    row[f"dense_{own}"], _ = _time(retriever, qs, vecs, "dense")
    own_top = [_top(index.dense_scores(v)) for v in vecs]
    if index.exact:
        index.dense = read_dense(d / "compare.faiss", manifest["compare_index"])
        index.manifest = manifest | {"dense_index": manifest["compare_index"]}
        other = "approx"
    else:
        index.dense = faiss.downcast_index(dense.storage)  # the same vectors, searched exhaustively
        other = "exact"
    limit = EXACT_LIMIT_S if other == "exact" else None
    row[f"hybrid_{other}"], hyb_other = _time(retriever, qs, vecs, "hybrid", k=10, limit_s=limit)
    row[f"dense_{other}"], _ = _time(retriever, qs, vecs, "dense", limit_s=limit)
    other_top = [_top(index.dense_scores(v)) for v in vecs]
    row["recall_at_10"] = round(float(np.mean([len(a & b) / 10 for a, b in zip(own_top, other_top)])), 4)
    pairs = list(zip(hyb_own, hyb_other))
    row["hybrid_agreement_at_10"] = round(float(np.mean([len(set(a) & set(b)) / max(len(a), 1) for a, b in pairs])), 4)
    row["rss_peak_mb"] = _peak_mb()
    index.dense = dense  # (the HNSW index owns the storage searched above)
    return row


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _fresh(fn, *args):
    """fn(*args) in a fresh process, so that memory and timings are its own."""
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(fn, *args).result()


def run_scale(sizes: list[int], corpus_dir: str, root: str, log=print, work_dir: str | None = None) -> list[dict]:
    """One row per size (the shipped knowledge base first): `build_synthetic`, then `serve_synthetic`,
    each in a fresh process; the index folders are deleted afterwards."""
    from ..kb import load_kb

    shipped = len(load_kb(corpus_dir).clauses)
    rows = []
    for n in [shipped] + [s for s in sizes if s != shipped]:
        folder = tempfile.mkdtemp(prefix="regqa-scale-", dir=work_dir)
        try:
            log(f"{n:,} clauses: building ...")
            row = {"size": n, "shipped": n == shipped} | _fresh(build_synthetic, corpus_dir, n, folder)
            log(f"  {row}\n{n:,} clauses: loading and querying ...")
            row |= _fresh(serve_synthetic, corpus_dir, folder, root)
            log(f"  {row}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        rows.append(row)
    return rows


def _ms(row: dict, key: str) -> str:
    r = row.get(key)
    return f"{r['p50_ms']:g} / {r['p95_ms']:g}" if r else "–"


def markdown(rows: list[dict]) -> str:
    """The two tables of bench.md: building and memory, then query latency and recall."""
    head = ("| clauses | dense index | build: dense exact s | dense HNSW s | BM25 s | exact-term index s "
            "| on disk MB | RSS MB |\n|---|---|---|---|---|---|---|---|\n")
    build = "\n".join(
        f"| {r['clauses']:,}{' (shipped)' if r['shipped'] else ''} | {r['dense_kind']} | {r['build_dense_exact_s']:g} "
        f"| {r['build_dense_approx_s']:g} | {r['build_bm25_s']:g} | {r['build_terms_s']:g} | {r['disk_mb']:g} "
        f"| {r['rss_mb']:g} |" for r in rows)
    qhead = ("| clauses | hybrid (product) | hybrid, exact dense | hybrid, HNSW dense | BM25 | dense exact "
             "| dense HNSW | HNSW recall@10 | hybrid top-10 agreement |\n|---|---|---|---|---|---|---|---|---|\n")
    query = "\n".join(
        f"| {r['clauses']:,} | {_ms(r, 'hybrid_' + ('exact' if r['dense_kind'] == 'flat' else 'approx'))} "
        f"| {_ms(r, 'hybrid_exact')} | {_ms(r, 'hybrid_approx')} | {_ms(r, 'bm25')} | {_ms(r, 'dense_exact')} "
        f"| {_ms(r, 'dense_approx')} | {r['recall_at_10']:.3f} | {r['hybrid_agreement_at_10']:.3f} |" for r in rows)
    params = next((r["dense_index"] for r in rows if r["dense_kind"] == "hnsw"), rows[-1]["dense_index"] if rows else {})
    n_q = rows[0]["bm25"]["n"] if rows else 0
    return ("Building and memory (RSS: a fresh process that loaded the index, as the app would):\n\n"
            + head + build + f"\n\nQuery latency, p50 / p95 ms over {n_q} gold questions (`Retriever.search`, "
            "k = 10 for hybrid, 5 otherwise; query embedding not included), and approximate (HNSW) dense search "
            "against exact:\n\n" + qhead + query
            + f"\n\nDense index parameters: `{json.dumps(params)}`.")


def plot(rows: list[dict], path: Path) -> Path:
    """Query latency and resident memory against the number of clauses, log axes (bench.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["clauses"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("hybrid_exact", "hybrid, exact dense"), ("hybrid_approx", "hybrid, HNSW dense"),
                       ("bm25", "BM25"), ("dense_exact", "dense exact"), ("dense_approx", "dense HNSW")):
        pts = [(n, r[key]["p50_ms"]) for n, r in zip(x, rows) if r.get(key)]
        a.plot(*zip(*pts), marker="o", label=label)
    a.axhline(TARGET_MS, color="grey", linestyle="--", linewidth=1, label=f"target at 10^6 clauses ({TARGET_MS} ms)")
    a.set(xscale="log", yscale="log", xlabel="clauses", ylabel="query p50, ms", title="query latency")
    a.legend(fontsize=8)
    b.plot(x, [r["rss_mb"] / 1024 for r in rows], marker="o", label="RSS of the loaded process")
    b.plot(x, [r["disk_mb"] / 1024 for r in rows], marker="s", label="index on disk")
    b.set(xscale="log", yscale="log", xlabel="clauses", ylabel="GB", title="memory")
    b.legend(fontsize=8)
    for ax in (a, b):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parse_sizes(text: str) -> list[int]:
    """"10000,100000,1e6" -> [10000, 100000, 1000000]; a clear error for anything else."""
    try:
        sizes = [int(float(x)) for x in text.split(",") if x.strip()]
    except ValueError as e:
        raise ValueError(f"--retrieval-scale takes clause counts separated by commas, e.g. 10000,100000,1000000; "
                         f"got {text!r}") from e
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--retrieval-scale needs at least one positive clause count; got {text!r}")
    return sizes


def main(sizes: str, out: str | None, settings, log=print) -> int:
    """`python -m chatbot bench --retrieval-scale SIZES [--out DIR]`: bench.json, bench.md, bench.png."""
    import sys

    try:
        wanted = parse_sizes(sizes)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from ..config import ROOT

    folder = Path(out or ROOT / "eval" / "results" / "scale")
    rows = run_scale(wanted, str(settings.corpus_dir), str(ROOT), log=log)
    md = markdown(rows)
    print(md)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "bench.md").write_text(md + "\n", encoding="utf-8")
    plot(rows, folder / "bench.png")
    log(f"wrote {folder}/bench.json, bench.md and bench.png")
    return 0
