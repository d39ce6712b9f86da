"""Build, save and load the search index: dense vectors in FAISS plus BM25 over jieba tokens.

Layout of index/ (all plain files; the manifest names a format version that `load` checks):
    manifest.json   format, corpus hash, embedding model, chunk count, the dense index's kind and search
                    parameters ("dense_index"), sha256 of every other file
    chunks.jsonl    the clauses, one JSON object a line, in index order
    dense.faiss     normalized embeddings of `Clause.search_text` (absent in BM25-only indexes): exact
                    search up to EXACT_MAX clauses, an approximate HNSW graph beyond (`build_dense`)
    bm25/           bm25s index over `tokens.tokenize(Clause.search_text)`

A stale index (other corpus, other embedding model, other format) or a broken one (missing or
truncated file, hash mismatch) raises `StaleIndex` on load; `open_index` rebuilds it then.
In memory, the clause texts are also indexed for verbatim lookup (`chatbot.substrings`, for rare terms).
Retrieval over the loaded index lives in `chatbot.retrieve`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from .corpus import Clause, Regulation
from .kb import KnowledgeBase, as_kb
from .embed import Embedder, EmbedderUnavailable
from .labels import NUM
from .substrings import SubstringIndex
from .tokens import STOP_WORDS, USER_DICT, Tokenizer

FORMAT = "regqa-index/2"  # 2: the preamble (题注) clause and the relevance calibration
# the relevance gate is set this share below the lowest best-clause cosine of any in-scope gold question, so
# that unseen questions phrased further from the text are not refused: held-out questions went down to 81%
# of the gold minimum with EmbeddingGemma (README, "Refusals"); a share, not a difference, because
# embedders' cosine scales differ
CALIBRATION_MARGIN = 0.2


# Dense search is exact (every clause scored: IndexFlatIP) up to EXACT_MAX clauses and approximate beyond
# (an HNSW graph, IndexHNSWFlat), with these parameters; the manifest records them ("dense_index") and
# `read_dense` applies them again on load. Measured on 2 CPU cores with 768-dimension vectors (`python -m
# chatbot bench --retrieval-scale`, eval/results/scale/): exact search costs about 0.2 µs a clause (1.2 ms
# at 10,000 clauses, 2.8 at 20,000, 6.2 at 30,000, 11.8 at 60,000, about 230 at 1,000,000); HNSW, with the
# efSearch a million clauses need, 3.3 ms at 10,000 clauses, 4.9 at 20,000, 5.2 at 30,000, 6.1 at 60,000 and
# 6.2 at 1,000,000. Exact search is the faster one up to about 30,000 clauses -- and its results are exact,
# with no graph to build (26-55 s for 100,000 clauses, 510-720 s for 1,000,000 here) -- so the switch is
# there. HNSW rather than IVF (IndexIVFFlat, 1,264 lists) at 100,000 clauses: recall@10 0.981 at efSearch 200
# in 2.0 ms against 0.966 at nprobe 128 in 3.9 ms, and no training. efConstruction 128 rather than 64:
# recall@10 0.981 rather than 0.958 at 100,000 clauses. efSearch 1024: recall@10 at 1,000,000 clauses was
# 0.846 at 256, 0.903 at 512, 0.965 at 1024 (6.2 ms), 0.977 at 2048 (11.7 ms).
EXACT_MAX = 30_000
HNSW_M = 32                 # graph neighbours per clause
HNSW_EF_CONSTRUCTION = 128  # candidate list while building
HNSW_EF_SEARCH = 1024       # candidate list while searching (at least DENSE_CANDIDATES)
# clauses an approximate search scores per question, and as many of BM25's best in hybrid search; the others
# get MISSING. With 200, hybrid top-10 agreed with exact dense search 0.988 at 100,000 clauses, 0.929 at 10^6
DENSE_CANDIDATES = 200
MISSING = -1.0              # the dense score of a clause an approximate search did not reach (no cosine is lower)

RARE_MAX_DF = 1  # a rare term is one that this many clauses use at most (swept: chatbot.retrieve, README)
RARE_SCAN = 4096  # ... of its law; a term in more clauses than this in all counts nowhere (bounds the lookup)
# 第十, 十条, 第十条: numbering, which article lookup handles; never a rare term
NUMBERING = re.compile(rf"第?{NUM}[条款项章节]?|第")


class StaleIndex(RuntimeError):
    """The index on disk does not match the corpus or settings, or is damaged; the message says why."""


# a chapter on legal liability (法律责任, 罚则): retrieval prefers its clauses for questions about liability
LIABILITY_CHAPTER = re.compile(r"法律责任|罚则")


@dataclass
class Index:
    regulation: KnowledgeBase     # every regulation indexed (`chatbot.kb`); .primary is the main one
    clauses: list[Clause]
    bm25: bm25s.BM25
    dense: object | None          # faiss.Index (exact or approximate: `build_dense`), or None for a BM25-only index
    embed_model: str | None       # the model the dense vectors came from
    manifest: dict
    tokenizer: Tokenizer = field(default_factory=Tokenizer)  # the one BM25 was built with; queries use it too
    _substrings: SubstringIndex | None = field(default=None, init=False, repr=False, compare=False)
    _title_terms: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    _laws: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _liability: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _law_sizes: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _law_codes: tuple[np.ndarray, dict[str, int]] | None = field(default=None, init=False, repr=False,
                                                                  compare=False)
    _masks: dict[frozenset, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)
    _articles: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def laws(self) -> np.ndarray:
        """The regulation id of every clause, in index order (a regulation parsed on its own: the primary's
        id), computed once: retrieval selects the clauses of the laws in scope with it on every question."""
        if self._laws is None:
            primary = self.regulation.primary.id
            self._laws = np.array([c.regulation or primary for c in self.clauses], dtype=object)
        return self._laws

    @property
    def law_codes(self) -> np.ndarray:
        """Each clause's regulation as a small integer (the order laws first appear in the index)."""
        if self._law_codes is None:
            number: dict[str, int] = {}
            codes = np.fromiter((number.setdefault(law, len(number)) for law in self.laws), dtype=np.int32,
                                count=len(self.clauses))
            codes.flags.writeable = False
            self._law_codes = (codes, number)
        return self._law_codes[0]

    def law_mask(self, ids) -> np.ndarray:
        """Which clauses belong to one of the regulations `ids` (a boolean per clause, in index order): a
        lookup by small integer codes, not string comparisons, so that it stays fast over a million clauses."""
        self.law_codes  # (computes the codes once)
        key = frozenset(ids)
        if key not in self._masks:  # a few scopes recur (all current laws, one law): each computed once
            codes, number = self._law_codes
            wanted = np.zeros(len(number) + 1, dtype=bool)
            wanted[[number[i] for i in key if i in number]] = True
            if len(self._masks) >= 16:
                self._masks.clear()
            self._masks[key] = wanted[codes]
            self._masks[key].flags.writeable = False  # shared by every question with this scope
        return self._masks[key]

    @property
    def liability_mask(self) -> np.ndarray:
        """Which clauses stand in a chapter on legal liability (法律责任, 罚则), in index order."""
        if self._liability is None:
            self._liability = np.fromiter((bool(c.chapter and LIABILITY_CHAPTER.search(c.chapter))
                                           for c in self.clauses), dtype=bool, count=len(self.clauses))
        return self._liability

    @property
    def several_laws(self) -> bool:
        return len(self.regulation.regulations) > 1

    @property
    def articles(self) -> np.ndarray:
        """The article number of every clause, in index order (for article lookup)."""
        if self._articles is None:
            self._articles = np.fromiter((c.article for c in self.clauses), dtype=np.int64, count=len(self.clauses))
        return self._articles

    @property
    def candidates(self) -> int:
        """How many nearest clauses an approximate dense search scores (the manifest's, else DENSE_CANDIDATES)."""
        return int((self.manifest.get("dense_index") or {}).get("candidates", DENSE_CANDIDATES))

    @property
    def exact(self) -> bool:
        """Whether dense search scores every clause (a flat index) rather than the nearest ones (HNSW)."""
        return self.dense is not None and is_exact(self.dense)

    def bm25_scores(self, question: str, expand: bool = True) -> np.ndarray:
        toks = self.tokenizer.query(question, expand)
        if not toks:
            return np.zeros(len(self.clauses), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

    def bm25_scores_by_law(self, question: str, expand: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores over the whole index (as `bm25_scores`), and the same with each law's own inverse
        document frequencies: the scores each clause would get if its law were indexed alone.

        A law's own vocabulary (先进制造业 in the Jiangxi regulation, 款项 in the payment regulation) is in
        nearly every one of its clauses: across the knowledge base it is rare, and lifts the clauses that
        repeat it most, while within the law it says nothing. The second array leaves each law's clauses
        ordered as they would be alone. (bm25s stores idf(t) * tf-part per clause and term; a term's column
        is rescaled by idf_law(t) / idf(t), Lucene's idf = log(1 + (N - df + 0.5) / (df + 0.5)).)
        """
        n = len(self.clauses)
        whole = np.zeros(n, dtype=np.float64)
        own = np.zeros(n, dtype=np.float64)
        toks = self.tokenizer.query(question, expand)
        ids = self.bm25.get_tokens_ids(toks) if toks else []
        if not ids:
            return whole.astype(np.float32), own.astype(np.float32)
        codes = self.law_codes
        if self._law_sizes is None:
            self._law_sizes = np.bincount(codes).astype(np.float64)
        sizes = self._law_sizes
        data, indices, indptr = (self.bm25.scores[k] for k in ("data", "indices", "indptr"))
        for t in ids:  # (a repeated token counts again, as in bm25s)
            rows = indices[indptr[t]:indptr[t + 1]]
            vals = data[indptr[t]:indptr[t + 1]].astype(np.float64)
            if not len(rows):
                continue
            law = codes[rows]
            df = np.bincount(law, minlength=len(sizes)).astype(np.float64)
            idf_law = np.log1p((sizes - df + 0.5) / (df + 0.5))
            idf = np.log1p((n - len(rows) + 0.5) / (len(rows) + 0.5))
            whole[rows] += vals
            own[rows] += vals * (idf_law[law] / idf)
        return whole.astype(np.float32), own.astype(np.float32)

    def rare_term_scores(self, question: str, by_law: bool = False) -> np.ndarray:
        """Rare question terms found verbatim in clauses (see `rare_term_scores` below), rare among all
        clauses or, `by_law`, among each clause's own law's. Terms of the regulations' titles (先进制造业,
        条例) name a whole text, not a clause, so they do not count."""
        found = self.substrings  # (also sets _title_terms)
        terms = [t for t in self.tokenizer(question)
                 if len(t) >= 2 and t not in self._title_terms and not NUMBERING.fullmatch(t)]
        return rare_term_scores(terms, found, codes=self.law_codes if by_law else None)

    @property
    def substrings(self) -> SubstringIndex:
        """The normalized clause texts, indexed for verbatim lookup; built on first use."""
        if self._substrings is None:
            self._title_terms = {t for r in self.regulation.regulations for t in self.tokenizer(r.title)}
            self._substrings = SubstringIndex([unicodedata.normalize("NFKC", c.search_text).lower()
                                               for c in self.clauses])
        return self._substrings

    def dense_scores(self, query_vector: np.ndarray, among: np.ndarray | None = None,
                     also: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of one normalized query vector to the clauses, in index order.

        An exact index scores every clause. An approximate one scores the DENSE_CANDIDATES nearest clauses
        it finds, the clauses `also` (indices: e.g. BM25's best, so that fusion sees their true cosine) and
        the farthest clause (searched with the negated query: the bottom of the range fusion normalizes
        over), all among the clauses where the boolean mask `among` is true when it is given; the others
        get MISSING.
        """
        import faiss

        assert self.dense is not None
        q = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(-1)
        n = self.dense.ntotal
        if len(q) != self.dense.d:
            raise ValueError(f"query vector has {len(q)} dimensions, the index {self.dense.d}")
        if self.exact:
            # the same kernel as IndexFlatIP.search, without ranking every clause
            out = np.empty(n, dtype=np.float32)
            faiss.fvec_inner_products_ny(faiss.swig_ptr(out), faiss.swig_ptr(q), self.dense.get_xb(), len(q), n)
            return out
        k = min(self.candidates, n)
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(self.dense.hnsw.efSearch, k)  # a search returns at most efSearch clauses
        if among is not None:
            bits = np.packbits(among, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(among), faiss.swig_ptr(bits))
            params.sel = selector  # params does not own it: `selector` and `bits` live until the searches end
        out = np.full(len(self.clauses), MISSING, dtype=np.float32)
        scores, ids = self.dense.search(q.reshape(1, -1), k, params=params)
        found = ids[0] >= 0
        out[ids[0][found]] = scores[0][found]
        params.efSearch = self.dense.hnsw.efSearch
        low, far = self.dense.search(-q.reshape(1, -1), 1, params=params)
        if far[0][0] >= 0:
            out[far[0][0]] = -low[0][0]
        if also is not None and len(also):
            also = np.asarray(also, dtype=np.int64)
            if among is not None:
                also = also[among[also]]
            stored = faiss.downcast_index(self.dense.storage)
            vectors = faiss.rev_swig_ptr(stored.get_xb(), n * stored.d).reshape(n, stored.d)
            out[also] = vectors[also] @ q
        return out


def rare_term_scores(terms: list[str], texts: list[str] | SubstringIndex, max_df: int = RARE_MAX_DF,
                     codes: np.ndarray | None = None) -> np.ndarray:
    """Per text, the weight of the rarest question term it contains verbatim, 0 if none:
    max over terms t in the text of log(N / df_t) / log(N), for terms with 1 <= df_t <= max_df, where
    df_t is the number of texts containing t and N the number of texts (so a term in one text weighs 1).
    `texts` may come indexed already (`SubstringIndex`), as `Index` keeps them.

    With `codes` (each text's law, as small integers) N and df_t are counted within each text's own law:
    a term is rare where its law uses it rarely, as if that law were indexed alone (仪器 in one clause of
    a regulation is rare there, however often a science law uses it). A term in more than RARE_SCAN texts
    of the whole set counts nowhere (the bound keeps a common word's lookup cheap over a million clauses).

    rare_term_scores(["家具", "产业"], ["现代家具产业", "产业集群", "产业链"], 1) -> [1.0, 0.0, 0.0]
    (家具 is in 1 of 3 texts: log(3/1)/log(3) = 1; 产业 is in all three: too common to count)
    rare_term_scores(["仪器"], ["仪器", "a", "仪器", "仪器b"], 1, codes=[0, 0, 1, 1]) -> [1.0, 0.0, 0.0, 0.0]
    """
    found = texts if isinstance(texts, SubstringIndex) else SubstringIndex(texts)
    n = len(found)
    out = np.zeros(n, dtype=np.float64)
    if codes is not None:
        codes = np.asarray(codes)
        sizes = np.bincount(codes).astype(np.float64) if n else np.zeros(0)
        for t in dict.fromkeys(terms):
            where = found.containing(t, most=RARE_SCAN)
            if where is None or not len(where):
                continue
            law = codes[where]
            df = np.bincount(law, minlength=len(sizes))[law]
            size = sizes[law]
            keep = (df <= max_df) & (size >= 2)
            w = np.log(size[keep] / df[keep]) / np.log(size[keep])
            out[where[keep]] = np.maximum(out[where[keep]], w)
        return out
    if n < 2:
        return out
    for t in dict.fromkeys(terms):
        where = found.containing(t, most=max_df)
        if where is not None and len(where) >= 1:
            out[where] = np.maximum(out[where], np.log(n / len(where)) / np.log(n))
    return out


def build_bm25(texts: list[str], tokenizer: Tokenizer) -> bm25s.BM25:
    """A BM25 index of `texts`; query it with the same `tokenizer` (Index does)."""
    bm = bm25s.BM25()
    bm.index([tokenizer(t) or [""] for t in texts], show_progress=False)
    return bm


def build_dense(vectors: np.ndarray, exact_max: int | None = None):
    """A FAISS index of unit vectors (inner product = cosine): exact for up to `exact_max` vectors
    (default EXACT_MAX), an HNSW graph beyond. `dense_params` describes it for the manifest."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(x) <= (EXACT_MAX if exact_max is None else exact_max):
        idx = faiss.IndexFlatIP(x.shape[1])
    else:
        idx = faiss.IndexHNSWFlat(x.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        idx.hnsw.efSearch = HNSW_EF_SEARCH
    idx.add(x)
    return idx


def is_exact(dense) -> bool:
    import faiss

    return isinstance(dense, faiss.IndexFlat)


def dense_params(dense) -> dict:
    """What the manifest records of a dense index (its "dense_index"), for `read_dense` to apply again:
    {"kind": "flat"} or {"kind": "hnsw", "M", "ef_construction", "ef_search", "candidates"}, with the
    clause count above which indexes are approximate ("exact_max")."""
    if is_exact(dense):
        return {"kind": "flat", "exact_max": EXACT_MAX}
    return {"kind": "hnsw", "M": int(dense.hnsw.nb_neighbors(1)), "ef_construction": int(dense.hnsw.efConstruction),
            "ef_search": int(dense.hnsw.efSearch), "candidates": DENSE_CANDIDATES, "exact_max": EXACT_MAX}


def read_dense(path: Path, params: dict | None):
    """Read dense.faiss and set its search parameters from the manifest's "dense_index" (FAISS does not
    keep every one of them in the file); an index of another kind than the manifest says is stale."""
    import faiss

    dense = faiss.read_index(str(path))
    kind = (params or {}).get("kind", "flat")  # indexes written before approximate search were all flat
    if kind != ("flat" if is_exact(dense) else "hnsw" if hasattr(dense, "hnsw") else type(dense).__name__):
        raise StaleIndex(f"{path} is a {type(dense).__name__}, not the {kind} index its manifest names")
    if kind == "hnsw":
        dense.hnsw.efSearch = int(params["ef_search"])
    return dense


def previous_vectors(directory: Path, embed_model: str, embed_dtype: str = "float32") -> dict[str, np.ndarray]:
    """The clause vectors of the index being replaced, by clause text, when it was built with the same
    embedding model in the same dtype and is intact: adding one law then embeds that law's clauses only.
    Anything unreadable means nothing is reused."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if (manifest.get("format") != FORMAT or manifest.get("embed_model") != embed_model
                or manifest.get("embed_dtype", "float32") != embed_dtype):
            return {}
        for name in ("chunks.jsonl", "dense.faiss"):
            if _sha256(directory / name) != manifest["files"][name]:
                return {}
        import faiss

        dense = faiss.read_index(str(directory / "dense.faiss"))
        vectors = dense.reconstruct_n(0, dense.ntotal)
        texts = [c.search_text for c in read_chunks(directory)]
        return dict(zip(texts, vectors)) if len(texts) == len(vectors) else {}
    except Exception:  # noqa: BLE001 - a missing, old or damaged index: embed everything
        return {}


