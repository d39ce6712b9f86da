"""Citation checking: every 【label】 a model writes is verified against the clauses it was given.

Labels shown to the user are built from clauses, never copied from model text: a label the model writes
is parsed (`chatbot.labels`), resolved in the regulation, and kept only when it names a clause the model
was given. Uncited sentences get a label only when one given clause clearly supports them. Support is
lexical (character bigrams); it cannot see paraphrase or negation, which the README states.

What it leaves to others: generation and refusals (`chatbot.answer`), the label grammar (`chatbot.labels`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .corpus import Article, Clause, Regulation
from .labels import find_labels

# a sentence is supported by a clause when at least this share of its character bigrams occur in it;
# the same threshold decides citation repair here and the faithfulness metric in the evaluation
MIN_SUPPORT = 0.5
# ... and a repaired citation needs this lead over the next-best clause, so an ambiguous sentence stays uncited
SUPPORT_MARGIN = 0.1
# sentences shorter than this many bigrams are too short to attribute to a clause by overlap
MIN_BIGRAMS_TO_REPAIR = 4

BRACKETS = re.compile(r"[【\[]([^【】\[\]]{1,60})[】\]]")
SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?(?:\s*【[^】]*】)*")


def bigrams(text: str) -> set[str]:
    """Character bigrams of the word characters: bigrams("技术改造。") -> {"技术", "术改", "改造"}."""
    t = re.sub(r"[^\w]", "", text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def support(sentence: str, clause: Clause) -> float:
    """Share of the sentence's character bigrams found in the clause (0..1): lexical support.

    support("可以采取无偿补助方式", clause_10_1) is high; it cannot see paraphrase or negation.
    """
    s = bigrams(re.sub(r"【[^】]*】", "", sentence))
    return len(s & bigrams(clause.text)) / len(s) if s else 0.0


def is_supported(sentence: str, clauses: list[Clause]) -> bool:
    """Whether some clause supports the sentence at MIN_SUPPORT."""
    return max((support(sentence, c) for c in clauses), default=0.0) >= MIN_SUPPORT


@dataclass
class CitationCheck:
    text: str               # the answer with only verified labels, in canonical form
    cited: list[Clause]     # the clauses cited, in order of first citation
    removed: list[str]      # labels that failed the check (unknown, not given, or naming no article)
    added: list[str]        # labels added to uncited sentences


def check_citations(answer: str, given: list[Clause], regulation: Regulation,
                    min_support: float = MIN_SUPPORT, margin: float = SUPPORT_MARGIN) -> CitationCheck:
    """Verify every 【label】 in a model answer against the clauses it was given, and repair.

    - a label naming a clause that does not exist, or one not given to the model, is removed;
    - 【第十条】 for a multi-paragraph article becomes the given paragraph that best supports the sentence;
    - a sentence without a label gets the given clause that supports it best, when that support is at
      least `min_support` and ahead of the runner-up by `margin`;
    - a sentence naming an article that does not exist (第三十条) is dropped.
    """
    given_ids = {c.id for c in given}
    removed: list[str] = []
    added: list[str] = []
    cited: list[Clause] = []
    out_sentences: list[str] = []

    def resolve(raw: str, sentence: str) -> list[tuple[str, Clause]]:
        found = []
        for _, ref in find_labels(raw):
            target = regulation.resolve(ref)
            item = ref.item
            if isinstance(target, Article):
                options = [c for c in target.clauses if c.id in given_ids]
                target = max(options, key=lambda c: support(sentence, c)) if options else None
                item = None
            if target is None or target.id not in given_ids:
                removed.append(ref.full)
                continue
            found.append((regulation.cite(target, item), target))
        return found

    for sentence in SENTENCE.findall(answer):
        if not sentence.strip():
            continue
        body = BRACKETS.sub("", sentence)
        bad_mention = [m for m, ref in find_labels(body) if regulation.resolve(ref) is None]
        if bad_mention:
            removed.extend(m.group(0) for m in bad_mention)
            continue
        labels: list[tuple[str, Clause]] = []
        for m in BRACKETS.finditer(sentence):
            labels.extend(resolve(m.group(1), body))
        body = body.rstrip()
        if not labels and len(bigrams(body)) >= MIN_BIGRAMS_TO_REPAIR and given:
            ranked = sorted(given, key=lambda c: -support(body, c))
            best = support(body, ranked[0])
            runner = support(body, ranked[1]) if len(ranked) > 1 else 0.0
            if best >= min_support and best - runner >= margin:
                labels = [(ranked[0].label, ranked[0])]
                added.append(ranked[0].label)
        seen_here: list[str] = []
        for label, clause in labels:
            if label not in seen_here:
                seen_here.append(label)
            if clause not in cited:
                cited.append(clause)
        out_sentences.append(body + "".join(f"【{x}】" for x in seen_here))
    return CitationCheck("".join(out_sentences).strip(), cited, removed, added)


def basis_list(citations: list[Clause]) -> str:
    """The closing line of an answer: 依据：【第十条第一款】【第十八条】."""
    return "依据：" + "".join(f"【{c.label}】" for c in citations)
