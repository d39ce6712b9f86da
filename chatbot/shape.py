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

from .citations import BRACKETS, CJK_RUN, SENTENCE, WRAPPED_WORD, Sentence, is_bare_answer, restates
from .corpus import is_subsequence
from .labels import article_refs, parse_label
from .tokens import expansion_terms, words

# a yes/no question and the two answers it admits: 能不能 -> 能 / 不能, 有没有 -> 有 / 没有, ...
# (traditional characters too: 有沒有, 嗎)
# (matched on the question with the modal characters of other words masked: `_modals_only`)
YES_NO = [
    # (国有, 所有, 具有 …, 有关部门, 有效 …: words of their own, not 有 "is there"; 有关系吗 is)
    (re.compile(r"有[没沒]有|有无|(?<![国所没沒具拥享占含持共富现特固只])有(?!关(?!系)|效|限|利于|益)[^，,]{0,20}[吗嗎]"),
     ("有", "没有")),
    (re.compile(r"可不可以|可否|可以.{0,20}[吗嗎]"), ("可以", "不可以")),
    (re.compile(r"需不需要|要不要(?!求)|需要.{0,20}[吗嗎]"), ("需要", "不需要")),
    (re.compile(r"能不能|能否|能.{0,20}[吗嗎]"), ("能", "不能")),
    (re.compile(r"会不会|会.{0,20}[吗嗎]"), ("会", "不会")),
    (re.compile(r"要[^，,]{0,20}[吗嗎]"), ("要", "不要")),
    # (打算, 计算, 预算, 就算 …: words of their own, not 算 "count as")
    (re.compile(r"算不算|(?<![打计预核结清测换推估盘就])算.{0,20}[吗嗎]"), ("算", "不算")),
    (re.compile(r"是不是|是否|是.{0,20}[吗嗎]"), ("是", "不是")),
]
# a word holding a modal's character is no modal: 委员会, 社会, 能源, 技能, 重要, 要求, 还要 (做…) are masked;
# 会, 能, 能够, 要, 需要, 可以, 不会, 能不能, 也能 … are kept, and so are 能先, 要再, 能不 (jieba's words for a
# modal and the word next to it: 没有预算，能先采购吗 asks 能 / 不能, 这种我能不去吗 too)
MODAL_CHARS = re.compile(r"[会能要]")
MODAL_WORD = re.compile(r"(?:[我你他她它咱]们?)?(?:[也就才都又还后]?不?(?:会|能|能够|要|需要|可以|能否|可否|需不需要|会不会|"
                        r"能不能|要不要))+[先再不]?")
# X不X with a two-character verb: 支不支持 -> 支持 / 不支持; any other X不X: 给不给 -> 给 / 不给
TWO_CHARACTER = re.compile(r"(支|属|享|允|鼓|符|包|涉|适|提|补|扶|要|欢|同)不\1(持|于|受|许|励|合|括|及|用|供|贴|助|求|迎|意)")
X_NOT_X = re.compile(r"([\u4e00-\u9fff])不\1")
WORD_NOT_WORD = re.compile(r"([\u4e00-\u9fff]{2})不\1")
# ... but not an adjective: 放贷松不松 is no yes/no question a clause answers with 松 or 不松
ADJECTIVES = "松紧多少大小高低好坏贵快慢难易严宽忙累远近长短"
MODAL = re.compile(r"可以|能够|能|需要|会")
MA_VERB = re.compile(r"支持|鼓励|允许|适用|包括|属于|涉及|享受|提供|补贴|扶持|保护")
ENDS_WITH_MA = re.compile(r"[吗嗎][？?。！!\s]*$")
WH = re.compile(r"哪些|哪个|哪里|哪儿|哪[一几]?[条款项]|第几[条款项]|什么|怎么|怎样|如何|多少|为什么|为啥|啥|谁|(?<![好这那前近头十])几(?=[月号日天年点倍]|个月|个工作日)")
MAX_POINTS = 3          # cited points after the direct answer
# a point that only announces a list ("……应当符合下列要求。", "规定如下：") says nothing by itself
# (「五万元以下的罚款。」 is an amount, not a list: 以下 after a figure or its unit is "or less")
LIST_INTRO = re.compile(r"(?:下列|(?<![\d零一二三四五六七八九十百千万亿元年月日天倍])以下|如下)[^，。；]{0,6}[：:。]?$|[：:]$")
# a question a list answers: 有哪些 tax benefit, 哪几种情形, 哪一条列了转化的方式 (not 能中途修改吗, whose clause's
# list is beside it)
ASKS_LIST = re.compile(r"哪些|哪几|哪类|哪种|哪[一]?条|什么|有啥")
# an item of a list copied from a clause: （一）…, 一、…, 1. …
ITEM = re.compile(r"\s*(?:（[一二三四五六七八九十]+）|\([一二三四五六七八九十\d]+\)|[一二三四五六七八九十]+、|\d+[.、．](?!\d))")
# what a "no" needs in the points that follow it: a negation or a limit written in the clause
NEGATION = re.compile(r"不|没有|未|无|禁止|非|除")


# an ask at the end in 没 or 不 is one in 吗: 条例里提了没 -> 提了吗, 水电气开销能降点不 -> 能降点吗; so is one
# in 吧 that negates nothing (企业自己定标准就行吧). A negative one (中小企业没资格挂牌吧, 检验费不能让我们出吧)
# asks to confirm a negation, which a bare 是 or 能 answers ambiguously: it gets no answer words.
TAIL_ASK = re.compile(r"(?<=[了过])没有?(?=\s*[？?]?\s*$)|(?<=[\u4e00-\u9fff])不(?=\s*[？?]?\s*$)")
TAIL_BA = re.compile(r"(?<=[\u4e00-\u9fff])吧(?=\s*[？?]?\s*$)")
NEGATED = re.compile(r"[不没沒无非别]")
# 是不是不管 asks to confirm a no (是否不同 does not); so do 真的不算数吗 and 难道条例没提吗, whose 算 or 不算 reads
# either way (a 「不算。」 to 对方说电子的不算数，真的不算数吗 answered the claim, not the law)
CONFIRMS_A_NO = re.compile(r"(?:是不是|是否|真的)(?:[没沒无非别]|不(?![同断少仅错]))|难道[^，,。？?]{0,12}[不没沒无非别]")
# a claim asked to be confirmed by its tail: 听说规划定下来五年内都不能调整，是这样吗
CONFIRM_TAIL = re.compile(r"[，,]\s*(?:是这样吗|是吗|对吗|对不对|对吧|没错吧|是不是这样|是真的吗|真的吗)\s*$")


