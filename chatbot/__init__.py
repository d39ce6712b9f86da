"""Policy Q&A over the Jiangxi Province Advanced Manufacturing Promotion Regulations (2024) and a
knowledge base of related laws.

The public names below are imported on first use, so `import chatbot` stays cheap: the tokenizer, BM25
and numpy load only when retrieval is used.
"""

from importlib import import_module

_PUBLIC = {
    "Settings": "config", "from_env": "config",
    "Article": "corpus", "Clause": "corpus", "Regulation": "corpus",
    "load_regulation": ("corpus", "load"), "parse_regulation": ("corpus", "parse"),
    "KnowledgeBase": "kb", "load_kb": "kb", "read_document": "formats",
    "Label": "labels", "parse_label": "labels", "format_label": "labels",
    "Hit": "retrieve", "Retrieval": "retrieve", "Retriever": "retrieve", "open_retriever": "retrieve",
    "Answer": "answer", "Assistant": "answer",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    where = _PUBLIC.get(name)
    if where is None:
        raise AttributeError(f"module 'chatbot' has no attribute {name!r}")
    module, attr = where if isinstance(where, tuple) else (where, name)
    value = getattr(import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value
