"""The shape of an answer as a reader sees it: a direct first sentence, then at most three cited points,
within a length budget, each label shown once at the end of its run of sentences.

A small model does not always answer in this shape, so the pipeline enforces it after the citation check
(`chatbot.citations`), which has already dropped echoes, refusal phrases and unsupported sentences:

    question 企业能不能共享高校的大型科研仪器？  model 是的，企业可以共享。推动……开放共享。【第九条第三款】
    -> 能。推动重大科研基础设施设备与大型科研仪器向先进制造业企业开放共享。【第九条第三款】

What it leaves to others: which sentences are true to their clauses (`chatbot.citations`), prompts and
refusals (`chatbot.answer`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from .citations import BRACKETS, SENTENCE, Sentence, is_bare_answer, restates

# a yes/no question and the two answers it admits: 能不能 -> 能 / 不能, 有没有 -> 有 / 没有, ...
YES_NO = [
    (re.compile(r"有没有|有无|有.{0,20}吗"), ("有", "没有")),
    (re.compile(r"可不可以|可否|可以.{0,20}吗"), ("可以", "不可以")),
    (re.compile(r"需不需要|要不要|需要.{0,20}吗"), ("需要", "不需要")),
    (re.compile(r"能不能|能否|能.{0,20}吗"), ("能", "不能")),
    (re.compile(r"会不会|会.{0,20}吗"), ("会", "不会")),
    (re.compile(r"算不算|算.{0,20}吗"), ("算", "不算")),
    (re.compile(r"是不是|是否|是.{0,20}吗"), ("是", "不是")),
    (re.compile(r"吗[？?。！!\s]*$"), ("是", "不是")),
]
MAX_POINTS = 3          # cited points after the direct answer


def yes_no(question: str) -> tuple[str, str] | None:
    """The (yes, no) answer words of a yes/no question, or None for other questions.

    yes_no("企业能不能享受同等优惠？") -> ("能", "不能");  yes_no("有哪些支持？") -> None
    """
    if re.search(r"哪些|哪个|哪里|什么|怎么|怎样|如何|多少|为什么|为啥|谁", question):
        return None
    for pattern, answers in YES_NO:
        if pattern.search(question):
            return answers
    return None


def polarity(text: str, answers: tuple[str, str], question: str) -> str | None:
    """The answer the model gave in its first sentence, if it gave one: a sentence that starts with the
    answer word, or one that restates the question with its answer in it (the negative form is looked
    for first, since it contains the positive one: 不会 contains 会).

    polarity("江西大力发展制造业，不会不顾环保。", ("会", "不会"), "江西大力发展制造业，会不会不顾环保？") -> "不会"
    polarity("县级以上人民政府有关部门应当……", ("有", "没有"), "有没有支持？") -> None
    """
    sentences = [BRACKETS.sub("", s).strip() for s in SENTENCE.findall(text)]
    first = next((s for s in sentences if s and not s.endswith(("？", "?"))), "")  # past a repeated question
    yes, no = answers
    for word in (no, yes):
        if first.startswith(word):
            return word
    if first.startswith(("是的", "对，", "对。")):
        return yes  # a plain yes, whatever the question's verb
    if first.startswith(("不", "没有", "否")):
        return no
    if not restates(first, question) or re.search(rf"{yes}[不没]{yes}|是否|能否|可否|有无", first):
        return None  # not an answer, or the question itself repeated
    return no if no in first else (yes if yes in first else None)


def shape(sentences: list[Sentence], question: str, raw: str,
          max_chars: int) -> tuple[list[Sentence], list[tuple[str, str]]]:
    """The answer's sentences in reading order, and (why, sentence) for those left out.

    Every sentence is cited, except a direct answer word first: for a yes/no question, the answer word
    of the model's own first sentence (`polarity`); an open question gets none (a model's "能。" before
    "哪些支持" is dropped). Then at most MAX_POINTS cited sentences, as many as fit in `max_chars`
    characters (labels not counted); a first point too long on its own is cut at a comma or list mark,
    and a cut list ends with 等.
    """
    dropped: list[tuple[str, str]] = []
    out: list[Sentence] = []
    answers = yes_no(question)
    word = polarity(raw, answers, question) if answers else None
    if word:
        out.append(Sentence(f"{word}。"))
    for s in sentences:
        if not s.labels:
            dropped.append(("answer word" if is_bare_answer(s.text) else "no citation", s.text))
        elif sum(1 for x in out if x.labels) >= MAX_POINTS:
            dropped.append(("more than three points", s.text))
        else:
            out.append(s)
    return fit(out, max_chars, dropped), dropped


def fit(sentences: list[Sentence], max_chars: int, dropped: list[tuple[str, str]]) -> list[Sentence]:
    """Keep sentences while they fit in `max_chars`; cut the first cited point if it alone is too long."""
    out: list[Sentence] = []
    used = 0
    for s in sentences:
        if used + len(s.text) <= max_chars:
            out.append(s)
            used += len(s.text)
        elif not any(x.labels for x in out) and s.labels:
            out.append(replace(s, text=cut(s.text, max_chars - used)))
            used = max_chars
        else:
            dropped.append(("over the length budget", s.text))
    return out


def cut(text: str, limit: int) -> str:
    """The longest head of `text` within `limit` characters that ends at a comma or list mark.

    cut("支持甲、乙、丙和丁等方式。", 7) -> "支持甲、乙等。"  (a cut list says so with 等)
    """
    head = text[:max(limit - 1, 1)]
    pos = max(head.rfind(x) for x in "，、；,;")
    if pos <= 0:
        return head.rstrip("，、；,;") + "。"
    return head[:pos] + ("等。" if head[pos] == "、" else "。")


def render(sentences: list[Sentence]) -> str:
    """Sentences with their labels; the same labels on consecutive sentences are shown once, at the end.

    [可以。] [A【第十条】] [B【第十条】] -> "可以。AB【第十条】"
    """
    parts = []
    for i, s in enumerate(sentences):
        following = sentences[i + 1].labels if i + 1 < len(sentences) else None
        parts.append(s.text + ("" if s.labels == following else "".join(f"【{x}】" for x in s.labels)))
    return "".join(parts)