def read_chunks(directory: Path) -> list[Clause]:
    """The clauses of an index folder (chunks.jsonl), in index order."""
    rows = [json.loads(x) for x in (directory / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if x]
    return [Clause(**{**row, "items": tuple(row["items"])}) for row in rows]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content_digest(clauses: list[Clause]) -> str:
    """Hash of what the index is made from: the indexed texts and the tokenizer's dictionaries.

    A change of the chunking, the embedded text or the user dictionary makes an old index stale.
    """
    h = hashlib.sha256()
    for c in clauses:
        h.update(c.search_text.encode("utf-8") + b"\0")
    for p in (USER_DICT, STOP_WORDS):
        h.update(p.read_bytes())
    return h.hexdigest()


def calibrate_relevance(regulation: KnowledgeBase, dense, embedder: Embedder, gold_file: str | Path,
                        margin: float = CALIBRATION_MARGIN) -> dict:
    """The relevance threshold for this embedder's cosine scale, from a gold question set.

    Each gold question that names no article (named articles skip the gate) is scored by its best clause
    cosine. The threshold is the lowest in-scope score times (1 - margin), rounded down to 0.01: it refuses
    no in-scope gold question and as many out-of-scope ones as that allows. In-scope scores 0.41, 0.52 and
    out-of-scope 0.30, 0.45 with margin 0.2 -> threshold 0.32, which refuses the 0.30 one.
    """
    from .gold import load_gold
    from .labels import article_refs

    items = [g for g in load_gold(gold_file, regulation)
             if not any(regulation.article(r.article) for r in article_refs(g.question))]
    vectors = embedder.encode_queries([g.question for g in items])
    best = dense.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)[0][:, 0]
    ins = [float(b) for g, b in zip(items, best) if g.in_scope]
    oos = [float(b) for g, b in zip(items, best) if not g.in_scope]
    if not ins:
        raise ValueError(f"{gold_file} has no in-scope question that names no article")
    threshold = float(np.floor(min(ins) * (1 - margin) * 100) / 100)
    return {"min_relevance": threshold, "gold_file": str(gold_file), "gold_sha256": _sha256(Path(gold_file)),
            "margin": margin, "in_scope": len(ins), "lowest_in_scope": round(min(ins), 4),
            "out_of_scope": len(oos), "out_of_scope_refused": sum(b < threshold for b in oos)}