def _as_ma(text: str) -> str:
    """_as_ma("条例里提了没？") -> "条例里提了吗？": the 没 or 不 that ends a question asks; it negates nothing.
    _as_ma("自己定标准就行吧") -> "自己定标准就行吗";  _as_ma("没资格挂牌吧") stays as it is."""
    text = TAIL_ASK.sub("吗", text)
    return text if NEGATED.search(NOT_NEGATIONS.sub("", text)) else TAIL_BA.sub("吗", text)


# whether the law mentions something: 条例里提了吗 / 说没说 -> 提了 / 没提
# (难道条例里就没提企业可以自己评职称吗 -> 提了 / 没提 too)
MENTION = re.compile(r"(?<![有没])(提|说|讲|写|规定)(?:了|过|到)(?:[吗嗎]|没有?)|(提|说|讲|写)[没沒]\2"
                     r"|[没沒]有?(提|说|讲|写|规定)(?:到|过)?[^，,。？?]{0,20}[吗嗎]")


def yes_no(question: str) -> tuple[str, str] | None:
    """The (yes, no) answer words of a yes/no question, or None for other questions. A question of
    several parts is judged by its first part that asks: 有没有数据公布？谁负责统计 is a yes/no question,
    谁来定的？有没有专家参与 is not (its first answer is a who), and in 听说有专门的保险？条例里有没有提这个
    the first part only tells what was heard.

    yes_no("企业能不能享受同等优惠？") -> ("能", "不能");  yes_no("政府给不给钱？") -> ("给", "不给")
    yes_no("有哪些支持？") -> None
    """
    parts = [p for p in re.split(r"[？?]", question) if p.strip()] or [""]
    for i, part in enumerate(parts):
        answers = _part_yes_no(_as_ma(part), asked=i < len(parts) - 1 or question.strip().endswith(("？", "?")))
        if answers != "tells":
            return answers
    return None


def _part_yes_no(first: str, asked: bool) -> tuple[str, str] | str | None:
    """yes_no for one part of a question (ending in a question mark when `asked`): the answer words, None for
    a part asking something else (a wh-question), "tells" for a part that asks nothing. Only its last
    sentence asks: 对方说……才能结算，已经拖了半年多。这样做合规吗 is no 能 question."""
    first = ([s for s in re.split(r"[。！!；;]", first) if s.strip()] or [first])[-1]
    # a wh-word in a clause before the one that asks names the topic (每亩地产出多少，政府会拿来打分吗)
    tail = re.split(r"[，,]", first)[-1]
    if WH.search(tail if ENDS_WITH_MA.search(tail) or ASKING.search(tail) else first):
        return None
    if m := MENTION.search(first):
        verb = m.group(1) or m.group(2) or m.group(3)
        return verb + "了", "没" + verb
    if CONFIRMS_A_NO.search(first):
        return None  # 是不是不用强制执行: a bare 是 or 不是 would be read either way (as a negative 吧 question)
    if (m := CONFIRM_TAIL.search(first)) and NEGATED.search(NOT_NEGATIONS.sub("", first[:m.start()])):
        return None  # 五年内都不能调整，是这样吗: so is the confirmation of a claim with a negation (it got 「能。」)
    modal_only = _modals_only(first)
    for pattern, answers in YES_NO:
        if pattern.search(modal_only):
            return answers
    if m := TWO_CHARACTER.search(first):
        return m.group(1) + m.group(2), "不" + m.group(1) + m.group(2)
    if m := WORD_NOT_WORD.search(first):  # 支持不支持, 同意不同意 -> 支持 / 不支持
        return m.group(1), "不" + m.group(1)
    if (m := X_NOT_X.search(first)) and m.group(1) not in "不一" + ADJECTIVES:
        return m.group(1), "不" + m.group(1)
    if re.search(r"真的假的|是真的吗|真的吗", first):
        return "是真的", "不是真的"
    if re.search(r"可以.{0,20}[的呢]?$", first) and asked:
        return "可以", "不可以"  # 听说可以用政府或高校的？
    if ENDS_WITH_MA.search(first + "？"):
        if SWEEPING.search(first):
            return "是", "不是"  # 只在江西省内适用吗: it asks about the "only", not the verb
        # 条例支持企业参与吗 -> 支持 / 不支持: the question's own verb, when it has one of these, in the clause
        # that asks first (卖设备的同时提供远程运维……，江西的条例支持吗 asks 支持, not 提供)
        if m := MA_VERB.search(tail) or MA_VERB.search(first):
            return m.group(0), "不" + m.group(0)
        if modals := MODAL.findall(modal_only):  # 我们是龙头，能牵头……搞技术攻关吗 -> 能 / 不能 (the last modal)
            return modals[-1], "不" + modals[-1]
        return "是", "不是"
    return "tells"


# a yes in other words than the question's: 是的, 对, 是, or a bare modal or 有, as a sentence of its own
PLAIN_YES = re.compile(r"(?:是的|对|是|会|能|能够|可以|需要|要|有)[。，,！!]")


# an article's number written before the clause's own first words, as a label would be
ARTICLE_PREFIX = re.compile(r"第[零一二三四五六七八九十百千\d]+条(?:第[零一二三四五六七八九十\d]+款)?(?=[\u4e00-\u9fff])")
# an answer word leading a sentence of substance: 是的，… / 不是，… / 对，…
LEADING_WORD = re.compile(r"^(?:是的|是|对的|对|没错|不是|不对|不)[，,]\s*")


def _modals_only(text: str) -> str:
    """`text` with the modal characters (会能要) of other words masked, so that only modal verbs are found:
    _modals_only("专家咨询委员会是民间成立的吗") -> "专家咨询委员□是民间成立的吗"."""
    if not MODAL_CHARS.search(text):
        return text
    return "".join(MODAL_CHARS.sub("□", w) if MODAL_CHARS.search(w) and not MODAL_WORD.fullmatch(w) else w
                   for w in words(text))


