"""Retrieval at scale: the switch to approximate dense search, its manifest, its recall, the exact-term
index against the brute-force definition, the vectorized ranking against the sorts it replaces, and the
synthetic knowledge bases of the scale bench."""

import json
import numpy as np
import pytest

import chatbot.index as index_module
from chatbot.index import MISSING, Index, build, build_dense, load, previous_vectors, rare_term_scores
from chatbot.retrieve import Retriever, first_ranked, rank_array, ranks, ranking
from chatbot.substrings import SubstringIndex

QUIET = dict(log=lambda m: None)


def clustered(n: int, dim: int = 32, centres: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, like embeddings of texts on a few topics."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def vector_index(regulation, vectors: np.ndarray, exact_max: int) -> Index:
    dense = build_dense(vectors, exact_max=exact_max)
    return Index(regulation, [regulation.clauses[0]] * len(vectors), None, dense, "test",
                 {"dense_index": index_module.dense_params(dense)})


def test_dense_index_switches_to_hnsw_above_the_threshold(monkeypatch):
    x = clustered(60)
    assert type(build_dense(x, exact_max=60)).__name__ == "IndexFlatIP"
    assert type(build_dense(x, exact_max=59)).__name__ == "IndexHNSWFlat"
    monkeypatch.setattr(index_module, "EXACT_MAX", 59)  # the default threshold is the module constant
    assert index_module.dense_params(build_dense(x)) == {
        "kind": "hnsw", "M": index_module.HNSW_M, "ef_construction": index_module.HNSW_EF_CONSTRUCTION,
        "ef_search": index_module.HNSW_EF_SEARCH, "candidates": index_module.DENSE_CANDIDATES, "exact_max": 59}


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory, regulation):
    """The regulation indexed twice with a model-free embedder: exactly, and as if 49 clauses were many (HNSW)."""
    from chatbot.tools.scale import HashEmbedder

    embedder = HashEmbedder(32)
    flat_dir, hnsw_dir = tmp_path_factory.mktemp("flat") / "index", tmp_path_factory.mktemp("hnsw") / "index"
    flat = build(regulation, flat_dir, embedder, **QUIET)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index_module, "EXACT_MAX", 10)
        hnsw = build(regulation, hnsw_dir, embedder, **QUIET)
    return embedder, (flat_dir, flat), (hnsw_dir, hnsw)


def test_manifest_records_hnsw_and_load_applies_it_again(two_indexes, regulation, tmp_path):
    import shutil

    embedder, (flat_dir, flat), (hnsw_dir, hnsw) = two_indexes
    d = tmp_path / "index"
    shutil.copytree(hnsw_dir, d)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dense_index"]["kind"] == "hnsw" and manifest["dense_index"]["exact_max"] == 10
    assert manifest["dense_index"]["ef_search"] == index_module.HNSW_EF_SEARCH == hnsw.dense.hnsw.efSearch
    assert json.loads((flat_dir / "manifest.json").read_text(encoding="utf-8"))["dense_index"]["kind"] == "flat"
    # FAISS keeps its own efSearch in the file; the manifest's is the one that counts
    manifest["dense_index"]["ef_search"] = 55
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    again = load(regulation, d, embedder.name)
    assert not again.exact and again.dense.hnsw.efSearch == 55
    # vectors are reused from an HNSW index as from a flat one
    reused, known = previous_vectors(d, embedder.name), previous_vectors(flat_dir, embedder.name)
    assert len(reused) == 49 and all(np.array_equal(reused[t], v) for t, v in known.items())
    # 200 candidates reach all 49 clauses: the approximate index ranks exactly as the flat one
    for q in ("工厂做技术改造，政府能给什么支持？", "链长制是什么", "第十条讲什么"):
        assert [h.clause.id for h in Retriever(again, embedder).search(q, k=10).hits] == \
            [h.clause.id for h in Retriever(flat, embedder).search(q, k=10).hits]