def build(regulation: Regulation | KnowledgeBase, directory: str | Path, embedder: Embedder | None,
          log=lambda msg: print(msg, file=sys.stderr), gold_file: str | Path | None = None) -> Index:
    """Embed and index every clause of every regulation, write `directory` atomically, return the index.

    With `embedder=None`, or one that cannot load, the index is BM25 only and says so in its manifest.
    With a `gold_file`, the relevance gate is calibrated for the embedder (`calibrate_relevance`).
    """
    import faiss

    t0 = time.perf_counter()
    regulation = as_kb(regulation)
    clauses = regulation.clauses
    texts = [c.search_text for c in clauses]
    log(f"indexing {len(clauses)} clauses from {len(regulation.regulations)} regulation(s) ...")
    dense, model_name, dim, dtype = None, None, None, None
    if embedder is not None:
        try:
            known = previous_vectors(Path(directory), embedder.name, embedder.dtype)
            distinct = set(texts)
            todo = list(dict.fromkeys(t for t in texts if t not in known))
            t1 = time.perf_counter()
            if todo:
                known |= dict(zip(todo, embedder.encode_documents(todo, progress=True)))
            vectors = np.stack([known[t] for t in texts]).astype(np.float32)
            dense, model_name, dim, dtype = build_dense(vectors), embedder.name, int(vectors.shape[1]), embedder.dtype
            log(f"  embedded {len(todo)} of {len(distinct)} distinct clause texts with {embedder.name} "
                f"(dim {dim}, {embedder.dtype}) in {time.perf_counter() - t1:.1f}s; {len(distinct) - len(todo)} "
                "reused from the previous index")
        except EmbedderUnavailable as e:
            log(f"  {e}\n  building a BM25-only index")
    t1 = time.perf_counter()
    bm = build_bm25(texts, Tokenizer())
    log(f"  BM25 over jieba tokens with the regulation's user dictionary ({time.perf_counter() - t1:.1f}s)")
    relevance = None
    if dense is not None and gold_file is not None and Path(gold_file).is_file():
        try:
            t1 = time.perf_counter()
            relevance = calibrate_relevance(regulation, dense, embedder, gold_file)
            log(f"  relevance gate calibrated on {Path(gold_file).name}: {relevance['min_relevance']} "
                f"({time.perf_counter() - t1:.1f}s)")
        except (ValueError, OSError) as e:  # a gold file that does not fit this corpus: no calibration
            log(f"  relevance gate not calibrated ({e}); the default threshold applies")

    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=target.parent))
    try:
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in clauses:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        if dense is not None:
            faiss.write_index(dense, str(tmp / "dense.faiss"))
        bm.save(str(tmp / "bm25"), show_progress=False)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT,
            "title": regulation.title,
            "regulations": {r.id: r.sha256 for r in regulation.regulations},
            "corpus_sha256": regulation.sha256,
            "content_sha256": content_digest(clauses),
            "embed_model": model_name,
            "dim": dim,
            "embed_dtype": dtype,
            "dense_index": dense_params(dense) if dense is not None else None,
            "chunks": len(clauses),
            "relevance": relevance,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": {str(p.relative_to(tmp)): _sha256(p) for p in files},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        # swap in the finished index; a crash before this line leaves the old index untouched
        old = None
        if target.exists():
            old = target.with_name(target.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"  wrote {target}/ in {time.perf_counter() - t0:.1f}s")
    return Index(regulation, clauses, bm, dense, model_name, manifest)