def polarity(text: str, answers: tuple[str, str], question: str) -> str | None:
    """The answer the model gave in its first sentence, if it gave one: a sentence that starts with the
    answer word, or one that restates the question with its answer in it (the negative form is looked
    for first, since it contains the positive one: 不会 contains 会).

    polarity("江西大力发展制造业，不会不顾环保。", ("会", "不会"), "江西大力发展制造业，会不会不顾环保？") -> "不会"
    polarity("县级以上人民政府有关部门应当……", ("有", "没有"), "有没有支持？") -> None
    """
    text = WRAPPED_WORD.sub(r"\1", text)  # 「【会。】……」: the answer word, wrapped like a label
    sentences = [BRACKETS.sub("", s).strip() for s in SENTENCE.findall(text)]
    first = next((s for s in sentences if s and not s.endswith(("？", "?"))), "")  # past a repeated question
    yes, no = answers
    for word in (no, yes):
        if first.startswith(word):
            return word
    if PLAIN_YES.match(first):
        return yes  # a plain yes, whatever the question's verb: 会。 to 县政府要向人大常委会报告吗 -> 要。
    if first.startswith(("不", "没有", "否")):
        return no
    asks = re.search(rf"{yes[0]}[不没]{yes}|是否|能否|可否|有无", first)
    if len(yes) >= 2 and yes in first and not asks and not first.endswith(("吗", "嗎")):
        return no if no in first else yes  # 支不支持 -> "条例支持企业……": the verb itself, or negated
    if not restates(first, question) or asks:
        return None  # not an answer, or the question itself repeated
    return no if no in first else (yes if yes in first else None)


def shape(sentences: list[Sentence], question: str, raw: str, max_chars: int,
          topic: str | None = None) -> tuple[list[Sentence], list[tuple[str, str]]]:
    """The answer's sentences in reading order, and (why, sentence) for those left out.

    Every sentence is cited, except a direct answer word first: for a yes/no question, the answer word
    of the model's own first sentence (`polarity`); an open question gets none (a model's "能。" before
    "哪些支持" is dropped). A point after the first whose clauses share no two characters with the
    question is padding from the evidence (基本原则有哪些 -> 第三条, then 第十六条 on 营商环境) and is left
    out, unless the question names articles or asks about several things. Then at most MAX_POINTS cited
    points (`select`: a point that brings another article first), fitted into `max_chars` characters,
    labels not counted (`fit`).
    """
    dropped: list[tuple[str, str]] = []
    out: list[Sentence] = []
    answers = yes_no(question)
    word = polarity(raw, answers, question) if answers else None
    points: list[Sentence] = []
    # a question naming articles, or asking about several things (办手续、水电气物流、拿地 ... 分别), may be
    # answered by a clause in words of its own (拿地: 用地)
    open_to_all = bool(article_refs(question) or SEVERAL.search(question))
    asked = _cjk_bigrams(question)
    for s in join_lists(sentences):
        if ASKS_LIST.search(question):
            s = with_items(s)  # 有哪些 tax benefit: 下列企业……享受税收优惠 answers with its list
        if s.labels and LIST_INTRO.search(s.text):
            dropped.append(("introduces a list it does not give", s.text))
        elif s.labels and _repeats(s.text, [p for p in points if _laws(p) & _laws(s) or not (_laws(p) and _laws(s))]):
            # (another law's or version's clause in the same words is no repeat: 2020年版's 第十一条 and the 2025
            # text's 第十二条 differ by the 合同另有约定 the question asks about)
            dropped.append(("repeats an earlier point", s.text))
        elif s.clauses and points and not open_to_all and not _shares_a_word(asked, s):
            dropped.append(("a further point whose clauses share no word with the question", s.text))
        elif s.labels:
            text = _full_stop(_unwrapped(s.text))
            if (m := ARTICLE_PREFIX.match(text)) and any(c.text.startswith(text[m.end():m.end() + 6]) for c in s.clauses):
                text = text[m.end():]  # 「第二十四条在先进制造业促进工作中…」: the label the model wrote as the clause's first word
            if not points:
                # 「是的，设区的市可以……」: to 设区的市不用再自己定规划了吧, a question with no answer words (it confirms
                # a negation), a leading 是的 reads either way; to a yes/no question it is the answer word, which
                # goes first on its own (not 「是。是的，……」)
                text = LEADING_WORD.sub("", text) or text
            points.append(replace(s, text=text))
        else:
            dropped.append(("answer word" if is_bare_answer(s.text) else "no citation", s.text))
    kept = select(points, MAX_POINTS)
    if word and word == answers[1] and kept and not _no_is_borne_out(question, kept):
        # "没有。本省建立……链长制" : a "no" whose own clauses say yes is no answer; the clauses speak alone
        dropped.append(("a no its clauses do not bear out", f"{word}。"))
        word = None
    if word and word == answers[0] and kept and (broken := breaks_condition(question, kept)):
        # 经办人牟取了私利，还能免于追责吗: the clause's condition is 未牟取私利, so the answer is no
        dropped.append((f"a yes the clause's condition 未{broken} rules out", f"{word}。"))
        word = answers[1]
    if word and word == answers[0] and kept and (spared := spares(question, kept)):
        # 改革试点没达到预期，会被追责吗: 「会。」 against 第二十四条's 不予或者免于追究相关责任
        dropped.append((f"a yes the clause's 免于{spared} rules out", f"{word}。"))
        word = answers[1]
    if word and word == answers[0] and kept and (left_out := excluded(question, kept, answers)):
        # 涉及婚姻的文书能用电子签名吗: 「能。」 against 第三条第三款's 不适用下列文书：（一）涉及婚姻…
        dropped.append((f"a yes the clause's exclusion of {left_out} rules out", f"{word}。"))
        word = answers[1]
    if word and word == answers[0] and kept and (banned := forbids(question, kept, answers)):
        # 没有销售业绩，政府采购会不会因为这个不买: 「会。」 against 「不得以商业业绩为由予以限制」
        dropped.append((f"a yes to a negative ask the clause's {banned} rules out", f"{word}。"))
        word = answers[1]
    if not word and answers and answers[0] in LISTED_YES and kept and LISTED_ASK.search(question) \
            and (member := listed(question, kept[0])):
        # 陶瓷还算重点行业吗, and the model only quoted 第六条第一款's list: the list names 陶瓷, so yes
        word = answers[0]
        dropped.append((f"the answer word, the cited list names {member}", ""))
    if not word and answers and kept and (term := affirmed(question, kept[0], answers)):
        # 想把老机器换掉，政府会不会直接白给点钱, and the model only quoted 第十条第一款: its 无偿补助 is the
        # thing asked about, stated without a negation or a condition, so yes
        word = answers[0]
        dropped.append((f"the answer word, the cited point provides {term}", ""))
    if word:
        out.append(Sentence(f"{word}。"))
    dropped += [("more than three points", s.text) for s in points if s not in kept]
    # (a long point is cut to what the question asks about: `topic`, the question without the names of the
    # laws, whose title words match the parts that say who acts: 开展科学技术研究开发 for 科学技术进步法; the
    # primary regulation's name stays, as in retrieval: 先进制造业 is what its clauses are about)
    return fit(out + kept, max_chars, dropped, question if topic is None else topic), dropped