def test_manifest_of_another_kind_is_stale(two_indexes, tmp_path, regulation):
    import shutil

    embedder, (flat_dir, _), _ = two_indexes
    d = tmp_path / "index"
    shutil.copytree(flat_dir, d)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    manifest["dense_index"] = {"kind": "hnsw", "ef_search": 64}
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(index_module.StaleIndex, match="not the hnsw index"):
        load(regulation, d, embedder.name)


def test_approximate_recall_against_exact(regulation):
    x = clustered(3000)
    queries = clustered(50, seed=1)
    exact, approx = vector_index(regulation, x, 10 ** 9), vector_index(regulation, x, 0)
    recall = [len(set(np.argsort(-exact.dense_scores(q))[:10]) & set(np.argsort(-approx.dense_scores(q))[:10])) / 10
              for q in queries]
    assert exact.exact and not approx.exact
    assert np.mean(recall) >= 0.95


def test_approximate_dense_scores_are_exact_inside_and_missing_outside(regulation):
    x = clustered(3000)
    q = clustered(1, seed=2)[0]
    idx = vector_index(regulation, x, 0)
    true = x @ q
    among = np.arange(3000) % 2 == 0  # even clauses only
    also = np.array([1, 2, 3, 4])     # 1 and 3 are outside `among`: not scored
    got = idx.dense_scores(q, among=among, also=also)
    scored = np.flatnonzero(got > MISSING)
    assert index_module.DENSE_CANDIDATES < len(scored) <= index_module.DENSE_CANDIDATES + 3
    assert np.allclose(got[scored], true[scored], atol=1e-5)
    assert (got[~np.isin(np.arange(3000), scored)] == MISSING).all()
    assert among[scored].all() and got[2] > MISSING and got[4] > MISSING and got[1] == got[3] == MISSING
    assert got[scored].min() == pytest.approx(true[among].min(), abs=1e-5)  # the farthest clause, for fusion
    best = np.flatnonzero(among)[np.argsort(-true[among])[:10]]
    assert len(set(best) & set(scored)) >= 9


def brute_force_rare(terms, texts, max_df=1):
    """The definition, term by term over every text (what `rare_term_scores` computed before its index)."""
    n = len(texts)
    out = np.zeros(n)
    if n < 2:
        return out
    for t in dict.fromkeys(terms):
        where = [i for i, x in enumerate(texts) if t in x]
        if 1 <= len(where) <= max_df:
            out[where] = np.maximum(out[where], np.log(n / len(where)) / np.log(n))
    return out


def test_substring_index_by_hand():
    s = SubstringIndex(["现代家具产业", "产业集群", "产业链", "家具城"])
    assert s.containing("产业").tolist() == [0, 1, 2]
    assert s.containing("家具").tolist() == [0, 3] and s.containing("家具", most=1) is None
    assert s.containing("业集", most=1).tolist() == [1]
    assert s.containing("业产").tolist() == [] and s.containing("群产").tolist() == []  # not across two texts
    assert s.containing("链").tolist() == [2] and s.containing("木").tolist() == []
    assert s.containing("").tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("max_df", [1, 2])
def test_rare_term_scores_equal_the_brute_force_definition(max_df):
    texts = ["现代家具产业", "产业集群", "产业链", "家具城", "链长制", "链长"]
    terms = ["家具", "产业", "链长制", "集群", "城", "链长", "无此词", "业链"]
    # by hand, max_df 1: 链长制 and 集群 and 业链 in one text each (weight 1), 城 too; 家具 and 链长 in two
    assert rare_term_scores(terms, texts, max_df).tolist() == pytest.approx(brute_force_rare(terms, texts, max_df))
    if max_df == 1:
        assert rare_term_scores(terms, texts, 1).tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_index_rare_terms_equal_the_definition_on_the_corpus(two_indexes):
    import unicodedata

    _, (_, idx), _ = two_indexes
    texts = [unicodedata.normalize("NFKC", c.search_text).lower() for c in idx.clauses]
    for q in ("现代家具产业有什么支持", "链长制是什么", "首席质量官和亩产效益评价", "工厂技术改造"):
        terms = [t for t in idx.tokenizer(q) if len(t) >= 2]
        assert idx.rare_term_scores(q).tolist() == brute_force_rare(
            [t for t in terms if t not in idx._title_terms and not index_module.NUMBERING.fullmatch(t)],
            texts).tolist()