def load(regulation: Regulation | KnowledgeBase, directory: str | Path, embed_model: str | None,
         gold_file: str | Path | None = None) -> Index:
    """Load and verify an index; raise StaleIndex saying why it cannot be used.

    `embed_model=None` accepts an index built with any model (or none) and uses only its BM25 part.
    With a `gold_file`, an index whose relevance gate was calibrated on another version of it is stale.
    """
    regulation = as_kb(regulation)
    d = Path(directory)
    mpath = d / "manifest.json"
    if not mpath.is_file():
        raise StaleIndex(f"no index at {d}/")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StaleIndex(f"{mpath} is not valid JSON") from e
    if manifest.get("format") != FORMAT:
        raise StaleIndex(f"index format {manifest.get('format')!r} is not {FORMAT!r}")
    if manifest.get("corpus_sha256") != regulation.sha256:
        raise StaleIndex("index was built from a different corpus text")
    if embed_model is not None and manifest.get("embed_model") != embed_model:
        raise StaleIndex(f"index was built with embedding model {manifest.get('embed_model')!r}, "
                         f"not {embed_model!r}")
    calibrated = manifest.get("relevance") or {}
    if (embed_model is not None and manifest.get("embed_model") and gold_file is not None
            and Path(gold_file).is_file() and (calibrated.get("gold_sha256") != _sha256(Path(gold_file))
                                               or calibrated.get("margin") != CALIBRATION_MARGIN)):
        raise StaleIndex(f"the relevance gate was not calibrated on the current {Path(gold_file).name}")
    if manifest.get("content_sha256") != content_digest(regulation.clauses):
        raise StaleIndex("index was built from other chunk texts or tokenizer dictionaries")
    for name, digest in manifest.get("files", {}).items():
        p = d / name
        if not p.is_file() or _sha256(p) != digest:
            raise StaleIndex(f"index file {p} is missing or damaged")
    clauses = read_chunks(d)
    if clauses != regulation.clauses or manifest.get("chunks") != len(clauses):
        raise StaleIndex("index chunks do not match the parsed corpus (the parser changed?)")
    try:
        bm = bm25s.BM25.load(str(d / "bm25"), show_progress=False)
        dense = None
        if manifest.get("embed_model") and embed_model is not None:
            dense = read_dense(d / "dense.faiss", manifest.get("dense_index"))
            if dense.ntotal != len(clauses):
                raise StaleIndex(f"dense index holds {dense.ntotal} vectors for {len(clauses)} chunks")
    except StaleIndex:
        raise
    except Exception as e:  # noqa: BLE001 - a file that passed its hash but fails to load
        raise StaleIndex(f"index in {d}/ cannot be read: {e}") from e
    return Index(regulation, clauses, bm, dense, manifest.get("embed_model") if dense is not None else None,
                 manifest)


def open_index(regulation: Regulation | KnowledgeBase, directory: str | Path, embedder: Embedder | None,
               rebuild: bool = True, log=lambda msg: print(msg, file=sys.stderr),
               gold_file: str | Path | None = None) -> Index:
    """Load the index, rebuilding it when it is missing, stale or damaged (or refusing if rebuild=False)."""
    want = embedder.name if embedder is not None else None
    try:
        return load(regulation, directory, want, gold_file)
    except StaleIndex as e:
        if not rebuild:
            raise StaleIndex(f"{e}; run `python -m chatbot index` to rebuild it") from e
        log(f"{e}; rebuilding")
    return build(regulation, directory, embedder, log=log, gold_file=gold_file)