def join_lists(sentences: list[Sentence]) -> list[Sentence]:
    """Items of a list (（一）…) joined to the cited sentence before them that introduces them, as one point
    (a list counts as one point, not one per item); items with no sentence before them take their lead-in
    from the clause they cite. Items never stand without what they are a list of.

    "下列企业享受税收优惠：" + "（一）科技型中小企业。" + "（二）创业投资企业。" (one label)
      -> "下列企业享受税收优惠：（一）科技型中小企业；（二）创业投资企业。"
    """
    out: list[Sentence] = []
    for s in sentences:
        prev = out[-1] if out else None
        if (prev is not None and s.labels and prev.labels and ITEM.match(s.text)
                and set(s.labels) & set(prev.labels)):
            head = prev.text.rstrip("。；;，, ")
            joint = "" if head.endswith(("：", ":")) else ("；" if ITEM.match(prev.text) or "（" in head and
                                                           ITEM.search(head) else "：")
            labels = prev.labels + tuple(x for x in s.labels if x not in prev.labels)
            clauses = prev.clauses + tuple(c for c in s.clauses if c not in prev.clauses)
            out[-1] = replace(prev, text=head + joint + s.text.strip().rstrip("。；;，, ") + "。",
                              labels=labels, clauses=clauses)
        else:
            out.append(s)
    # items given without their lead-in take it from the clause they cite (生产者能够证明有下列情形之一的，…：)
    for i, s in enumerate(out):
        if s.labels and s.clauses and ITEM.match(s.text) and (lead := _lead_in(s.clauses[0].text)):
            out[i] = replace(s, text=lead + s.text)
    return out


def with_items(s: Sentence) -> Sentence:
    """A lead-in given without its items (下列企业按照国家有关规定享受税收优惠。) with them, from its clause."""
    items = _items_of(s.text, s.clauses[0].text) if s.labels and s.clauses and not ITEM.search(s.text) else ""
    return replace(s, text=s.text.strip().rstrip("。；;，,：: ") + "：" + items) if items else s


def _items_of(sentence: str, clause: str) -> str:
    """The items of a clause's list when `sentence` is the lead-in that introduces them, else ""."""
    lead = _lead_in(clause)
    if not lead or sentence.strip().rstrip("。；;，,：: ") != lead.rstrip("：:"):
        return ""
    return clause[clause.find("（一）"):].replace("\n", "").strip()


def _lead_in(clause: str) -> str:
    """The sentence of a clause that introduces its items (the text before （一）, from its last 。)."""
    at = clause.find("（一）")
    if at <= 0:
        return ""
    lead = clause[:at].rsplit("。", 1)[-1].strip()
    return "" if not lead else lead if lead.endswith(("：", ":")) else lead.rstrip("，,；;") + "："


def _laws(s: Sentence) -> set[str]:
    """The regulations (ids) of the clauses a point cites."""
    return {c.regulation for c in s.clauses}


REPEAT = 0.7   # a point whose bigrams are at least this share an earlier point's says nothing new


def _repeats(text: str, earlier: list[Sentence]) -> bool:
    """Whether `text` mostly repeats an earlier point (a model that says the same clause twice, once with
    the question's words in front)."""
    mine = _bigrams(text)
    return bool(mine) and any(len(mine & _bigrams(e.text)) >= REPEAT * len(mine) for e in earlier)


# a condition a clause sets in the negative: 未牟取私利且…, 没有违反…的
CONDITION = re.compile(r"(?:未|没有)([\u4e00-\u9fff]{2,10}?)(?=且|和|或|并|，|、|的|。|；|$)")


def breaks_condition(question: str, points: list[Sentence]) -> str:
    """What the question states that a cited clause requires not to be (its condition 未X, the question X
    without a negation before it), or "": then the answer to "still yes?" is no.

    breaks_condition("经办人牟取了私利，还能免于追责吗", [point citing 第二十四条 …未牟取私利且…]) -> "牟取私利"
    """
    asked = question.replace("了", "")
    for clause in {c for s in points for c in s.clauses}:
        for m in CONDITION.finditer(clause.text):
            at = asked.find(m.group(1))
            if at >= 0 and not re.search(r"(?:未|没有?|不|非|无)$", asked[:at]):
                return m.group(1)
    return ""


# what a yes/no question asks will befall someone (会被追责吗, 会不会被处罚), and what a clause spares
# people (不予或者免于追究相关责任, 不作负面评价, 免予处罚)
BEFALLS = re.compile(r"被([\u4e00-\u9fff]{2,4}?)(?:吗|嗎|呢|了|[？?。，,！!]|$)")
SPARES = re.compile(r"(?:不予|免于|免予|不作|不受)(?:或者|或)?(?:不予|免于|免予)?([\u4e00-\u9fff]{2,8})")
# whether someone bears liability (要担责吗, 会被问责吗, 要承担责任吗), and a clause that exempts them from it
# (予以免责, 免除其决策责任, 不承担赔偿责任, 不予或者免于追究相关责任) without imposing any
LIABLE = re.compile(r"[担追问]责|(?:承担|追究|负)[\u4e00-\u9fff]{0,4}责任")  # not 负责(人): in charge
EXEMPT = re.compile(r"免责|免除[\u4e00-\u9fff]{0,6}责任|不承担[\u4e00-\u9fff]{0,6}责任"
                    r"|(?:不予|免于|免予)(?:或者|或)?(?:不予|免于|免予)?追究[\u4e00-\u9fff]{0,6}责任")