def test_ranking_helpers_by_hand_and_against_a_full_sort():
    assert ranks(np.array([0.2, 0.5, 0.2, 0.0]), [0, 2, 3], above=0.0) == [2, 3, None]
    assert rank_array(np.array([0.2, 0.5, 0.0]), above=0.0).tolist() == [2, 1, float("inf")]
    assert first_ranked(np.array([0.1, 0.9, 0.9, 0.5]), (), np.array([True, True, True, False]), 2) == [1, 2]
    rng = np.random.default_rng(0)
    s = rng.integers(0, 20, 500) / 10  # many ties
    full = ranking(s)
    place = {i: r for r, i in enumerate(full, start=1)}
    assert first_ranked(s, (), np.ones(500, bool), 37) == full[:37]
    ids = [int(i) for i in rng.integers(0, 500, 40)]
    assert ranks(s, ids[:5]) == [place[i] for i in ids[:5]] and ranks(s, ids) == [place[i] for i in ids]
    tie = rng.integers(0, 3, 500).astype(float)  # a second key among equal scores
    assert first_ranked(s, (tie,), np.ones(500, bool), 50) == sorted(range(500), key=lambda i: (-s[i], tie[i], i))[:50]


def test_synthetic_knowledge_base_holds_the_real_one(kb):
    from chatbot.tools.scale import FIRST_ARTICLE, HashEmbedder, clause_vectors, phrases, synthesize

    n = len(kb.clauses) + 300
    syn = synthesize(kb, n)
    assert len(syn.clauses) == n and syn.clauses[:len(kb.clauses)] == kb.clauses
    real_text = "".join(c.search_text for c in kb.clauses)
    current = {r.id for r in kb.current}
    for i in range(len(kb.clauses), n):
        c = syn.clauses[i]
        assert c.search_text == "".join(syn.phrases[m] for m in syn.parts(i)) and len(syn.parts(i)) >= 2
        assert c.regulation in current and c.article >= FIRST_ARTICLE
    assert all(p in real_text for p in syn.phrases)
    assert phrases("甲，乙。丙") == ["甲，", "乙。", "丙"]
    assert len(synthesize(kb, 10).clauses) == len(kb.clauses)  # never fewer than the real ones
    v = clause_vectors(syn, HashEmbedder(64))
    assert v.shape == (n, 64) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    # a clause is nearest to the clauses that share its phrases: its own real clause first
    e = HashEmbedder(64)
    q = e.encode_queries([kb.clauses[5].search_text])[0]
    assert int(np.argmax(v @ q)) == 5


def test_scale_bench_end_to_end(tmp_path, kb):
    from chatbot.config import ROOT
    from chatbot.tools.scale import build_synthetic, markdown, parse_sizes, plot, serve_synthetic

    n = len(kb.clauses) + 300
    row = {"size": n, "shipped": False} | build_synthetic(str(ROOT / "corpus"), n, str(tmp_path))
    row |= serve_synthetic(str(ROOT / "corpus"), str(tmp_path), str(ROOT), questions=6)
    assert row["clauses"] == n and row["dense_kind"] == "flat" and row["disk_mb"] > 0 and row["rss_mb"] > 0
    assert row["hybrid_exact"]["n"] == 6 and row["hybrid_approx"]["n"] == 6 and 0.9 <= row["recall_at_10"] <= 1
    assert f"| {n:,} | flat |" in markdown([row])
    assert plot([row], tmp_path / "bench.png").stat().st_size > 0
    assert parse_sizes("10000,1e5") == [10000, 100000]
    with pytest.raises(ValueError, match="separated by commas"):
        parse_sizes("ten")
