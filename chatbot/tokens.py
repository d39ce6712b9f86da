"""Chinese tokenization for BM25: jieba with the regulation's terms kept whole, stop words removed.
Questions written in traditional characters are read in simplified ones (`simplified`).

The tokenizer is its own `jieba.Tokenizer` (not jieba's global one), so loading our user dictionary
never changes tokenization elsewhere in the process. Terms such as 链长制, 首席质量官, 亩产效益,
产教融合 and 峰谷分时电价 are in `data/userdict.txt`; `data/stopwords.txt` lists function words and
question words that carry no meaning for retrieval. `data/synonyms.txt` maps everyday words to the
regulation's own (技改 -> 技术改造, 工信局 -> 工业和信息化主管部门) for query expansion.

    tokenize("企业怎么申请首席质量官？") -> ['企业', '申请', '首席', '质量', '首席质量官']

A `Tokenizer` bundles one choice of dictionary for documents, queries and query expansion alike; the
BM25 index is built with one and keeps it (`chatbot.index`), so documents and questions never differ.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

DATA = Path(__file__).parent / "data"
USER_DICT = DATA / "userdict.txt"
STOP_WORDS = DATA / "stopwords.txt"
SYNONYMS = DATA / "synonyms.txt"

jieba.setLogLevel(logging.WARNING)
_lock = threading.Lock()


@lru_cache(maxsize=None)
def _tokenizer(user_dict: bool) -> jieba.Tokenizer:
    tk = jieba.Tokenizer()
    tk.initialize()
    if user_dict:
        tk.load_userdict(str(USER_DICT))
    return tk


@lru_cache(maxsize=None)
def stop_words() -> frozenset[str]:
    return frozenset(w.strip() for w in STOP_WORDS.read_text(encoding="utf-8").splitlines() if w.strip())


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """A question in traditional characters, in simplified ones (OpenCC's t2s; simplified text is kept as is),
    so that its words match the laws' text and the question patterns: 這個條例什麼時候生效 -> 这个条例什么时候生效."""
    return _t2s().convert(text) if text else text


def _is_content(token: str) -> bool:
    """Keep tokens with at least one letter, digit or CJK character; punctuation and spaces go."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def tokenize(text: str, user_dict: bool = True) -> list[str]:
    """Search-mode jieba tokens (whole words plus their sub-words), lower-cased, stop words removed."""
    norm = unicodedata.normalize("NFKC", text).lower()
    with _lock:  # jieba's lazy initialisation is not thread-safe
        tk = _tokenizer(user_dict)
    stops = stop_words()
    return [t for t in tk.lcut_for_search(norm, HMM=True) if _is_content(t) and t not in stops]


def words(text: str) -> list[str]:
    """The words of a text as jieba cuts it with the user dictionary, punctuation included, nothing removed:
    words("专家咨询委员会是民间成立的吗") -> ['专家咨询委员会', '是', '民间', '成立', '的', '吗']."""
    with _lock:
        tk = _tokenizer(True)
    return tk.lcut(text, HMM=True)


@lru_cache(maxsize=None)
def synonyms() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """((regulation terms), (everyday variants, lower-cased)) pairs from data/synonyms.txt."""
    out = []
    for no, line in enumerate(SYNONYMS.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.count("|") != 1:
            raise ValueError(f"{SYNONYMS}:{no}: expected 'terms | variants'")
        terms, variants = (tuple(part.split()) for part in line.split("|"))
        out.append((terms, tuple(v.lower() for v in variants)))
    return tuple(out)


def mentions(text: str, variant: str) -> bool:
    """Whether `text` says `variant`: a Latin abbreviation (pe, vc, ipo) only as a word of its own, so
    "pe" matches "PE基金" but not "type"; anything else as a substring."""
    if variant.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(variant)}(?![a-z0-9])", text) is not None
    return variant in text


def expand_query(question: str, user_dict: bool = True) -> list[str]:
    """Regulation terms for the everyday words in a question, tokenized like documents.

    expand_query("技改有补贴吗") -> tokens of 技术改造, 资金, 财政贴息, 风险补偿, 事后奖补
    """
    return [tok for t in expansion_terms(question) for tok in tokenize(t, user_dict=user_dict)]


def expansion_terms(question: str) -> list[str]:
    """The regulation's terms for the everyday words in a question, as data/synonyms.txt writes them.

    expansion_terms("每亩地的产出要打分吗") -> ["用地", "土地", "亩产效益"]
    """
    norm = unicodedata.normalize("NFKC", question).lower()
    return [t for terms, variants in synonyms() if any(mentions(norm, v) for v in variants) for t in terms]


@dataclass(frozen=True)
class Tokenizer:
    """One tokenization for an index: documents, queries and expansions all go through it."""

    user_dict: bool = True  # keep the regulation's terms whole (data/userdict.txt); off only for the ablation

    def __call__(self, text: str) -> list[str]:
        return tokenize(text, user_dict=self.user_dict)

    def query(self, question: str, expand: bool = True) -> list[str]:
        """A question's tokens, plus the regulation's terms for its everyday words when `expand`."""
        return self(question) + (expand_query(question, self.user_dict) if expand else [])