IMPOSED = re.compile(r"承担[\u4e00-\u9fff]{0,6}责任|追究[\u4e00-\u9fff]{0,6}责任")


def spares(question: str, points: list[Sentence]) -> str:
    """What the question asks will befall someone that a cited clause spares them (the question's word,
    abbreviated or not: 追责 in 免于追究相关责任), or "": then a yes is wrong.

    spares("试点没达到预期，会被追责吗", [point citing 第二十四条 …不予或者免于追究相关责任]) -> "追责"
    spares("项目没做成，科研人员要担责吗", [point citing 科学技术进步法第六十八条 …予以免责]) -> "担责"
    """
    clauses = {c for s in points for c in s.clauses}
    for m in BEFALLS.finditer(question):
        asked = m.group(1)
        for clause in clauses:
            if any(is_subsequence(asked, x.group(1)) for x in SPARES.finditer(clause.text)):
                return asked
    # 科研人员要担责吗 against 「……予以免责」: liability, however worded, that the clauses exempt from and no
    # clause imposes (a question about the exemption itself, 能免责吗 / 不担责吗, is answered as asked)
    liable = LIABLE.search(question)
    if liable and not re.search(r"免|不[担承负追被]", question):
        texts = [c.text for c in clauses]
        if any(EXEMPT.search(t) for t in texts) and not any(IMPOSED.search(EXEMPT.sub("", t)) for t in texts):
            return liable.group(0)
    return ""


PROHIBITION = re.compile(r"不得|禁止|严禁")


def forbids(question: str, points: list[Sentence], answers: tuple[str, str] | None = None) -> str:
    """The prohibition (不得, 禁止, 严禁) in the points when what the question asks is itself negative (会不会
    因为这个不买, 能不能不付): a "yes" says the forbidden thing happens, so the answer is no; else ""."""
    asked = NOT_NEGATIONS.sub("", _asked(question, answers))
    if asked == question or not NEGATION.search(asked):
        return ""
    m = next((m for s in points if (m := PROHIBITION.search(s.text))), None)
    return m.group(0) if m else ""


# a yes/no question whether something is among those named (算不算重点行业, 属于…吗, …之一吗, 真的假的)
LISTED_ASK = re.compile(r"算|属于|包括|之一|列入|纳入|真的")
LISTED_YES = ("算", "属于", "包括", "是", "是真的")
MIN_NAMED = 2    # characters of the question a list member must hold: its head, or this share of it
NAMED_SHARE = 0.6


def listed(question: str, point: Sentence) -> str:
    """The member of a list in the point's clause (…、现代家具、陶瓷等…) that the question names, or "":
    then "is it among them?" is answered yes by the clause itself. A list in a negated phrase (不得…、…)
    names nothing that is so.

    listed("做陶瓷的，还算重点行业吗", point citing 第六条第一款 …现代家具、陶瓷等传统制造业…) -> "陶瓷"
    """
    for clause in point.clauses:
        for segment in re.split(r"[，,。；;：:]", clause.text):
            if "、" not in segment or NEGATION.search(NOT_NEGATIONS.sub("", segment)):
                continue
            for member in re.split(r"、|和|及|等", segment):
                common = _longest_common(member, question)
                if len(common) >= MIN_NAMED and (len(common) >= 4 or len(common) >= NAMED_SHARE * len(member)
                                                 or member.strip().startswith(common)):  # 光伏 of 光伏新能源
                    return common
    return ""


# a list of what a rule leaves out: 前款规定不适用下列文书：, 有下列情形之一的，不得……：
EXCLUDING = re.compile(r"(?:不适用|不得|不予|禁止|除外)[^：:。]{0,16}[：:]$|(?:下列|以下)[^：:。]{0,16}(?:不适用|不得|不予|除外)[^：:。]{0,16}[：:]$")
PERMITS = ("能", "可以", "能够", "适用", "允许", "行", "可")  # the answer words of a question asking whether it may


def excluded(question: str, points: list[Sentence], answers: tuple[str, str]) -> str:
    """The item of a list that a cited clause excludes (不适用下列文书：（一）涉及婚姻…) that the question names, when
    it asks whether it may: then the answer is no. "" otherwise.

    excluded("涉及婚姻的文书能用电子签名吗", [point citing 电子签名法第三条第三款], ("能", "不能")) -> "婚姻"
    """
    if answers[0] not in PERMITS or NEGATION.search(NOT_NEGATIONS.sub("", ASKING.sub("", _as_ma(question)))):
        return ""
    return next((item for c in (c for p in points for c in p.clauses) if (item := excluded_item(question, c))), "")


def excluded_item(question: str, clause) -> str:
    """What the question names of the items a clause's exclusion list leaves out, in its words or in the law's
    word for an everyday one (离婚 -> 婚姻: `expansion_terms`); "" when it names none.

    excluded_item("离婚协议能用电子签名签吗", 第三条第三款 「前款规定不适用下列文书：（一）涉及婚姻、收养…」) -> "婚姻"
    """
    meant = [t for t in expansion_terms(question) if len(t) >= 2]
    lines = clause.text.split("\n")
    for i, line in enumerate(lines[:-1]):
        if not EXCLUDING.search(line):
            continue
        for item in lines[i + 1:]:
            if not ITEM.match(item):
                break
            for member in re.split(r"、|和|及|等|或者", ITEM.sub("", item, count=1)):
                if len(common := _longest_common(member, question)) >= 4 or len(common) >= 2 and member.startswith(common):
                    return common
                if term := next((t for t in meant if t in member), ""):
                    return term
    return ""


