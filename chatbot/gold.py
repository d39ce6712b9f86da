"""Gold question sets: one JSON object a line with id, question, articles (empty = out of scope),
key_points and type, optionally yes_no and regulation. Validation reports every bad line by number.

`regulation` is the id of the law the question is about (default: the primary regulation); its articles
are integers, and an article of another law is written "<regulation id>:<number>" (a question that needs
two laws): {"regulation": "sme-promotion-law-2017", "articles": [8, "jiangxi-…-2024:10"], ...}.

The answer path uses them once, to calibrate the relevance gate when the index is built
(`chatbot.index`); the evaluation (`chatbot.tools.evaluate`) scores against them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .labels import PREAMBLE

REQUIRED_KEYS = ("id", "question", "articles", "key_points", "type")


class GoldError(ValueError):
    """The gold file is malformed; the message lists every bad line by number."""


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    articles: tuple[int, ...]       # gold articles (0: the title and adoption note); empty = out of scope
    key_points: tuple[str, ...]     # phrases of the gold clauses a correct answer contains
    type: str                       # colloquial, enterprise, citizen, official, ..., out_of_scope
    yes_no: bool = False            # a yes/no question: the answer should start with 可以/能/有/是/不/没有...
    regulation: str = ""            # the law it is about (an id); "" = the primary regulation
    refs: tuple[tuple[str, int], ...] = ()  # every gold article as (regulation id, number); "" = the primary

    @property
    def in_scope(self) -> bool:
        return bool(self.refs or self.articles)

    def gold(self, primary: str = "") -> set[tuple[str, int]]:
        """The gold articles as (regulation id, number), "" (the primary) spelled `primary`."""
        refs = self.refs or tuple((self.regulation, a) for a in self.articles)
        return {(r or primary, a) for r, a in refs}


def load_gold(path: str | Path, n_articles) -> list[GoldItem]:
    """Read and validate a gold JSONL file; every problem is reported with its line number.

    `n_articles` is the primary regulation's article count, or a knowledge base (`chatbot.kb`), which
    also checks the regulations and articles of every other law named."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise GoldError(f"cannot read gold file {p}: {e.strerror}") from e
    kb = None if isinstance(n_articles, int) else n_articles
    if kb is not None:
        primary = kb.primary.id
        n_articles = len(kb.primary.articles)
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
        reg = obj.get("regulation") or ""
        refs = _refs(arts, reg)
        if refs is None:
            errors.append(f"line {no}: 'articles' must be a list of integers (or \"regulation-id:number\")")
            continue
        problem = _check_refs(refs, n_articles, kb)
        if problem:
            errors.append(f"line {no}: {problem}")
            continue
        if not isinstance(obj["question"], str) or not obj["question"].strip():
            errors.append(f"line {no}: 'question' must be a non-empty string")
            continue
        if not isinstance(obj["key_points"], list) or not all(isinstance(k, str) for k in obj["key_points"]):
            errors.append(f"line {no}: 'key_points' must be a list of strings")
            continue
        if not isinstance(obj.get("yes_no", False), bool):
            errors.append(f"line {no}: 'yes_no' must be true or false")
            continue
        if obj["id"] in seen:
            errors.append(f"line {no}: duplicate id {obj['id']!r}")
            continue
        seen.add(obj["id"])
        if kb is not None and reg == primary:
            reg = ""
        refs = tuple(("" if kb is not None and r == primary else r, a) for r, a in refs)
        items.append(GoldItem(str(obj["id"]), obj["question"], tuple(a for r, a in refs if r == reg),
                              tuple(obj["key_points"]), str(obj["type"]), obj.get("yes_no", False), reg, refs))
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise GoldError(f"{p} has {len(errors)} bad line(s):\n  " + "\n  ".join(shown))
    if not items:
        raise GoldError(f"{p} holds no questions")
    return items


def _refs(arts, reg: str) -> list[tuple[str, int]] | None:
    """(regulation, article) pairs from a gold line's articles, or None when one is malformed."""
    if not isinstance(arts, list):
        return None
    out = []
    for a in arts:
        if isinstance(a, int) and not isinstance(a, bool):
            out.append((reg, a))
        elif isinstance(a, str) and re.fullmatch(r"[^:\s]+:\d+", a):
            r, n = a.rsplit(":", 1)
            out.append((r, int(n)))
        else:
            return None
    return out


def _check_refs(refs: list[tuple[str, int]], n_articles: int, kb) -> str:
    """What is wrong with a line's gold articles ("" when nothing is)."""
    bad = []
    for r, a in refs:
        if kb is None or not r:
            if r and kb is None:
                continue  # another law's article: checked when a knowledge base is given
            if not PREAMBLE <= a <= n_articles:
                bad.append(a)
            continue
        law = kb.get(r)
        if law is None:
            return f"unknown regulation {r!r}; the knowledge base holds {', '.join(x.id for x in kb.regulations)}"
        if a != PREAMBLE and law.article(a) is None:
            return f"article {a} is not in {r} (1..{len(law.articles)})"
    if bad:
        return (f"article(s) {bad} outside the regulation (1..{n_articles}, "
                f"or {PREAMBLE} for the title and adoption note)")
    return ""
