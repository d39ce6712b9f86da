"""Gold question sets: one JSON object a line with id, question, articles (empty = out of scope),
key_points and type, optionally yes_no. Validation reports every bad line by number.

The answer path uses them once, to calibrate the relevance gate when the index is built
(`chatbot.index`); the evaluation (`chatbot.tools.evaluate`) scores against them.
"""

from __future__ import annotations

import json
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

    @property
    def in_scope(self) -> bool:
        return bool(self.articles)


def load_gold(path: str | Path, n_articles: int) -> list[GoldItem]:
    """Read and validate a gold JSONL file; every problem is reported with its line number."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise GoldError(f"cannot read gold file {p}: {e.strerror}") from e
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
        if not isinstance(arts, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in arts):
            errors.append(f"line {no}: 'articles' must be a list of integers")
            continue
        bad = [a for a in arts if not PREAMBLE <= a <= n_articles]
        if bad:
            errors.append(f"line {no}: article(s) {bad} outside the regulation (1..{n_articles}, "
                          f"or {PREAMBLE} for the title and adoption note)")
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
        items.append(GoldItem(str(obj["id"]), obj["question"], tuple(arts), tuple(obj["key_points"]),
                              str(obj["type"]), obj.get("yes_no", False)))
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise GoldError(f"{p} has {len(errors)} bad line(s):\n  " + "\n  ".join(shown))
    if not items:
        raise GoldError(f"{p} holds no questions")
    return items