# what a clause does when it provides something: 应当…, 鼓励, 支持, 可以采取 …
PROVIDES = re.compile(r"应当|鼓励|支持|可以|推动|推进|给予|采取|建立|完善|加强|提供|保障|引导|培育|实施|开展|促进|实行|纳入|制定")
# words every question and clause of a promotion law share: no sign that a point is about what is asked
GENERIC = re.compile(r"先进制造业|制造业|人民政府|有关部门|县级以上|政府|企业|条例|我们|公司|工厂|本省|省里|江西")
MIN_ASKED = 4  # characters in a row a point must share with the question (generic words aside) to be about it
MIN_MEANT = 3  # ... or with the regulation's term for an everyday word of the question


def affirmed(question: str, point: Sentence, answers: tuple[str, str] | None = None) -> str:
    """The thing a yes/no question asks about that the point provides, or "": then the point itself is the
    yes. It is provided when the point names it (MIN_ASKED characters in a row of the question's words beyond
    GENERIC ones, or the regulation's term, MIN_MEANT long, for one of its everyday words: 白给钱 -> 无偿补助)
    with a PROVIDES verb and no negation, and the question neither is negative, sweeping, nor states a figure
    the point lacks (those are `_no_is_borne_out`'s "no"). The thing is looked for in what is asked (`_asked`:
    老机器换掉，政府会不会白给点钱 asks about the money, not the 技术改造 of 老机器; 专家咨询委员会是民间自发成立的吗
    asks whether it is 民间自发成立的, not whether there is one).

    affirmed("政府会不会直接白给点钱", point "…可以采取无偿补助、融资租赁…方式…【第十条第一款】") -> "无偿补助"
    """
    text = point.text
    if NEGATION.search(NOT_NEGATIONS.sub("", text)) or not PROVIDES.search(text):
        return ""
    rest = NOT_NEGATIONS.sub("", ASKING.sub("", _as_ma(question)))
    if NEGATION.search(rest) or SWEEPING.search(rest) or any(f not in text for f in FIGURE.findall(question)):
        return ""
    asked = _asked(question, answers)
    meant = [t for t in expansion_terms(asked) if len(t) >= MIN_MEANT and t in text]
    term = max([*meant, _longest_common(text, GENERIC.sub("|", asked))], key=len)
    return term if term in meant or len(term) >= MIN_ASKED else ""


# the words of a yes/no ask itself: 政府会不会给予支持 names nothing that is asked about
ASK_WORDS = re.compile(r"[会能要可以是有没不吗呢啊么]|给予|支持|扶持|帮助|政府|条例|直接|愿意|允许|真的")


def _asked(question: str, answers: tuple[str, str] | None = None) -> str:
    """What a yes/no question asks about: the words after its answer word (政府会不会直接白给点钱 ->
    直接白给点钱; 专家咨询委员会是民间自发成立的吗 -> 民间自发成立的), when they name something beyond the
    asking itself; else the whole question (计划建一个储能电站，政府会给予支持吗: the station is what is asked
    about, 给予支持 says only that it is asked)."""
    answers = answers or yes_no(question)
    if not answers:
        return question
    first = next((p for p in re.split(r"[？?]", question) if p.strip()), question)
    at = first.rfind(answers[0])
    if at < 0:
        return question
    after = re.split(r"[，,。；;：:]", first[at + len(answers[0]):])[0]
    named = CJK_RUN.findall(ASK_WORDS.sub("|", GENERIC.sub("|", after)))
    return after if any(len(w) >= 2 for w in named) else question


def _longest_common(a: str, b: str) -> str:
    """The longest run of characters that `a` and `b` share: _longest_common("工业旅游基地", "发展工业旅游") -> "工业旅游"."""
    best = ""
    for i in range(len(a)):
        for j in range(i + len(best) + 1, len(a) + 1):
            if a[i:j] in b:
                best = a[i:j]
            else:
                break
    return best


def _unwrapped(text: str) -> str:
    """A point in parentheses as a whole (the adoption note under a title, 「（2024年3月26日……会议通过）」)
    without them: 「2024年3月26日……会议通过。」"""
    m = re.fullmatch(r"[（(]([^（）()]+)[）)][。.]?", text.strip())
    return m.group(1).rstrip("。") + "。" if m else text


def _full_stop(text: str) -> str:
    """A point ends with 。, not with the ；or ， where the model stopped copying a clause."""
    return text.rstrip("；;，,、 ") + "。" if text.rstrip().endswith(("；", ";", "，", ",", "、")) else text


ASKING = re.compile(r"([\u4e00-\u9fff]{2})[不没沒]\1|(.)[不没沒]\2|是否|能否|可否|有无|[不没][^，。？?]{0,2}[吗嗎]")
FIGURE = re.compile(r"\d+|[零一二三四五六七八九十]+[年月日号]")
# words with 不/未/无/非 that negate nothing asked: 未来产业, 无偿补助, 买不起 (can't afford), 非常
# (不用还的那种: "non-repayable", a kind of money described, not the question negated)
NOT_NEGATIONS = re.compile(r"不同|不断|不少|不仅|不论|不管|无论|未来|无偿|非常|不大|不多|[买用付干]不起|[做办跑]不[了完到]"
                           r"|不用[还退交付]")
# a sweeping claim a "no" answers: 是不是只支持境内上市 / 是不是所有企业都可以 / 主要靠高校
SWEEPING = re.compile(r"只|仅|所有|全部|一律|完全|主要|马上|一视同仁")


def _no_is_borne_out(question: str, points: list[Sentence]) -> bool:
    """Whether a "no" can stand on these points: a point states a negation or limit; or the question
    itself is negative (会不会不顾环保 -> 不会; 定了就不会再变吗 -> 不是), the question's own 会不会 aside,
    or makes a sweeping claim (是不是只支持境内上市 -> 不是); or it states a figure or date its points do
    not (是不是5月就施行了 -> 不是, 6月1日)."""
    if any(NEGATION.search(NOT_NEGATIONS.sub("", s.text)) for s in points):
        return True
    rest = NOT_NEGATIONS.sub("", ASKING.sub("", question))
    if NEGATION.search(rest) or SWEEPING.search(rest):
        return True
    text = "".join(s.text for s in points)
    return any(f not in text for f in FIGURE.findall(question))


