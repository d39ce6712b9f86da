"""Policy Q&A over the Jiangxi Province Advanced Manufacturing Promotion Regulations (2024)."""

from .config import Settings, from_env
from .corpus import Article, Clause, Regulation, load as load_regulation, parse as parse_regulation
from .retrieve import Hit, Retrieval, Retriever, open_retriever

__all__ = ["Article", "Clause", "Hit", "Regulation", "Retrieval", "Retriever", "Settings", "from_env",
           "load_regulation", "open_retriever", "parse_regulation"]
