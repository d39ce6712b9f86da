import json
import shutil

import numpy as np
import pytest

from chatbot import corpus
from chatbot.embed import Embedder, EmbedderUnavailable
from conftest import CORPUS_FILE
from chatbot.index import FORMAT, StaleIndex, build, load, open_index

QUIET = dict(log=lambda m: None)


def test_build_load_round_trip(built_index, regulation):
    d, idx, embedder = built_index
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT
    assert manifest["chunks"] == 49 and manifest["embed_model"] == embedder.name
    assert manifest["corpus_sha256"] == regulation.sha256
    again = load(regulation, d, embedder.name)
    assert again.clauses == regulation.clauses
    assert again.dense.ntotal == 49
    q = embedder.encode_queries(["技术改造"])[0]
    assert (again.dense_scores(q) == idx.dense_scores(q)).all()
    assert (again.bm25_scores("链长制") == idx.bm25_scores("链长制")).all()


@pytest.fixture
def index_copy(built_index, tmp_path):
    d, _, embedder = built_index
    target = tmp_path / "index"
    shutil.copytree(d, target)
    return target, embedder


def test_other_embedding_model_is_stale(index_copy, regulation):
    d, _ = index_copy
    with pytest.raises(StaleIndex, match="embedding model"):
        load(regulation, d, "some/other-model")


def test_other_corpus_is_stale(index_copy, regulation):
    d, embedder = index_copy
    other = corpus.parse(CORPUS_FILE.read_text(encoding="utf-8") + "\n")
    assert other.sha256 != regulation.sha256
    with pytest.raises(StaleIndex, match="different corpus"):
        load(other, d, embedder.name)


def test_truncated_file_is_detected(index_copy, regulation):
    d, embedder = index_copy
    f = d / "dense.faiss"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(StaleIndex, match="missing or damaged"):
        load(regulation, d, embedder.name)


def test_deleted_file_and_bad_manifest_are_detected(index_copy, regulation):
    d, embedder = index_copy
    (d / "chunks.jsonl").unlink()
    with pytest.raises(StaleIndex, match="missing or damaged"):
        load(regulation, d, embedder.name)
    (d / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StaleIndex, match="not valid JSON"):
        load(regulation, d, embedder.name)


def test_old_format_is_stale(index_copy, regulation):
    d, embedder = index_copy
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    m["format"] = "regqa-index/0"
    (d / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(StaleIndex, match="format"):
        load(regulation, d, embedder.name)


def test_open_index_rebuilds_a_stale_index(index_copy, regulation):
    d, embedder = index_copy
    (d / "dense.faiss").write_bytes(b"garbage")
    messages = []
    idx = open_index(regulation, d, embedder, log=messages.append)
    assert idx.dense.ntotal == 49
    assert any("rebuilding" in m for m in messages)
    load(regulation, d, embedder.name)  # healthy again


def test_open_index_can_refuse_with_a_command_to_run(index_copy, regulation):
    d, embedder = index_copy
    shutil.rmtree(d)
    with pytest.raises(StaleIndex, match="python -m chatbot index"):
        open_index(regulation, d, embedder, rebuild=False, **QUIET)


def test_missing_model_gives_bm25_only_index(tmp_path, regulation):
    bad = Embedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderUnavailable, match="does not exist"):
        bad.load()
    idx = build(regulation, tmp_path / "index", bad, **QUIET)
    assert idx.dense is None and idx.embed_model is None
    assert not (tmp_path / "index" / "dense.faiss").exists()
    again = load(regulation, tmp_path / "index", None)
    assert again.bm25_scores("亩产效益").argmax() == [c.id for c in regulation.clauses].index("a18p1")


def test_bm25_only_index_is_stale_for_a_dense_setup(tmp_path, regulation, tiny_embed_dir):
    build(regulation, tmp_path / "index", None, **QUIET)
    with pytest.raises(StaleIndex, match="embedding model"):
        load(regulation, tmp_path / "index", tiny_embed_dir)