def _articles(s: Sentence) -> set[tuple[str | None, int]]:
    """The articles a point cites, with the law its label names (题注 is article 0), read with the one label
    grammar: 中小企业促进法第十条 is no repeat of 第十条."""
    return {(label.regulation, label.article) for label in map(parse_label, s.labels) if label is not None}


def select(points: list[Sentence], n: int) -> list[Sentence]:
    """At most `n` points in reading order, a point that cites an article not cited yet before one that
    repeats an article: a question about two articles keeps one point of each.

    points cite 第十条, 第十条, 第十条, 第十二条; n=3 -> the first two on 第十条 and the one on 第十二条
    """
    chosen: list[int] = []
    seen: set[int] = set()
    for i, s in enumerate(points):
        if len(chosen) < n and not _articles(s) <= seen:
            chosen.append(i)
            seen |= _articles(s)
    for i in range(len(points)):
        if len(chosen) < n and i not in chosen:
            chosen.append(i)
    return [points[i] for i in sorted(chosen)]


ITEM_START = re.compile(r"\s*(?=（[一二三四五六七八九十]+）)")  # where a list item (（一）, （二）…) begins
MIN_POINT = 24   # a point cut shorter than this says too little: drop the last point instead


def fit(sentences: list[Sentence], max_chars: int, dropped: list[tuple[str, str]],
        question: str = "") -> list[Sentence]:
    """The sentences within `max_chars` characters (labels not counted).

    When they do not fit, every cited point gets a fair share of the budget (a short point keeps its
    length and leaves the rest to the others) and a longer point is cut to its share by `cut`, keeping
    the parts that speak to the question. Before any cut, a second point on an article gives way to the
    points on other articles; and if a share would fall below MIN_POINT characters, the last point
    repeating an article (else the last point) is left out and the shares are computed again.
    """
    head = [s for s in sentences if not s.labels]
    points = [s for s in sentences if s.labels]
    budget = max_chars - sum(len(s.text) for s in head)
    while len(points) > 1:
        several = len(set().union(*map(_articles, points))) > 1
        repeat = _last_repeat(points)
        if several and repeat is not None and sum(len(s.text) for s in points) > budget:
            pass  # points on other articles first: a second point on an article gives way before any cut
        elif min(_shares([len(s.text) for s in points], budget)) < min(MIN_POINT, *(len(s.text) for s in points)):
            # (a point of a law or version another point cites too goes before the only point of another: an
            # answer comparing the 2020 and 2025 texts keeps one of each)
            repeat = next((i for i in (repeat, _last_same_law(points)) if i is not None), len(points) - 1)
        else:
            break
        dropped.append(("over the length budget", points.pop(repeat).text))
    if not points:
        return head
    while True:
        shown = [s if len(s.text) <= share else replace(s, text=cut(s.text, max(share, 2), question))
                 for s, share in zip(points, _shares([len(s.text) for s in points], budget))]
        # a point cut to a stub (a condition or a lead-in alone) says nothing
        poor = [i for i in range(len(points)) if _stub(shown[i].text, points[i].text)]
        if not poor or len(points) == 1:
            return head + shown
        # a later stub goes; a stub of the first point (the answer) gets the room of the last point; a stub that is
        # the only point on its version of a law gets the room of a point on a version another point cites too
        victim = poor[-1] or len(points) - 1
        spare = _last_same_law(points)
        versions = len({c.regulation_title for x in points for c in x.clauses}) == 1
        if versions and spare is not None and not _cited_elsewhere([_laws(x) for x in points], victim):
            victim = spare
        dropped.append(("over the length budget", points.pop(victim).text))


# what a cut must not end with: a condition (……有异议的), a list's lead-in (……报酬：), a phrase that only says
# by what or about what the predicate after it acts (有权按照国家有关规定，| 对……科技项目，|)
STUB_END = re.compile(r"(?:的|[：:]|(?:按照|依照|根据|依据)[^，,。]{0,12}规定)。$|^(?:对|对于|为了|根据|依照|按照)[^，,]*。$")


def _stub(shown: str, text: str) -> bool:
    """Whether a cut left a point saying nothing: 「……有异议的。」, 「……给予奖励和报酬：。」,
    「……有权按照国家有关规定。」, 「对利用财政资金设立的……科技项目。」."""
    return shown != text and bool(STUB_END.search(shown))


def _last_repeat(points: list[Sentence]) -> int | None:
    """The index of the last point whose articles an earlier point already cites, if any."""
    seen: set[tuple[str | None, int]] = set()
    last = None
    for i, s in enumerate(points):
        if _articles(s) <= seen:
            last = i
        seen |= _articles(s)
    return last


def _last_same_law(points: list[Sentence]) -> int | None:
    """The index of the last point whose laws another point cites too, when the points cite several laws."""
    laws = [_laws(s) for s in points]
    if len(set().union(*laws)) < 2:
        return None
    return next((i for i in reversed(range(len(points))) if laws[i] and _cited_elsewhere(laws, i)), None)


def _cited_elsewhere(laws: list[set[str]], i: int) -> bool:
    """Whether the laws of point `i` (`laws`: each point's) are all cited by other points too."""
    return laws[i] <= set().union(*(x for j, x in enumerate(laws) if j != i))


def _shares(lengths: list[int], budget: int) -> list[int]:
    """Water-filling: points shorter than an equal share keep their length, the rest share what is left.

    _shares([10, 100, 100], 110) -> [10, 50, 50]
    """
    shares = [0] * len(lengths)
    left, open_ = budget, sorted(range(len(lengths)), key=lambda i: lengths[i])
    while open_:
        each = left // len(open_)
        i = open_[0]
        if lengths[i] <= each:
            shares[i] = lengths[i]
            left -= lengths[i]
            open_.pop(0)
        else:
            for j in open_:
                shares[j] = each
            break
    return shares


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


SEVERAL = re.compile(r"分别|各[有自]|、|几块|几个方面|哪几|[？?].+[？?]")


def _cjk_bigrams(text: str) -> set[str]:
    """Two characters in a row within runs of Chinese characters: 「基本原则有哪些」 -> {基本, 本原, 原则, …}."""
    return {b for run in CJK_RUN.findall(text) for b in _bigrams(run)}


