"""Follow-up questions: rewrite "那资金方面呢？" or "第二款呢？" into a standalone question from the history.

Rules, not a model, so rewriting is instant, deterministic and cannot be talked out of the regulation:
    - a question that names an article (第十条) stands alone;
    - 第二款呢 / 第三项 without an article gets the article of the last answer: 第十条第二款呢；
    - 这条 / 该条 / 本条 / 这一条 / 上一条 become that article: 第十条谁负责执行？;
    - an elliptical follow-up (那…、还有…、…呢, or a very short question) keeps the user's words and
      adds the previous standalone question as context, so both are in retrieval.
History is bounded: only the last few turns are kept (Settings.history_turns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .labels import NUM, article_refs, format_label

DEMONSTRATIVE = re.compile(r"(这一条|这条|该条|本条|此条|上一条|上面这条|上面那条|刚才那条|这个条款|那条)")
PARAGRAPH_ONLY = re.compile(rf"^(?:那|那么)?\s*(第\s*{NUM}\s*[款项])")  # 第二款呢: a part without its article
ELLIPTICAL_START = ("那", "那么", "还有", "另外", "此外", "再问", "再说", "然后", "以及", "和", "跟", "其他", "别的")


@dataclass(frozen=True)
class Turn:
    question: str                 # what the user typed
    standalone: str               # the question used for retrieval and the prompt
    articles: tuple[int, ...]     # articles the answer cited, most relevant first
    regulation: str = ""          # the regulation (id) of the first of them: what a bare 第十条 then means


def _cjk_len(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


def is_elliptical(question: str) -> bool:
    q = question.strip()
    return q.startswith(ELLIPTICAL_START) or q.rstrip("？?。！! ").endswith("呢") or _cjk_len(q) <= 5


def rewrite(question: str, history: list[Turn]) -> str:
    """The standalone form of `question` given the conversation so far (oldest turn first).

    rewrite("第二款呢？", [Turn("技改支持", "技改支持", (10,))]) -> "第十条第二款呢？"
    rewrite("这条谁负责执行？", [Turn("链长制", "链长制", (8,))]) -> "第八条谁负责执行？"
    rewrite("那资金方面呢？", [Turn("技改支持", "技改支持", (10,))]) -> "那资金方面呢？（接上一问：技改支持）"
    """
    q = question.strip()
    if not history or article_refs(q):
        return q
    last = history[-1]
    art = last.articles[0] if last.articles else None
    if art is not None:
        label = format_label(art)
        if PARAGRAPH_ONLY.match(q):
            return PARAGRAPH_ONLY.sub(lambda m: f"{label}{m.group(1)}", q, count=1)
        if DEMONSTRATIVE.search(q):
            return DEMONSTRATIVE.sub(label, q, count=1)
    if is_elliptical(q):
        return f"{q}（接上一问：{last.standalone}）"
    return q


def bounded(history: list[Turn], turns: int) -> list[Turn]:
    """The last `turns` turns: what is kept of a conversation."""
    return history[-turns:] if turns > 0 else []