def test_bm25_scores_by_hand():
    """Three documents, whitespace tokens, bm25s' Lucene BM25 (k1 = 1.5, b = 0.75), avgdl = 7/3:

        idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)):  链长, 制度 (df 2) ln 1.6 = 0.4700;  基金 (df 1) ln(8/3) = 0.9808
        score = idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))
        链长 in d1 (tf 1, dl 2): 0.4700 * 1 / (1 + 1.3393) = 0.2009;  in d2 (dl 3): 0.4700 / 2.8214 = 0.1666
        基金 in d2 (tf 2, dl 3): 0.9808 * 2 / (2 + 1.8214) = 0.5133
    """
    import math

    from chatbot.index import build_bm25

    bm = build_bm25(["链长 制度", "链长 基金 基金", "人才 制度"], str.split)
    assert bm.get_scores(["链长"]).tolist() == pytest.approx([0.2009, 0.1666, 0.0], abs=1e-4)
    assert bm.get_scores(["基金"]).tolist() == pytest.approx([0.0, 0.5133, 0.0], abs=1e-4)
    assert math.log(1.6) == pytest.approx(0.4700, abs=1e-4)


def test_queries_use_the_tokenizer_the_index_was_built_with(built_index):
    """The dictionary ablation: documents, questions and expansions all without the user dictionary."""
    from dataclasses import replace

    from chatbot.index import build_bm25
    from chatbot.tokens import Tokenizer

    _, idx, _ = built_index
    plain = Tokenizer(user_dict=False)
    texts = [c.search_text for c in idx.clauses]
    ablated = replace(idx, bm25=build_bm25(texts, plain), tokenizer=plain)
    q = "链长制是什么？"
    assert "链长制" in idx.tokenizer.query(q) and "链长制" not in plain.query(q)
    assert ablated.bm25_scores(q).tolist() == pytest.approx(ablated.bm25.get_scores(plain.query(q)).tolist())
    assert ablated.bm25_scores(q).tolist() != pytest.approx(idx.bm25_scores(q).tolist())


