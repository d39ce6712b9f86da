"""Shared fixtures: the real corpus, a tiny sentence-transformers model built on the spot, tiny Qwen2
models (random, and scripted to say one token then stop), and `FakeLLM`, a fake model that records
the prompts it was given.

The tiny model is a 2-layer BERT with a character vocabulary taken from the corpus, saved as a real
sentence-transformers folder, so tests exercise the same loading and encoding code as real models
without downloading anything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import chatbot.embed
from chatbot.llm import LLM, LLMError

# The tiny embedder runs in float32 on every CPU, so that no result depends on whether this CPU computes
# bfloat16 natively (embed_dtype=auto); tests of the bfloat16 path name it, or give a CPU's flags.
chatbot.embed.CPUINFO = Path(os.devnull)
EMBED_DTYPE = "CHATBOT_EMBED_DTYPE"  # the one setting the command-line runs of the tests keep from this process
os.environ.setdefault(EMBED_DTYPE, "float32")


def child_env() -> dict[str, str]:
    """This process's environment for a command-line or app run in a test: no CHATBOT_* setting of the
    machine's, except the embedding dtype the tests pin."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_") or k == EMBED_DTYPE}

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
CORPUS_FILE = CORPUS_DIR / "jiangxi-advanced-manufacturing-promotion-regulations-2024.md"  # the primary one


def has_llama() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    """Tests marked `llama` need the optional llama-cpp-python (it compiles); without it they are skipped,
    and the default set-up (requirements.txt) is tested on its own."""
    if not has_llama():
        skip = pytest.mark.skip(reason="llama-cpp-python is not installed (pip install -r requirements-llama.txt)")
        for item in items:
            if "llama" in item.keywords:
                item.add_marker(skip)


class FakeLLM(LLM):
    """Returns scripted text in small pieces and records every prompt it was given."""

    backend = "fake"

    def __init__(self, reply: str | list[str] = "", fail_after: int | None = None):
        super().__init__("fake-model")
        # a list of replies is given one per call, the last one repeated
        self.replies = [reply] if isinstance(reply, str) else list(reply)
        self.fail_after, self.prompts = fail_after, []

    def stream(self, messages, max_new_tokens=256):
        reply = self.replies[min(len(self.prompts), len(self.replies) - 1)]
        self.prompts.append(messages)
        for i in range(0, len(reply), 4):
            if self.fail_after is not None and i >= self.fail_after:
                raise LLMError("fake failure")
            yield reply[i:i + 4]


@pytest.fixture(scope="session")
def regulation():
    from chatbot import corpus

    return corpus.load(CORPUS_FILE)


def _char_vocab() -> list[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.glob("*.md")))
    text += "".join((ROOT / "eval" / g).read_text(encoding="utf-8") for g in ("gold.jsonl", "gold_related.jsonl"))
    chars = sorted({ch for ch in text if not ch.isspace()})
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars


@pytest.fixture(scope="session")
def tiny_embed_dir(tmp_path_factory) -> str:
    """A tiny random BERT sentence-transformers model (mean pooling, normalized), as a local folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(0)
    base = tmp_path_factory.mktemp("tiny-bert")
    (base / "vocab.txt").write_text("\n".join(_char_vocab()) + "\n", encoding="utf-8")
    tok = BertTokenizer(str(base / "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=True)
    cfg = BertConfig(vocab_size=len(tok.vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    BertModel(cfg).save_pretrained(base)
    tok.save_pretrained(base)
    word = models.Transformer(str(base), max_seq_length=256)
    pool = models.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    out = tmp_path_factory.mktemp("tiny-st")
    SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu").save(str(out))
    shutil.rmtree(base)
    return str(out)


def _tiny_index(tmp_path_factory, regulation, tiny_embed_dir, name: str):
    from chatbot.embed import Embedder
    from chatbot.index import build

    d = tmp_path_factory.mktemp(name) / "index"
    embedder = Embedder(tiny_embed_dir)
    return d, build(regulation, d, embedder, log=lambda m: None), embedder


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, regulation, tiny_embed_dir):
    """An index of the primary regulation built with the tiny model; tests that modify an index copy it first."""
    return _tiny_index(tmp_path_factory, regulation, tiny_embed_dir, "index")


@pytest.fixture(scope="session")
def kb():
    """The shipped knowledge base: the primary regulation and the related laws, both payment versions."""
    from chatbot.kb import load_kb

    return load_kb(CORPUS_DIR)


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory, kb, tiny_embed_dir):
    """An index of the whole knowledge base built with the tiny model."""
    return _tiny_index(tmp_path_factory, kb, tiny_embed_dir, "kb-index")


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> str:
    from tiny_models import make_tiny_qwen2

    return str(make_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen")))


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> str:
    from tiny_models import make_tiny_gguf

    return str(make_tiny_gguf(tmp_path_factory.mktemp("tiny-gguf") / "tiny-qwen2.gguf"))


@pytest.fixture(scope="session")
def scripted_qwen_dir(tmp_path_factory) -> str:
    """A tiny Qwen2 folder that answers `tiny_models.script_token()` and then its end token."""
    from tiny_models import make_tiny_qwen2, script_token

    return str(make_tiny_qwen2(tmp_path_factory.mktemp("scripted-qwen"), script=script_token()))


@pytest.fixture(scope="session")
def scripted_gguf(tmp_path_factory) -> str:
    from tiny_models import make_tiny_gguf, script_token

    return str(make_tiny_gguf(tmp_path_factory.mktemp("scripted-gguf") / "scripted.gguf", script=script_token()))


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the session (`pg_cluster`); `.new_database()` gives a fresh URL."""
    import pg_cluster

    bindir = pg_cluster.find_bindir()
    if bindir is None:
        why = ("PostgreSQL server programs (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin "
               "or on PATH; install Debian's postgresql package (.ci/run does)")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; under CI the PostgreSQL tests must run, not be skipped")
        pytest.skip(why)
    with pg_cluster.running(bindir) as cluster:
        yield cluster
