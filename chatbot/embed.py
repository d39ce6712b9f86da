"""Sentence embeddings through sentence-transformers, loaded lazily, from a hub id or a local folder.

Queries and documents are encoded with the model's own query/document prompts when it defines them
(EmbeddingGemma, E5, BGE-style models), and always L2-normalized so that inner product = cosine.
The weights run in bfloat16 on a CPU that computes it natively (`embed_dtype=auto`): about 2.5 times
faster than float32 for EmbeddingGemma, vectors at cosine 0.9995 or more to float32's (README, "Knowledge
base": index build).
When the model cannot be loaded (no network and no local copy, a wrong path) `EmbedderUnavailable`
says which model and what to do; callers fall back to BM25 alone. Indexing lives in `chatbot.index`.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .config import EMBED_DTYPES


class EmbedderUnavailable(RuntimeError):
    """The embedding model could not be loaded; the message says what to do."""


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the model hub answers at all; checked once so an offline start fails in seconds, not minutes."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def is_local(model: str) -> bool:
    return Path(model).expanduser().exists() or model.startswith(("/", "./", "../", "~"))


BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of x86 CPUs with bfloat16 arithmetic
CPUINFO = Path("/proc/cpuinfo")


def native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bfloat16 in hardware (avx512_bf16 or AMX; `auto` keeps float32 elsewhere).
    `cpuinfo`: the text of /proc/cpuinfo (read when None; a system without it has no such CPU known)."""
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    return any(f in flags for f in BF16_FLAGS)


def resolve_dtype(dtype: str, device: str = "cpu", cpuinfo: str | None = None) -> str:
    """The weights' dtype for a setting: auto -> bfloat16 on a CPU with native bfloat16, else float32."""
    if dtype not in EMBED_DTYPES:
        raise ValueError(f"unknown embedding dtype {dtype!r}; choose {', '.join(EMBED_DTYPES[:-1])} or {EMBED_DTYPES[-1]}")
    if dtype != "auto":
        return dtype
    return "bfloat16" if device == "cpu" and native_bf16(cpuinfo) else "float32"


class Embedder:
    """Wraps a SentenceTransformer; `name` is a hub id or a local folder. Loads on first encode.
    `dtype`: the weights' dtype (auto, float32, bfloat16; see `resolve_dtype`), resolved at construction."""

    def __init__(self, name: str, device: str = "cpu", dtype: str = "auto"):
        self.name = name
        self.device = device
        self.dtype = resolve_dtype(dtype, device)
        self._model = None
        self._lock = threading.Lock()

    def load(self):
        with self._lock:
            if self._model is None:
                self._model = _load(self.name, self.device, self.dtype)
        return self._model

    def encode_documents(self, texts: list[str], batch_size: int = 16, progress: bool = False) -> np.ndarray:
        m = self.load()
        enc = getattr(m, "encode_document", m.encode)
        return self._finish(enc(texts, batch_size=batch_size, show_progress_bar=progress,
                                normalize_embeddings=True, convert_to_numpy=True))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        m = self.load()
        enc = getattr(m, "encode_query", m.encode)
        return self._finish(enc(texts, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False))

    @staticmethod
    def _finish(vectors) -> np.ndarray:
        """float32 unit vectors: normalized again in float32, since bfloat16 weights normalize to ±0.2%."""
        v = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(v, axis=-1, keepdims=True)
        return np.ascontiguousarray(v / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _load(name: str, device: str, dtype: str = "float32"):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise EmbedderUnavailable("sentence-transformers is not installed; run `pip install -r requirements.txt`") from e
    path = Path(name).expanduser()
    if is_local(name):
        if not path.exists():
            raise EmbedderUnavailable(f"embedding model folder {path} does not exist; pass an existing folder "
                                      "or a hub id with --embed-model / CHATBOT_EMBED_MODEL")
        source, local_only = str(path), True
    else:
        source = name
        local_only = not hub_reachable()
    kwargs = {}
    if dtype != "float32":
        import torch

        kwargs["model_kwargs"] = {"torch_dtype": getattr(torch, dtype)}
    try:
        return SentenceTransformer(source, device=device, local_files_only=local_only, **kwargs)
    except Exception as e:  # noqa: BLE001 - any load failure means the same to the user
        where = "the model hub is unreachable and there is no local copy" if local_only and not is_local(name) \
            else f"{type(e).__name__}: {e}"
        raise EmbedderUnavailable(
            f"cannot load embedding model {name!r} ({where}); set --embed-model or CHATBOT_EMBED_MODEL "
            "to a local sentence-transformers folder to enable dense retrieval") from e


def load_embedder(settings) -> tuple[Embedder | None, str | None]:
    """The configured embedder, loaded, or (None, a notice for the user saying why retrieval is BM25 only)."""
    if not settings.dense_enabled:
        return None, "语义检索已关闭（embed_model=none），仅使用关键词检索（BM25）。"
    embedder = Embedder(settings.embed_model, dtype=settings.embed_dtype)
    try:
        embedder.load()
    except EmbedderUnavailable as e:
        return None, f"语义检索未启用，仅使用关键词检索（BM25）：{e}"
    return embedder, None