def test_relevance_gate_is_calibrated_for_the_embedder(tmp_path, regulation, built_index):
    """The tiny test embedder has its own cosine scale: the calibrated threshold comes from its own scores
    of the gold questions, refuses no in-scope one, is stored in the manifest, and used by the assistant."""
    import numpy as np

    from chatbot.answer import Assistant
    from chatbot.config import Settings
    from chatbot.gold import load_gold
    from chatbot.index import CALIBRATION_MARGIN
    from chatbot.labels import article_refs
    from chatbot.retrieve import Retriever
    from conftest import ROOT

    _, _, emb = built_index
    gold = ROOT / "eval" / "gold.jsonl"
    idx = build(regulation, tmp_path / "i", emb, log=lambda m: None, gold_file=gold)
    cal = idx.manifest["relevance"]
    items = [g for g in load_gold(gold, len(regulation.articles)) if g.in_scope
             and not any(regulation.article(r.article) for r in article_refs(g.question))]
    lowest = min(float(idx.dense_scores(emb.encode_queries([g.question])[0]).max()) for g in items)
    assert cal["lowest_in_scope"] == pytest.approx(lowest, abs=1e-3)
    assert cal["min_relevance"] == pytest.approx(np.floor(lowest * (1 - CALIBRATION_MARGIN) * 100) / 100)
    assert cal["min_relevance"] < lowest and cal["in_scope"] == len(items)
    a = Assistant(Settings(backend="extractive"), Retriever(idx, emb), None)
    assert (a.min_relevance, a.relevance_source) == (cal["min_relevance"], "calibrated on gold.jsonl")
    fixed = Assistant(Settings(backend="extractive", min_relevance="0.5"), Retriever(idx, emb), None)
    assert (fixed.min_relevance, fixed.relevance_source) == (0.5, "setting")  # an explicit setting wins
    # a changed gold file makes the calibration stale
    other = tmp_path / "gold.jsonl"
    other.write_text(gold.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(StaleIndex, match="calibrated"):
        load(regulation, tmp_path / "i", emb.name, gold_file=other)


def test_a_rebuild_embeds_only_the_clauses_it_has_not_seen(index_copy, regulation, kb, tiny_embed_dir):
    """Adding laws to a built index embeds their clauses only; the vectors reused equal fresh ones."""
    from chatbot.embed import Embedder

    class Counting(Embedder):
        seen: list[str] = []

        def encode_documents(self, texts, batch_size=16, progress=False):
            Counting.seen += list(texts)
            return super().encode_documents(texts, batch_size, progress)

    target, _ = index_copy
    embedder = Counting(tiny_embed_dir)
    idx = build(kb, target, embedder, log=lambda m: None)  # index_copy holds the primary's vectors
    primary_texts = {c.search_text for c in regulation.clauses}
    assert not primary_texts & set(Counting.seen)
    assert len(Counting.seen) == len({c.search_text for c in kb.clauses} - primary_texts)
    fresh = Embedder(tiny_embed_dir).encode_documents([regulation.clauses[1].search_text])[0]
    assert np.allclose(idx.dense.reconstruct(1), fresh, atol=1e-5)
    Counting.seen = []
    build(kb, target, embedder, log=lambda m: None)  # nothing new: nothing embedded
    assert Counting.seen == []


BF16_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
OLD_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n"


def test_embedding_dtype_follows_the_cpu_unless_set():
    from chatbot.config import Settings, SettingsError
    from chatbot.embed import native_bf16, resolve_dtype

    assert native_bf16(BF16_CPU) and native_bf16("flags : sse2 amx_bf16 amx_tile") and not native_bf16(OLD_CPU)
    assert not native_bf16("")  # no /proc/cpuinfo: not known to compute bfloat16
    assert resolve_dtype("auto", "cpu", BF16_CPU) == "bfloat16"
    assert resolve_dtype("auto", "cpu", OLD_CPU) == "float32"  # no hardware bfloat16: float32
    assert resolve_dtype("auto", "cuda", BF16_CPU) == "float32"
    assert resolve_dtype("float32", "cpu", BF16_CPU) == "float32"
    assert resolve_dtype("bfloat16", "cpu", OLD_CPU) == "bfloat16"
    with pytest.raises(ValueError, match="auto, float32 or bfloat16"):
        resolve_dtype("fp8")
    with pytest.raises(SettingsError, match="embed_dtype"):
        Settings(embed_dtype="half")


def test_a_bfloat16_embedder_gives_the_float32_vectors_and_its_index_says_so(tmp_path, regulation, built_index,
                                                                             tiny_embed_dir):
    import torch

    _, _, fp32 = built_index
    bf16 = Embedder(tiny_embed_dir, dtype="bfloat16")
    assert fp32.dtype == "float32" and bf16.dtype == "bfloat16"
    assert next(bf16.load().parameters()).dtype == torch.bfloat16
    texts = [c.search_text for c in regulation.clauses[:8]]
    a, b = fp32.encode_documents(texts), bf16.encode_documents(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-6)
    assert float((a * b).sum(axis=1).min()) > 0.99
    d = tmp_path / "i"
    build(regulation, d, bf16, **QUIET)
    assert json.loads((d / "manifest.json").read_text(encoding="utf-8"))["embed_dtype"] == "bfloat16"
    assert load(regulation, d, bf16.name).dense.ntotal == 49  # the same model: usable by either dtype

    class Counting(Embedder):
        seen = 0

        def encode_documents(self, texts, batch_size=16, progress=False):
            Counting.seen += len(texts)
            return super().encode_documents(texts, batch_size, progress)

    build(regulation, d, Counting(tiny_embed_dir, dtype="float32"), **QUIET)
    assert Counting.seen == 49  # vectors of another dtype are not mixed into a rebuild
    assert json.loads((d / "manifest.json").read_text(encoding="utf-8"))["embed_dtype"] == "float32"