def _shares_a_word(asked: set[str], point: Sentence) -> bool:
    """Whether a clause the point cites has one of the question's `_cjk_bigrams`: 「基本原则有哪些」 and
    第三条's 「…的原则」 share 原则; 第十六条 shares nothing."""
    return any(asked & _cjk_bigrams(c.text) for c in point.clauses)


# a question asking what support, help or means there is (有哪些支持, 政府能给什么帮助, 怎么扶持, 用什么方式) ...
ASKS_MEANS = re.compile(r"(?:哪些|什么|啥|哪几种|怎么|怎样|如何)(?:样的)?(?:支持|扶持|帮助|帮扶|优惠|政策|措施|方式|办法|手段)"
                        r"|(?:支持|扶持|帮助|帮扶)(?:哪些|什么|啥)|给(?:什么|啥|哪些)")
# ... and the part of a clause that names the means: 可以采取无偿补助、融资租赁、保险补偿等方式 / 通过财政贴息、…等方式
MEANS = re.compile(r"(?:采取|通过|运用|利用)[^，,；;。]{2,40}?等?(?:方式|措施|手段|形式)")
MEANS_WEIGHT = 3  # counted as this many more bigrams shared with the question (and kept before the others)


def cut(text: str, limit: int, question: str = "") -> str:
    """`text` within `limit` characters, cut at commas and list marks, ending with 。.

    Without a question: the longest head that ends at a comma or list mark (a cut list ends with 等).
    With one: the first part (who acts) and then the parts sharing most with the question, in their
    own order, so that a long clause keeps what was asked about.

    cut("支持甲、乙、丙和丁等方式。", 7) -> "支持甲、乙等。"
    cut("政府应当统筹资金，支持企业上市，加强人才培养。", 20, "企业上市有支持吗") -> "政府应当统筹资金，支持企业上市。"
    cut("发展改革、教育、科学技术、财政等部门应当做好工作。", 20) -> "发展改革……财政等部门应当做好工作。"
    """
    body = text.rstrip("。！!；;，,")
    lead, *items = ITEM_START.split(body)  # a list item is kept whole or left out, never cut at its commas
    parts = [p for p in re.split(r"(?<=[，；。,;])", lead) if p.strip()] + [i.rstrip() for i in items]
    if question and len(parts) >= 2 and len(parts[0]) < limit:
        q = _bigrams(question)
        # asked what support there is, the part naming the means (可以采取无偿补助、融资租赁、保险补偿等方式)
        # is what was asked, whatever words it shares with the question
        asks_means = bool(ASKS_MEANS.search(question))
        means = {i for i in range(1, len(parts)) if asks_means and MEANS.search(parts[i])}

        def said(i: int) -> int:
            return len(_bigrams(parts[i]) & q) + (MEANS_WEIGHT if i in means else 0)

        rank = sorted(range(1, len(parts)), key=lambda i: (i not in means, -said(i), i))
        keep, used = {0}, len(parts[0])
        fitting = [i for i in rank if i in means and len(parts[i]) <= limit - 1]
        if fitting and used + len(parts[fitting[0]]) > limit - 1:
            # who acts and the means do not fit together: the means, and what they are for, go first
            keep, used = {fitting[0]}, len(parts[fitting[0]])
            rank = list(range(fitting[0] + 1, len(parts))) + [i for i in rank if i < fitting[0]]
        first_item = len(parts) - len(items)  # an item kept brings the words introducing the list (…办理：)
        intro = first_item - 1 if items and first_item > 0 and parts[first_item - 1].endswith(("：", ":")) else None
        for i in rank:
            need = [i] + ([intro] if intro is not None and i >= first_item and intro not in keep else [])
            size = sum(len(parts[j]) for j in need)
            if used + size <= limit - 1 and said(i):
                keep.update(need)
                used += size
        # a condition (合同未作约定的，) kept without what follows it says nothing
        keep -= {i for i in keep if i and i + 1 not in keep and re.search(r"的[，,]$", parts[i])}
        if keep == {0} and (alone := max(range(1, len(parts)), key=said)) \
                and said(alone) >= max(1, len(_bigrams(parts[0]) & q)) \
                and len(parts[alone]) <= limit - 1 \
                and alone < first_item and not re.search(r"的[，,]$", parts[alone]) \
                and not STUB_END.search(parts[0].rstrip("，,；;") + "。"):  # (…有权按照国家有关规定，: no subject to spare)
            # who acts takes the whole room and says no more of what was asked than a later part: that part,
            # alone (「……支持电力、市政公用服务、运输等企业提升服务质量和效率，降低先进制造业用电、用水、用气、物流
            # 等要素成本」, asked about 水电气物流 -> 「降低先进制造业用电、用水、用气、物流等要素成本。」; 「……应当统筹
            # 用好资金，通过财政贴息、风险补偿、事后奖补等方式……」, asked about 财政 and 资金 -> the means)
            return parts[alone].rstrip("，；。,;") + "。"
        if len(keep) > 1:
            kept = sorted(keep)  # items left out between two kept ones are marked: （一）…；……（三）…
            return "".join(("……" if j >= first_item and i - j > 1 else "") + parts[i]
                           for j, i in zip([-1] + kept, kept)).rstrip("，；。,;") + "。"
    items = body.split("、")
    if len(items) > 2 and not re.search(r"[，；,;]", body) and len(items[0]) + len(items[-1]) + 3 <= limit:
        # one long list and what it is for: keep the list's head, elide its middle, keep the predicate
        h = 1
        while len("、".join(items[:h + 1])) + len(items[-1]) + 3 <= limit and h + 1 < len(items) - 1:
            h += 1
        return "、".join(items[:h]) + "……" + items[-1] + "。"
    head = text[:max(limit - 1, 1)]
    # at a comma or semicolon if there is one: a cut inside an enumeration (「对完成、转化……」 -> 「对完成等」)
    # breaks the phrase it is in
    pos = max(head.rfind(x) for x in "，；,;")
    pos = pos if pos > 0 else head.rfind("、")
    starts = [m.start() for m in ITEM_START.finditer(head)]
    if starts and starts[-1] > 0 and pos > starts[-1] and head[pos] not in "；;":
        pos = starts[-1]  # the last item would be cut in its middle: it goes whole
        return head[:pos].rstrip("，、；,;：: \n") + "。"
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
