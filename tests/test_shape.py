"""Answers as a reader sees them, on hand-written model outputs: echoes, refusal phrases, unsupported and
cut-off sentences, the direct first sentence, at most three points, the length budget, one label per run."""

from dataclasses import replace

import pytest

from chatbot.citations import Sentence, check_citations, is_supported_by, numbers_in, opens_with_answer, restates
from chatbot.corpus import Clause
from chatbot.shape import _shares, cut, fit, polarity, render, select, shape, yes_no


@pytest.fixture(scope="module")
def a10(regulation):
    return [c for c in regulation.clauses if c.article == 10]


def test_echoed_questions_are_dropped_and_never_cited(regulation, a10):
    q = "本省企业增资扩产能不能享受同等优惠？"
    out = check_citations("本省企业增资扩产能不能享受同等优惠？【第十条第二款】本省企业增资扩产能享受同等优惠。"
                          "【第十条第二款】可以实行与新引进项目同等优惠政策。【第十条第二款】", a10, regulation, question=q)
    assert [s.text for s in out.sentences] == ["可以实行与新引进项目同等优惠政策。"]
    assert [why for why, _ in out.dropped] == ["restates the question", "restates the question"]


def test_refusal_phrases_inside_an_answer_are_dropped(regulation, a10):
    out = check_citations("可以采取无偿补助、融资租赁等方式支持技术改造。【第十条第一款】本条例未对此作出规定。", a10, regulation,
                          drop_phrases=("未对此作出规定",))
    assert out.text == "可以采取无偿补助、融资租赁等方式支持技术改造。【第十条第一款】"
    assert out.dropped == [("refusal phrase in an answer", "本条例未对此作出规定。")]


def test_an_unsupported_cited_sentence_is_replaced_by_the_clause_words(regulation, a10):
    out = check_citations("政府会给每家企业发放奖金。【第十条第一款】", a10, regulation)
    (s,) = out.sentences
    assert s.labels == ("第十条第一款",) and s.text in a10[0].text.replace("；", "。") + "。"
    assert out.replaced == ["政府会给每家企业发放奖金。"]


def test_a_wrong_number_is_never_supported(regulation, a10):
    assert numbers_in("补助一百万元，2024年6月1日起【第十条】") == ["一百万", "2024", "6", "1"]
    good = "可以采取无偿补助、融资租赁、保险补偿等方式支持技术改造。"
    assert is_supported_by(good, [a10[0]])
    assert not is_supported_by("可以采取无偿补助、融资租赁、保险补偿等方式支持技术改造，补助3000万元。", [a10[0]])


def test_a_cut_off_last_sentence_is_dropped(regulation, a10):
    out = check_citations("可以采取无偿补助等方式支持技术改造。【第十条第一款】另外政府还会在", a10, regulation)
    assert out.dropped == [("cut off", "另外政府还会在")]


def test_restates():
    q = "企业能不能享受同等优惠？"
    assert restates("企业能不能享受同等优惠。", q) and restates("这样可以吗？", q)
    assert not restates("可以。", q) and not restates("本省企业可以实行与新引进项目同等优惠政策。", q)


@pytest.mark.parametrize("question,answers", [
    ("企业能不能享受同等优惠？", ("能", "不能")), ("有没有用地支持？", ("有", "没有")),
    ("条例是否支持企业上市？", ("是", "不是")), ("陶瓷算不算重点产业？", ("算", "不算")),
    ("会不会不顾环保？", ("会", "不会")), ("有哪些支持？", None), ("条例什么时候施行？", None),
    ("政府到底给不给钱啊？", ("给", "不给")), ("校企合作省里支不支持？", ("支持", "不支持")),
    ("管不管这事", ("管", "不管")), ("有沒有貼息？", ("有", "没有")),
    ("国有大型企业这样做违规吗？", ("是", "不是")),  # 国有 is no 有 "is there"
    ("这个条例跟我们有关系吗？", ("有", "没有")),
    ("机关单位没有预算，能先从中小企业采购、钱以后再说吗？", ("能", "不能")),  # 能先 is a modal; 没有 no 有
    ("条例里提了没？", ("提了", "没提")), ("条例说没说要帮企业省事？", ("说了", "没说")),
    ("高峰低谷电价机制条例里有提到吗？", ("有", "没有")), ("水电气这些开销能降点不？", ("能", "不能")),
    ("企业每亩地产出多少，政府会拿来打分考评吗？", ("会", "不会")),  # the 多少 names the topic; 会…吗 asks
    ("不去还给脸色看，这种我能不去吗？", ("能", "不能")),
    ("想去股权市场挂个牌，条例支持不支持？", ("支持", "不支持")), ("需要不需要备案？", ("需要", "不需要")),
    ("有没有数据公布？谁负责统计", ("有", "没有")), ("规划是谁定的？有没有专家参与", None),
    ("厂里那几台老机器要换，政府给不给钱？", ("给", "不给")), ("听说要发展工业旅游，真的假的？", ("是真的", "不是真的")),
    ("听说可以用政府或高校的？", ("可以", "不可以")),
    # modal characters inside other words are no modals
    ("制造业强省专家咨询委员会是民间自发成立的吗？", ("是", "不是")),        # 委员会 is no 会
    ("我们新项目还要做能源技术评价，这一项也纳入全流程办理了吗？", ("是", "不是")),  # 能源 is no 能
    ("企业引进的领军技能人才想落户，政府会提供便捷服务吗？", ("会", "不会")),    # 技能 is no 能
    ("规划中途做了调整，县政府要向本级人大常委会报告吗？", ("要", "不要")),
    ("补贴批下来后能马上到账吗？", ("能", "不能")),               # 后能 (one word to jieba) is 后 + 能      # 常委会 is no 会
    ("县级政府要把先进制造业写进国民经济和社会发展规划吗？", ("要", "不要")),
    ("推进重点产业链，条例要不要求把产业链和人才链打通融合？", ("要求", "不要求")),
    ("重要产品要不要检验？", ("需要", "不需要")),
    ("银行给制造业放贷到底松不松？", None),                              # an adjective: no yes/no to give
    ("公司准备IPO，打算去港股上市，省里支持去境外上吗？", ("支持", "不支持")),  # 打算 is no 算
    # a first part that only tells what was heard: the next part asks
    ("听说有给高端制造企业量身定做的保险？条例里有没有提这个？", ("有", "没有")),
    ("银行放贷到底松不松？条例有没有要求银行多贷点", ("有", "没有")),
    ("报告每年几月几号之前要报送？逾期会被列入名录吗？", None),   # 几月几号 asks a date first
    ("最近看了几个项目。这个条例欢不欢迎外地的钱过来？", ("欢迎", "不欢迎")),  # 几个 tells how many
    ("企业自己定个标准就行吧？", ("是", "不是")),  # 吧 asks as 吗 does ...
    ("县里不用自己搞规划吧？", None), ("中小企业没资格在本地挂牌融资吧？", None),  # ... unless it asks to confirm a no
    ("检验费不能让我们企业出吧？", None), ("行业标准是不是不用强制执行啊？", None),
    ("政府是不是不管企业电费水费这些成本啊？", None),
    ("对方说电子的不算数，真的不算数吗？", None),   # ... and so does 真的不
    ("难道条例里就没提企业可以自己评职称吗", ("提了", "没提")), ("条例没说要交钱吗？", ("说了", "没说")),
    # only the sentence that asks: the story before it holds a 能 that asks nothing
    ("对方说必须等审计结果出来才能结算，已经拖了半年多。这样做合规吗？", ("是", "不是")),
    ("听说先进制造业发展规划一旦定下来，五年内都不能调整，是这样吗？", None),  # a claim with a negation
    ("促进科技成果转化法哪一条列了科技成果转化可以采用的方式？", None),  # asks which article
    # the verb of the clause that asks, not one of the story before it (提供远程运维)
    ("我们想转型，卖设备的同时提供远程运维服务，这种制造加服务的路子，江西的条例支持吗？", ("支持", "不支持")),
])
def test_yes_no_questions(question, answers):
    assert yes_no(question) == answers


def test_polarity_comes_from_the_models_first_sentence():
    assert polarity("【会。】政府会安排用地指标。【第十八条】", ("会", "不会"), "政府会给安排地吗？") == "会"
    q = "江西大力发展制造业，会不会不顾环保？"
    assert polarity("江西大力发展制造业，不会不顾环保。条例……", ("会", "不会"), q) == "不会"
    assert polarity("不会。条例要求绿色低碳发展。", ("会", "不会"), q) == "不会"
    assert polarity("江西大力发展制造业，会不会不顾环保。", ("会", "不会"), q) is None  # a plain echo
    assert polarity("县级以上人民政府有关部门应当支持。", ("有", "没有"), "有没有支持？") is None
    # a two-character verb in the model's first sentence, not negated and not asked, is the answer
    assert polarity("条例支持校企合作。", ("支持", "不支持"), "省里支不支持？") == "支持"
    assert polarity("省里支不支持校企合作。", ("支持", "不支持"), "省里支不支持？") is None
    assert polarity("条例不支持。", ("支持", "不支持"), "省里支不支持？") == "不支持"


def test_shape_puts_the_direct_answer_first_and_keeps_three_points():
    point = lambda t, lab="第十条第一款": Sentence(t, (lab,), ())  # noqa: E731
    q = "企业能不能享受同等优惠？"
    out, dropped = shape([point("甲。"), point("乙。"), point("丙。"), point("丁。")], q, "企业能享受同等优惠。", 150)
    assert [s.text for s in out] == ["能。", "甲。", "乙。", "丙。"]
    assert dropped == [("more than three points", "丁。")]
    long_claim = Sentence("这是一个没有依据、也没有回答问题、却很长很长很长很长很长很长很长很长很长很长的句子。")
    out, dropped = shape([long_claim, point("甲。")], "有哪些支持？", "", 150)
    assert [s.text for s in out] == ["甲。"] and dropped[0][0] == "no citation"


def test_length_budget_cuts_at_a_list_mark():
    assert cut("支持甲、乙、丙和丁等方式。", 7) == "支持甲、乙等。"
    assert cut("甲，乙，丙。", 4) == "甲。"
    dropped = []
    s = [Sentence("可以。"), Sentence("支持甲、乙、丙和丁等方式。", ("第十条",)), Sentence("还有戊。", ("第九条",))]
    assert [x.text for x in fit(s, 10, dropped)] == ["可以。", "支持甲、乙等。"]
    assert dropped == [("over the length budget", "还有戊。")]


def test_the_same_label_on_consecutive_sentences_is_shown_once():
    s = [Sentence("可以。"), Sentence("甲。", ("第十条",)), Sentence("乙。", ("第十条",)), Sentence("丙。", ("第九条",))]
    assert render(s) == "可以。甲。乙。【第十条】丙。【第九条】"


def test_opens_with_answer():
    assert opens_with_answer("可以。") and opens_with_answer("不能。") and opens_with_answer("条例没有规定。")
    assert not opens_with_answer("县级以上人民政府应当……")


def test_a_bare_answer_word_gets_its_reason_in_the_clause_words(regulation, a10):
    q = "增资扩产项目能不能享受同等优惠？"
    out = check_citations("能。【第十条第二款】", a10, regulation, question=q)
    assert [s.text for s in out.sentences][0] == "能。" and out.sentences[1].labels == ("第十条第二款",)
    assert out.sentences[1].text in a10[1].text + "。" and out.added == ["第十条第二款"]
    # a label that was not given: the best evidence (the first given clause) is the reason
    out = check_citations("能。【第二十条】", a10, regulation, question=q)
    assert out.removed == ["第二十条"] and out.sentences[1].clauses == (a10[0],)


def test_a_bare_answer_word_shows_the_part_of_the_clause_asked_about(regulation):
    """「有。【第十八条】」 to 「每亩地的产出给企业打分，有这回事吗」: 第十八条 begins with 用地指标; the part asked about is
    its 亩产效益综合评价, which the question says in everyday words only (每亩 -> 亩产效益, data/synonyms.txt)."""
    q = "听说政府要按每亩地的产出给企业打分排名，条例里有这回事吗？"
    out = check_citations("有。【第十八条】", [regulation.resolve("第十八条")], regulation, question=q)
    assert out.sentences[1].text.startswith("对先进制造业企业用地开展亩产效益综合评价")


def test_an_answer_word_wrapped_like_a_label_is_the_answer_word(regulation):
    """「【会。】政府会……」: not a label 【会。】 and a sentence starting with a stray 】."""
    given = [regulation.resolve("第十八条")]
    said = "政府会在土地利用年度计划中安排先进制造业项目用地指标。"
    out = check_citations(f"【会。】{said}【第十八条】", given, regulation, question="厂子想扩建可地不够，政府会给安排地吗？")
    assert [s.text for s in out.sentences] == ["会。", said] and out.removed == []
    assert check_citations(f"会。】{said}【第十八条】", given, regulation).sentences[-1].text == said


def test_list_numbers_markdown_and_lead_ins_are_taken_off(regulation, a10):
    out = check_citations("1. **技术改造**：可以采取无偿补助、融资租赁、保险补偿等方式。【第十条第一款】\n"
                          "2. 第十条规定，增资扩产可以实行与新引进项目同等优惠政策。【第十条第二款】", a10, regulation)
    assert [s.text for s in out.sentences] == ["技术改造：可以采取无偿补助、融资租赁、保险补偿等方式。",
                                               "增资扩产可以实行与新引进项目同等优惠政策。"]
    assert out.replaced == []  # "1." and "2." are list numbers, not figures the clauses lack
    # "条例第26条规定的施行日期是……": the lead-in goes with its 的, not leaving "的施行日期……"
    a26 = [regulation.resolve("第二十六条")]
    out = check_citations("条例第26条规定的施行日期是2024年6月1日。【第二十六条】", a26, regulation)
    assert [s.text for s in out.sentences] == ["施行日期是2024年6月1日。"]
    # 「省规定：根据《江西省先进制造业促进条例》第十条第二款，……」: the heading goes with its lead-in
    out = check_citations("省规定：根据《江西省先进制造业促进条例》第十条第二款，增资扩产可以实行与新引进项目同等优惠政策。"
                          "【第十条第二款】", a10, regulation)
    assert [s.text for s in out.sentences] == ["增资扩产可以实行与新引进项目同等优惠政策。"]
    # "根据【第二十二条第二款】，只有……": the label goes to the end, and its 根据， with it
    a22 = [regulation.resolve("第二十二条第二款")]
    out = check_citations("根据【第二十二条第二款】，符合条件的先进制造业企业可以申请开展职称自主评审。", a22, regulation)
    assert [s.text for s in out.sentences] == ["符合条件的先进制造业企业可以申请开展职称自主评审。"]


def test_an_echo_with_a_label_points_at_its_clause(regulation, a10):
    q = "政府在技术改造方面有什么职责？"
    out = check_citations("政府在技术改造方面有以下职责：【第十条第一款】", a10, regulation, question=q)
    assert out.dropped[0][0] == "restates the question"
    assert [s.labels for s in out.sentences] == [("第十条第一款",)] and out.sentences[0].text in a10[0].text + "。"
    assert not restates("政府财政资金在先进制造业里主要起引导作用。", "政府财政资金在先进制造业里主要起啥作用？")


def test_the_module_example(regulation):
    """Replays the example in chatbot/shape.py's docstring."""
    q = "企业能不能共享高校的大型科研仪器？"
    raw = "是的，企业可以共享。推动重大科研基础设施设备与大型科研仪器向先进制造业企业开放共享。【第九条第三款】"
    out, dropped = shape(check_citations(raw, [regulation.resolve("第九条第三款")], regulation, question=q).sentences,
                         q, raw, 150)
    assert render(out) == "能。推动重大科研基础设施设备与大型科研仪器向先进制造业企业开放共享。【第九条第三款】"
    assert dropped == [("no citation", "是的，企业可以共享。")]


def test_a_question_about_several_articles_keeps_a_point_of_each():
    p = lambda t, lab: Sentence(t, (lab,), ())  # noqa: E731
    a17 = "县级以上人民政府及有关部门应当支持电力、运输等企业提升服务质量和效率，降低先进制造业用电、用水、用气、物流等要素成本。"
    a17b = "优化峰谷分时电价实施机制，加大对先进制造业企业建设新型储能的支持，保障先进制造业项目合理用能需求。"
    a16 = "县级以上人民政府及有关部门应当优化营商环境，提供便捷、高效的政务服务，降低制度性交易成本。"
    a18 = "保障先进制造业项目用地需求，支持工业用地弹性出让。"
    q = "办手续、水电气物流、拿地这几块，条例分别是怎么支持的？"
    out, dropped = shape([p(a17, "第十七条"), p(a17b, "第十七条"), p(a16, "第十六条"), p(a18, "第十八条")], q, "", 150)
    # a point per article: the second point on 第十七条 gives way, and the long ones are cut to share the budget
    assert [s.labels for s in out] == [("第十七条",), ("第十六条",), ("第十八条",)]
    assert ("more than three points", a17b) in dropped
    assert sum(len(s.text) for s in out) <= 150
    # the cut keeps what the question asks about (物流 and 成本), not only the head of the clause
    assert "物流等要素成本" in out[0].text and out[0].text.endswith("。")
    assert out[2].text == a18
    # three points, two of them on 第十七条: over the budget, the second one gives way before any cut
    out, dropped = shape([p(a17, "第十七条"), p(a17b, "第十七条"), p(a16, "第十六条")], q, "", 150)
    assert [s.labels for s in out] == [("第十七条",), ("第十六条",)] and out[0].text == a17
    assert dropped == [("over the length budget", a17b)]


def test_shares_and_a_question_guided_cut():
    assert _shares([10, 100, 100], 110) == [10, 50, 50]
    assert _shares([30, 30], 100) == [30, 30]
    assert select([Sentence("a", ("第十条",)), Sentence("b", ("第十条第二款",)), Sentence("c", ("第十条",)),
                   Sentence("d", ("第十二条",))], 3) == [Sentence("a", ("第十条",)), Sentence("b", ("第十条第二款",)),
                                                      Sentence("d", ("第十二条",))]
    assert cut("政府应当统筹资金，支持企业上市，加强人才培养。", 20, "企业上市有支持吗") == "政府应当统筹资金，支持企业上市。"
    # one long list: its head and its predicate, the middle elided
    assert cut("发展改革、教育、科学技术、财政等部门应当做好工作。", 20) == "发展改革……财政等部门应当做好工作。"
    # nothing in common with the question: the head, as before
    assert cut("甲乙丙丁，戊己庚辛，壬癸子丑。", 10, "问") == "甲乙丙丁。"


def test_a_repeated_point_is_shown_once_and_every_point_ends_with_a_full_stop():
    p = lambda t, lab="第二十二条第一款": Sentence(t, (lab,), ())  # noqa: E731
    a = "县级以上人民政府及有关部门应当支持高等学校、职业学校等组建区域产教融合共同体，加强产业工人队伍建设。"
    again = "校企合作培养技术工人，条例明确支持高等学校、职业学校等组建区域产教融合共同体，加强产业工人队伍建设。"
    out, dropped = shape([p(a), p(again)], "校企合作培养技术工人，条例怎么说？", "", 150)
    assert [s.text for s in out] == [a] and dropped == [("repeats an earlier point", again)]
    out, _ = shape([p("降低用电、用水、用气、物流等要素成本；", "第十七条")], "用电怎么保障？", "", 150)
    assert out[0].text == "降低用电、用水、用气、物流等要素成本。"
    # the same words in another version's clause are no repeat: they are what a comparison shows
    old_c = Clause("p11", 11, 1, (), "第十一条", "不得强制要求以审计结果作为结算依据，但合同另有约定的除外。",
                   regulation="pay-2020")
    new_c = replace(old_c, id="p12", article=12, label="第十二条", regulation="pay-2025",
                    text="不得强制要求以审计结果作为结算依据。")
    pts = [Sentence(old_c.text, ("2020年版第十一条",), (old_c,)), Sentence(new_c.text, ("第十二条",), (new_c,))]
    out, dropped = shape(pts, "20年那版和现在的比，审计结果结算有什么变化？", "", 150)
    assert [s.text for s in out] == [old_c.text, new_c.text] and not dropped


def test_a_no_its_clauses_do_not_bear_out_and_a_bare_list_intro_are_dropped():
    p = lambda t, lab="第八条第一款": Sentence(t, (lab,), ())  # noqa: E731
    q = "江西有没有实行产业链负责人制度？"
    chain = p("本省建立省、设区的市联动的先进制造业重点产业链链长制。")
    out, dropped = shape([chain], q, "没有。本省建立……链长制。", 150)
    assert ("a no its clauses do not bear out", "没有。") in dropped
    # (and the clause provides the 链长制 the question means by 产业链负责人制度: its "yes")
    assert [s.text for s in out] == ["有。", chain.text]
    out, dropped = shape([chain], "江西有没有实行产业链考核制度？", "没有。本省建立……链长制。", 150)
    assert [s.text for s in out] == [chain.text]
    out, _ = shape([p("本条例不规定具体补贴金额。")], "条例有没有补贴金额？", "没有。本条例不规定。", 150)
    assert out[0].text == "没有。"  # a no with a negation written in its point stays
    # a negative question, or a date the clause contradicts, bears out a "no" too
    green = p("支持先进制造业绿色低碳发展。", "第十二条第一款")
    assert shape([green], "江西大力发展制造业，会不会不顾环保？", "不会。", 150)[0][0].text == "不会。"
    start = p("本条例自2024年6月1日起施行。", "第二十六条")
    assert shape([start], "条例是不是2024年5月就开始施行了？", "不是。", 150)[0][0].text == "不是。"
    assert shape([start], "条例是不是2024年6月1日施行？", "不是。", 150)[0][0].text == start.text
    listing = p("支持先进制造业企业在境内外资本市场上市。", "第二十一条第二款")
    assert shape([listing], "条例是不是只支持在境内上市？", "不是。", 150)[0][0].text == "不是。"
    # 不同 is no negation: the "no" goes, and the clause's 上市 (the law's word for it) is the yes
    assert [s.text for s in shape([listing], "不同企业能不能上市？", "不能。", 150)[0]] == ["能。", listing.text]
    grant = p("可以采取无偿补助、融资租赁、保险补偿等方式，支持制造业企业开展技术改造。", "第十条第一款")
    q = "政府会不会直接白给一笔钱、不用还的那种？"  # 不用还 describes the money: no negative question
    # the "no" goes, and the clause's 无偿补助 (the law's word for 白给、不用还) is the yes
    assert [s.text for s in shape([grant], q, "不会。", 150)[0]] == ["会。", grant.text]
    intro = p("先进制造业发展规划和实施方案应当符合下列要求。", "第五条第二款")
    out, dropped = shape([p("规划可以动态调整。", "第五条第一款"), intro], "规划能修改吗？", "能。", 150)
    assert [s.text for s in out] == ["能。", "规划可以动态调整。"]
    assert ("introduces a list it does not give", intro.text) in dropped


def test_list_items_stay_with_their_lead_in_and_count_as_one_point(kb):
    """Items copied from a clause (（一）…) join the sentence introducing them; items given without one take
    the lead-in from the clause they cite. A list is one point, so it leaves room for other points."""
    from chatbot.shape import join_lists

    a43 = next(c for c in kb.clauses if c.regulation == "sci-tech-progress-law-2021" and c.article == 43)
    label = (a43.label,)
    out = join_lists([Sentence("下列企业按照国家有关规定享受税收优惠：", label, (a43,)),
                      Sentence("（一）从事高新技术产品研究开发、生产的企业。", label, (a43,)),
                      Sentence("（二）科技型中小企业。", label, (a43,)),
                      Sentence("可以实行同等优惠政策。", ("第十条第二款",))])
    assert [s.text for s in out] == ["下列企业按照国家有关规定享受税收优惠：（一）从事高新技术产品研究开发、生产的企业；"
                                     "（二）科技型中小企业。", "可以实行同等优惠政策。"]
    a41 = next(c for c in kb.clauses if c.regulation == "product-quality-law-2018" and c.article == 41
               and "（一）" in c.text)
    (alone,) = join_lists([Sentence("（一）未将产品投入流通的。", (a41.label,), (a41,)),
                           Sentence("（二）产品投入流通时，引起损害的缺陷尚不存在的。", (a41.label,), (a41,))])
    assert alone.text == ("生产者能够证明有下列情形之一的，不承担赔偿责任：（一）未将产品投入流通的；"
                          "（二）产品投入流通时，引起损害的缺陷尚不存在的。")
    # in an answer: the lead-in is kept (not dropped as announcing a list it does not give), one point
    points, dropped = shape(out, "哪些企业可以享受科技税收优惠？", "", 400)
    assert len(points) == 2 and points[0].text.startswith("下列企业") and not dropped
    # a lead-in given without its items takes them from its clause when the question asks for a list
    lead = [Sentence("下列企业按照国家有关规定享受税收优惠。", label, (a43,))]
    points, _ = shape(lead, "我们是科技型 SME，有哪些 tax benefit 可以享受？", "", 400)
    assert points[0].text.startswith("下列企业按照国家有关规定享受税收优惠：（一）从事高新技术产品研究开发、生产的企业；")
    assert points[0].text.endswith("（四）法律、行政法规规定的与科学技术进步有关的其他企业。")
    points, _ = shape(lead, "科技型中小企业能享受税收优惠吗？", "", 400)
    assert "（一）" not in points[0].text
    a16 = next(c for c in kb.clauses if c.regulation == "sci-tech-achievements-transformation-law-2015"
               and c.article == 16)
    points, _ = shape([Sentence("科技成果持有者可以采用下列方式进行科技成果转化。", (a16.label,), (a16,))],
                      "促进科技成果转化法哪一条列了科技成果转化可以采用的方式？", "", 400)
    assert "（一）自行投资实施转化；（二）向他人转让该科技成果" in points[0].text


def test_a_cited_sentence_taking_the_askers_words_into_the_clause_is_not_supported(kb):
    """「付款期限自甲方验收一拖再拖之日起算」 shares most bigrams with its clause, but 甲方验收一拖再拖 are the
    asker's words: the sentence is replaced by the clause's own and counted as unsupported."""
    from chatbot.citations import imports_question

    a10 = [c for c in kb.clauses if c.regulation == "sme-payment-regulations-2025" and c.article == 10]
    q = "甲方验收一拖再拖，我们的付款期限从哪天开始算？"
    out = check_citations(f"付款期限自甲方验收一拖再拖之日起算。【{a10[-1].label}】", a10, kb, question=q)
    (s,) = out.sentences
    assert "一拖再拖" not in s.text and s.text.endswith("付款期限自约定的检验或者验收期限届满之日起算。")
    assert [why for why, _ in out.dropped] == ["not supported by the clause it cites"]
    assert imports_question("付款期限应当自检验或者验收合格之日起算。", q, a10[-1].text) == ""


def test_reader_fixes_verbs_fillers_and_parentheses():
    """A 吗 question with its own verb is answered with it (支持。, not 是。), and a model's 「是。」 means it;
    a filler lead-in (具体来说，) goes; a point that is all in parentheses (the adoption note) loses them."""
    from chatbot.citations import LEAD_IN
    from chatbot.shape import _unwrapped

    q = "我们厂想开发工业旅游项目，条例支持企业参与吗？"
    assert yes_no(q) == ("支持", "不支持") and yes_no("外省企业也适用这个条例吗？") == ("适用", "不适用")
    assert yes_no("陶瓷产业在重点发展范围内吗？") == ("是", "不是")
    assert polarity("是。县级以上人民政府应当……【第二十三条第一款】", yes_no(q), q) == "支持"
    assert LEAD_IN.sub("", "具体来说，县级以上人大常委会应当加强监督。") == "县级以上人大常委会应当加强监督。"
    assert _unwrapped("（2024年3月26日江西省第十四届人民代表大会常务委员会第七次会议通过）。") == \
        "2024年3月26日江西省第十四届人民代表大会常务委员会第七次会议通过。"
    assert _unwrapped("县级以上（含）人民政府。") == "县级以上（含）人民政府。"


def test_a_yes_the_clauses_condition_rules_out_becomes_a_no(regulation):
    """第二十四条 frees from blame only what 未牟取私利: asked whether someone who did still goes free, the
    answer is 不能, whatever the model said; asked about someone who did not, the model's 能 stands."""
    from chatbot.shape import breaks_condition

    a24 = [c for c in regulation.clauses if c.article == 24]
    points = [Sentence(a24[0].text, (a24[0].label,), (a24[0],))]
    q = "先行先试没达到预期，如果经办人从中牟取了私利，还能免于追责吗？"
    assert breaks_condition(q, points) == "牟取私利"
    out, dropped = shape(points, q, "能。在先进制造业促进工作中……【第二十四条】", 150)
    assert out[0].text == "不能。" and dropped[0][0].startswith("a yes the clause's condition")
    assert breaks_condition("先行先试没成功，经办人没有牟取私利，能免责吗？", points) == ""
    assert yes_no("我们是行业龙头，能牵头把上下游配套企业组织起来一起搞技术攻关吗？") == ("能", "不能")


def test_words_that_negate_nothing_do_not_bear_out_a_no():
    """未来产业 and 无偿补助 in a clause, 规模不大 or 买不起 in a question are no negations: a "no" needs more."""
    from chatbot.shape import _no_is_borne_out

    key = [Sentence("本省重点推动陶瓷等传统制造业改造升级，培育未来信息通信等未来产业。", ("第六条第一款",))]
    assert not _no_is_borne_out("我家做陶瓷，这行还算重点行业吗？", key)
    shared = [Sentence("国家推动科研设施与仪器开放共享。", ("科学技术进步法第九十四条",))]
    assert not _no_is_borne_out("公司规模不大，买不起检测设备，听说可以用政府或高校的？", shared)
    assert _no_is_borne_out("江西大力发展制造业，会不会不顾环保？", key)


def test_a_law_outside_the_knowledge_base_is_named_without_the_words_before_it():
    from chatbot.scope import out_of_scope

    assert out_of_scope("员工周末加班，加班费按劳动法应该怎么算").match == "劳动法"
    assert out_of_scope("江西省食品安全条例对小作坊有什么规定？").match == "江西省食品安全条例"


def test_a_bare_yes_in_other_words_takes_the_questions_word():
    q = "规划中途做了调整，县政府要向本级人大常委会报告吗？"
    assert polarity("会。县级以上人民政府应当依法向本级人大常委会报告。【第二十五条】", ("要", "不要"), q) == "要"
    assert polarity("不会。【第二十五条】", ("要", "不要"), q) == "不要"
    assert polarity("会议期间……【第二十五条】", ("要", "不要"), q) is None


def test_a_cut_keeps_list_items_whole_with_the_words_introducing_them():
    """A list item is never cut at its commas (（二）产品投入流通时，… lost what it said); a kept item brings
    the words that introduce the list; items left out between two kept ones are marked ……; a condition
    (合同未作约定的，) kept without what follows it goes."""
    a40 = ("科技成果完成单位与其他单位合作进行科技成果转化的，应当依法由合同约定该科技成果有关权益的归属。合同未作约定的，"
           "按照下列原则办理：（一）在合作转化中无新的发明创造的，该科技成果的权益，归该科技成果完成单位；（二）在合作转化中"
           "产生新的发明创造的，该新发明创造的权益归合作各方共有；（三）对合作转化中产生的科技成果，各方都有实施该项科技成果"
           "的权利，转让该科技成果应经合作各方同意。")
    q = "跟研究所合作转化技术，合同没写清楚，新搞出来的发明归谁？"
    assert cut(a40, 90, q) == ("科技成果完成单位与其他单位合作进行科技成果转化的，合同未作约定的，按照下列原则办理：（一）在合作"
                               "转化中无新的发明创造的，该科技成果的权益，归该科技成果完成单位。")
    assert cut(a40, 60, q) == "科技成果完成单位与其他单位合作进行科技成果转化的，应当依法由合同约定该科技成果有关权益的归属。"
    labels = ("产品或者其包装上的标识必须真实，并符合下列要求：（一）有产品质量检验合格证明；（二）有中文标明的产品名称、生产厂"
              "厂名和厂址；（三）根据产品的特点和使用要求，需要标明产品规格、等级、所含主要成份的名称和含量的，用中文相应予以"
              "标明；（四）限期使用的产品，应当在显著位置清晰地标明生产日期和安全使用期或者失效日期。")
    out = cut(labels, 110, "我们产品的包装标识上必须写明哪些内容？")
    assert "（一）有产品质量检验合格证明；……（三）根据产品的特点" in out and "（二）" not in out
    a41 = ("生产者能够证明有下列情形之一的，不承担赔偿责任：\n（一）未将产品投入流通的；\n（二）产品投入流通时，引起损害的缺陷尚"
           "不存在的；\n（三）将产品投入流通时的科学技术水平尚不能发现缺陷的存在的。")
    assert cut(a41, 45) == "生产者能够证明有下列情形之一的，不承担赔偿责任：\n（一）未将产品投入流通的。"


def test_a_further_point_sharing_no_word_with_the_question_is_left_out(regulation):
    """基本原则有哪些: 第三条 answers it; 第十六条 (营商环境) and 第二十五条 (人大监督), copied from the evidence
    after it, share no two characters with the question and are left out. The first point always stays, and a
    question naming articles keeps every point."""
    by = {c.label: c for c in regulation.clauses}
    point = lambda label: Sentence(by[label].text, (label,), (by[label],))  # noqa: E731
    q = "我们在起草县里的配套文件，请问条例确立的基本原则一共有哪些"
    out, dropped = shape([point("第三条"), point("第十六条"), point("第二十五条")], q, "", 150)
    assert [s.labels for s in out] == [("第三条",)]
    assert [why for why, _ in dropped] == ["a further point whose clauses share no word with the question"] * 2
    out, _ = shape([point("第十六条"), point("第三条")], q, "", 150)  # the first point is the model's answer
    assert [s.labels for s in out] == [("第十六条",), ("第三条",)]
    out, _ = shape([point("第三条"), point("第十六条")], "第三条和第十六条讲什么", "", 150)
    assert [s.labels for s in out] == [("第三条",), ("第十六条",)]
    # a later point sharing a word stays: 营商 is the question's
    out, _ = shape([point("第三条"), point("第十六条")], "基本原则和营商环境有哪些规定", "", 150)
    assert [s.labels for s in out] == [("第三条",), ("第十六条",)]


def test_a_yes_to_what_the_clause_spares_becomes_a_no(regulation):
    """第二十四条: 不予或者免于追究相关责任. Asked whether a cadre whose pilot fell short 会被追责, the model's 会
    is wrong: the answer is 不会, with the clause and its conditions. A no stays, and so does a yes to
    something the clause does not spare."""
    from chatbot.shape import spares

    a24 = [c for c in regulation.clauses if c.article == 24]
    points = [Sentence(a24[0].text, (a24[0].label,), (a24[0],))]
    q = "干部带头搞改革试点没达到预期，会被追责吗？"
    assert spares(q, points) == "追责"
    out, dropped = shape(points, q, "会。在先进制造业促进工作中……【第二十四条】", 150)
    assert out[0].text == "不会。" and dropped[0][0] == "a yes the clause's 免于追责 rules out"
    out, _ = shape(points, "试点没成功，会不会被负面评价？", "会。……【第二十四条】", 150)
    assert out[0].text == "不会。"
    out, _ = shape(points, q, "不会。……【第二十四条】", 150)
    assert out[0].text == "不会。"
    assert spares("试点没达到预期，会被表彰吗？", points) == ""


def test_a_yes_to_liability_the_clause_exempts_from_becomes_a_no(kb):
    """科学技术进步法第六十八条 ends 「……仍不能完成该项目的，予以免责」: asked whether researchers 要担责, the
    model's 要 is wrong. Liability a cited clause imposes (产品质量法第四十一条第一款 应当承担赔偿责任) keeps the
    yes even beside an exemption (第二款 不承担赔偿责任), and so does a question about the exemption itself."""
    from chatbot.shape import spares

    def cite(label):
        c = next(c for c in kb.clauses if kb.cite(c) == label)
        return Sentence(c.text, (label,), (c,))

    a68 = [cite("科学技术进步法第六十八条")]
    q = "搞风险很高的探索性科研项目最后没做成，科研人员要担责吗？"
    assert spares(q, a68) == "担责"
    out, dropped = shape(a68, q, "要。……【科学技术进步法第六十八条】", 150)
    assert out[0].text == "不要。" and dropped[0][0] == "a yes the clause's 免于担责 rules out"
    assert spares("项目失败了，负责人要不要承担责任？", a68) == "承担责任"
    assert spares("项目失败了，能免责吗？", a68) == ""  # asks about the exemption: 能 is right
    assert spares("是不是由项目负责人负责验收？", a68) == ""  # 负责: in charge of, not liable
    both = [cite("产品质量法第四十一条第一款"), cite("产品质量法第四十一条第二款")]
    q = "产品缺陷把人弄伤了，生产者要承担责任吗？"
    assert spares(q, both) == "" and spares(q, both[1:]) == "承担责任"
    out, _ = shape(both, q, "要。……【产品质量法第四十一条第一款】", 150)
    assert out[0].text == "要。"


def test_a_cut_leaves_no_stub_and_the_first_point_gets_room_before_a_later_one(kb):
    """Cut to fair shares, 科学技术进步法第五十五条第二款 gave 「……有权按照国家有关规定。」 and 科技成果转化法第二十四条
    「对利用财政资金设立的……科技项目。」: phrases that only lead to a predicate that was cut off. A later stub
    goes; a first point cut to a stub (a list's lead-in alone, 「……给予奖励和报酬：。」) gets the room of the
    last point, so that it keeps the item that answers (（二）……作价投资的……股份).
    A cut inside an enumeration (「对完成、转化……」 -> 「对完成等。」) is not made when there is a comma."""
    by = {c.label: c for c in kb.clauses}
    point = lambda label: Sentence(by[label].text.replace("\n", ""), (label,), (by[label],))  # noqa: E731
    q = "我们企业自建的研发机构，能以什么身份参与财政科技计划项目？"
    out, dropped = shape([point("科学技术进步法第五十五条第二款"), point("科技成果转化法第二十四条"),
                          point("科学技术进步法第三十二条第一款")], q, "", 150)
    assert out[0].text == by["科学技术进步法第五十五条第二款"].text
    assert [s.labels[0] for s in out] == ["科学技术进步法第五十五条第二款", "科学技术进步法第三十二条第一款"]
    assert dropped == [("over the length budget", by["科技成果转化法第二十四条"].text)]
    q = "拿科研成果作价入股，没约定的话给技术人员的股份奖励怎么算？"
    out, dropped = shape([point("科技成果转化法第四十五条第一款"), point("科技成果转化法第四十四条第二款")], q, "", 150)
    assert [s.labels[0] for s in out] == ["科技成果转化法第四十五条第一款"]
    assert "：（二）利用该项职务科技成果作价投资的" in out[0].text and not out[0].text.endswith("：。")
    assert cut("甲单位未作规定的，按照标准对完成、转化成果的人员给予奖励。", 24) == "甲单位未作规定的。"


def test_a_question_about_several_things_keeps_a_point_in_other_words(kb):
    """拿地 shares no two characters with 第十八条's 用地; asked about several things, the point stays."""
    by = {c.label: c for c in kb.clauses}
    point = lambda label: Sentence(by[label].text, (label,), (by[label],))  # noqa: E731
    q = "作为厂长我最关心降成本：办手续、水电气物流、拿地这几块，条例分别是怎么支持的？"
    out, _ = shape([point("第十六条"), point("第十七条"), point("第十八条")], q, "", 150)
    assert [s.labels for s in out] == [("第十六条",), ("第十七条",), ("第十八条",)]
    out, dropped = shape([point("第十六条"), point("第十八条")], "办手续难，条例怎么说", "", 150)
    assert [s.labels for s in out] == [("第十六条",)]


def test_an_amount_or_less_is_no_list_intro(kb):
    """「……处五万元以上十万元以下的罚款。」 ends with 以下的罚款: an amount, not 「以下」 introducing a list, so the
    sentence stays (it was dropped, and the answer fell back to quoting the clause)."""
    a57 = next(c for c in kb.clauses if c.label == "产品质量法第五十七条第一款")
    text = "检验机构出具虚假证明的，对单位处五万元以上十万元以下的罚款。"
    out, dropped = shape([Sentence(text, (a57.label,), (a57,))], "检验机构出具虚假检验报告，罚多少？", "", 150)
    assert [s.text for s in out] == [text] and dropped == []
    out, dropped = shape([Sentence("规划应当符合以下要求。", ("第五条第二款",), ())], "规划有什么要求", "", 150)
    assert out == [] and dropped[0][0] == "introduces a list it does not give"


def test_a_thing_the_cited_list_names_is_answered_yes(regulation):
    """第六条第一款 lists 陶瓷 among the industries to upgrade: asked whether ceramics still counts, a model that
    only quoted the clause gets the 「算。」 the list gives. Nothing named, or a member only sharing a generic
    word (产业), or a question that is no "is it among them?", gets no word."""
    from chatbot.shape import listed

    a6 = next(c for c in regulation.clauses if c.article == 6 and c.paragraph == 1)
    point = Sentence(a6.text, (a6.label,), (a6,))
    q = "我家在景德镇做陶瓷三代了，这行在江西的政策里还算重点行业吗？"
    assert listed(q, point) == "陶瓷"
    out, dropped = shape([point], q, a6.text + "【第六条第一款】", 150)
    assert out[0].text == "算。" and dropped[0][0] == "the answer word, the cited list names 陶瓷"
    assert listed("做园林绿化的，算不算条例支持的产业？", point) == ""
    out, _ = shape([point], "做园林绿化的，算不算条例支持的产业？", a6.text + "【第六条第一款】", 150)
    assert out[0].labels  # no answer word
    out, _ = shape([point], "陶瓷企业能拿多少补贴？", a6.text + "【第六条第一款】", 150)
    assert out[0].labels


def test_a_cut_keeps_what_was_asked_when_who_acts_takes_the_room():
    """第十七条 cut to 45 characters for 「水电气物流怎么支持」: its first part (who acts, on power and transport
    companies) fills the room and says nothing asked; the part on 用电、用水、用气、物流 is kept alone. A
    question about that first part keeps it."""
    a17 = "县级以上人民政府及有关部门应当支持电力、市政公用服务、运输等企业提升服务质量和效率，降低先进制造业用电、用水、用气、物流等要素成本。"
    assert cut(a17, 45, "我最关心降成本：办手续、水电气物流、拿地这几块，条例分别是怎么支持的？") == "降低先进制造业用电、用水、用气、物流等要素成本。"
    assert cut(a17, 45, "条例对电力企业有什么要求").startswith("县级以上人民政府")
    a19 = "省、设区的市以及有条件的县级人民政府应当统筹用好资金，通过财政贴息、风险补偿、事后奖补等方式发挥资金的引导作用，加大对先进制造业发展的支持力度。"
    assert cut(a19, 45, "从财政、政府基金到银行贷款，资金链紧，有哪些能帮上忙的") == "通过财政贴息、风险补偿、事后奖补等方式发挥资金的引导作用。"


def test_asked_what_support_there_is_a_cut_keeps_the_means():
    """第十条第一款 cut for 「分别有哪些支持」: the part naming the means (无偿补助、融资租赁、保险补偿) shares no
    word with the question but is what it asks; with room for who acts and the means, both; with less,
    the means and what they are for. A question not asking for support keeps what it shares words with."""
    a10 = ("县级以上人民政府及有关部门应当将技术改造纳入工业经济发展重点，制定、实施支持工业技术改造投资政策，可以采取"
           "无偿补助、融资租赁、保险补偿等方式，支持制造业企业开展高端化、绿色化、智能化技术改造。")
    q = "企业想同时搞设备更新、数字化和绿色化改造，条例分别有哪些支持"
    assert cut(a10, 60, q) == "县级以上人民政府及有关部门应当将技术改造纳入工业经济发展重点，可以采取无偿补助、融资租赁、保险补偿等方式。"
    assert cut(a10, 50, q) == "可以采取无偿补助、融资租赁、保险补偿等方式，支持制造业企业开展高端化、绿色化、智能化技术改造。"
    assert "无偿补助" not in cut(a10, 50, "技术改造是不是工业经济发展重点")
    a19 = "省、设区的市以及有条件的县级人民政府应当统筹用好资金，通过财政贴息、风险补偿、事后奖补等方式发挥资金的引导作用，加大对先进制造业发展的支持力度。"
    assert cut(a19, 50, "政府资金怎么扶持高端制造？") == "通过财政贴息、风险补偿、事后奖补等方式发挥资金的引导作用，加大对先进制造业发展的支持力度。"


def test_a_copied_part_of_a_clause_that_was_not_asked_gives_way_to_the_part_that_was(regulation):
    """第十七条 has two parts: 用电、用水…要素成本 and 峰谷分时电价…新型储能. Asked about a storage station, a
    model that copied the first part (nothing of the question in it) is shown the second; asked about water
    and power costs, its copy of the first part stays."""
    from chatbot.citations import asked_part

    a17 = next(c for c in regulation.clauses if c.article == 17)
    first = a17.text.split("；")[0] + "。"
    q = "公司计划在厂区配套建一个储能电站，政府会给予支持吗？"
    assert asked_part(first, a17, q).startswith("优化峰谷分时电价实施机制")
    check = check_citations(f"会。{first}【第十七条】", [a17], regulation, question=q)
    assert [s.text for s in check.sentences if s.labels][0].startswith("优化峰谷分时电价实施机制")
    assert ("another part of its clause is what was asked", first) in check.dropped
    assert asked_part(first, a17, "厂里用水用气的成本太高，政府管不管？") == ""
    assert asked_part(a17.text, a17, q) == ""  # the whole clause copied: nothing to swap
    # a clause copied part by part keeps every part: a penalty's 「情节严重的，…」 is no part to swap
    check = check_citations(f"会。{first}【第十七条】{a17.text.split('；')[1]}【第十七条】", [a17], regulation, question=q)
    assert [s.text for s in check.sentences if s.labels][0] == first
    # a list's items are not swapped one for another: they are shown with their intro
    a5 = next(c for c in regulation.clauses if c.article == 5 and c.paragraph == 2)
    assert asked_part("（一）与本级国土空间规划相衔接；", a5, "起草配套文件，条例的基本原则有哪些") == ""


def test_a_yes_no_question_whose_thing_the_cited_point_provides_is_answered_yes():
    """A model that only quoted 第十条第一款 to 「政府会不会直接白给点钱」 gets the 「会。」 its 无偿补助 (the
    regulation's word for 白给钱) gives. No yes for a point that shares only a topic (产业链 of 产业链考核),
    a point with a negation, a negative or sweeping question, or a figure the point does not write."""
    from chatbot.shape import affirmed

    a10 = Sentence("县级以上人民政府及有关部门应当将技术改造纳入工业经济发展重点，可以采取无偿补助、融资租赁、保险补偿等方式，"
                   "支持制造业企业开展技术改造。", ("第十条第一款",), ())
    q = "我们是个小厂，想把老机器换掉搞升级，政府会不会直接白给点钱？"
    assert affirmed(q, a10) == "无偿补助"
    out, dropped = shape([a10], q, a10.text + "【第十条第一款】", 150)
    assert out[0].text == "会。" and ("the answer word, the cited point provides 无偿补助", "") in dropped
    chain = Sentence("本省建立省、设区的市联动的先进制造业重点产业链链长制。", ("第八条第一款",), ())
    assert affirmed("江西有没有实行产业链考核制度？", chain) == ""
    assert affirmed("政府是不是只会白给钱？", a10) == ""  # sweeping: the answer is no
    assert affirmed("政府会不会不给白给的钱？", a10) == ""  # negative question
    assert affirmed("政府会不会白给50万？", a10) == ""  # a figure the point does not write
    # what is asked is what follows the answer word: whether the committee is 民间自发成立的, not whether it exists
    committee = Sentence("本省建立制造业强省专家咨询委员会，完善专家咨询委员会工作机制。", ("第七条第一款",), ())
    assert affirmed("制造业强省专家咨询委员会是民间自发成立的吗？", committee) == ""
    assert affirmed("江西有没有专家咨询委员会？", committee) == "专家咨询委员会"
    # 提了没 asks; its 没 negates nothing
    school = Sentence("县级以上人民政府及有关部门应当支持职业学校等组建区域产教融合共同体，完善学徒制、工学交替培养等产业人才培养模式。",
                      ("第二十二条第一款",), ())
    assert affirmed("有那种学校和企业一起带徒弟、边上班边上课的培养方式，条例里提了没？", school) == "产教融合"
    spared = Sentence("对有关单位和个人不作负面评价，不予或者免于追究相关责任。", ("第二十四条",), ())
    assert affirmed("改革没搞成，会不会被追究责任？", spared) == ""


def test_a_bare_answer_shows_the_part_of_the_clause_that_names_what_was_asked(regulation):
    """「会。【第十七条】」 to a question on a storage station: both parts of 第十七条 share 政府/支持 with the
    question, words of every duty; the part naming 储能 is the one shown."""
    a17 = next(c for c in regulation.clauses if c.article == 17)
    check = check_citations("会。【第十七条】", [a17], regulation, question="公司计划在厂区配套建一个储能电站，政府会给予支持吗？")
    assert [s.text for s in check.sentences if s.labels][0].startswith("优化峰谷分时电价实施机制")


def test_a_purpose_or_means_the_model_added_to_a_clause_is_cut(regulation):
    """「…要素成本：通过制定和执行优惠政策。【第十七条】」: the sentence passes on the words it copies, but 第十七条
    says nothing of 优惠政策; that part is cut, the clause's words stay. A part the clause says stays."""
    from chatbot.citations import unsaid_parts

    a17 = next(c for c in regulation.clauses if c.article == 17)
    q = "用水用气物流的成本太高，县政府怎么帮企业降下来？"
    check = check_citations("降低先进制造业用电、用水、用气、物流等要素成本：通过制定和执行优惠政策。【第十七条】",
                            [a17], regulation, question=q)
    assert [s.text for s in check.sentences] == ["降低先进制造业用电、用水、用气、物流等要素成本。"]
    assert ("a part its clauses do not say", "通过制定和执行优惠政策") in check.dropped
    assert unsaid_parts("优化峰谷分时电价实施机制，加大对先进制造业企业建设新型储能的支持。", [a17]) == []
    assert unsaid_parts("优化峰谷分时电价实施机制：通过优化峰谷分时电价实施机制。", [a17]) == ["通过优化峰谷分时电价实施机制"]
    # a subject said again is no part said again (款项支付条例第十三条第二款: 机关、事业单位和大型企业 … 应当接受)
    pay = "机关、事业单位和大型企业不得将保证金限定为现金，中小企业以金融机构出具的保函等提供保证的，机关、事业单位和大型企业应当接受。"
    assert unsaid_parts(pay, [Clause("p", 13, 2, (), "第十三条第二款", pay)]) == []


def test_a_yes_to_a_negative_ask_that_the_clause_forbids_becomes_a_no():
    """「…还没有销售业绩，政府采购会不会因为这个不买」 asks whether the negative thing happens; 科学技术进步法第九十一条 says
    不得以商业业绩为由予以限制, so a model's 「会。」 becomes 「不会。」. A positive ask keeps its yes."""
    from chatbot.shape import forbids

    point = Sentence("首次投放市场的，政府采购应当率先购买，不得以商业业绩为由予以限制。", ("科学技术进步法第九十一条第一款",), ())
    q = "我们公司研发的新产品是第一次投放市场，还没有什么销售业绩，政府采购会不会因为这个不买？"
    out, dropped = shape([point], q, "会。首次投放市场的……【科学技术进步法第九十一条第一款】", 150)
    assert out[0].text == "不会。" and dropped[0] == ("a yes to a negative ask the clause's 不得 rules out", "会。")
    assert forbids("政府采购会不会率先购买新产品？", [point]) == ""


def test_a_yes_to_a_thing_the_cited_clause_excludes_is_a_no():
    """涉及婚姻的文书能用电子签名吗, and the model's 「能。」 beside 前款规定不适用下列文书：（一）涉及婚姻…: the list the clause
    leaves out names it, so no. A thing not in the list, or a question asking whether it is excluded, keeps its word."""
    from chatbot.shape import excluded

    text = "前款规定不适用下列文书：\n（一）涉及婚姻、收养、继承等人身关系的；\n（二）涉及停止供水、供热、供气等公用事业服务的。"
    c = Clause("a3p3", 3, 3, (1, 2), "第三条第三款", text)
    point = Sentence(text, ("第三条第三款",), (c,))
    q = "涉及婚姻的文书能用电子签名吗？"
    assert excluded(q, [point], ("能", "不能")) == "婚姻"
    out, dropped = shape([point], q, "能。" + text + "【第三条第三款】", 150)
    assert out[0].text == "不能。" and dropped[0][0] == "a yes the clause's exclusion of 婚姻 rules out"
    assert excluded("买卖合同能用电子签名吗？", [point], ("能", "不能")) == ""
    assert excluded("涉及婚姻的文书是不是不适用？", [point], ("是", "不是")) == ""


def test_an_excerpt_of_list_items_keeps_the_lead_in_and_items_alike_are_no_repeats():
    """A paraphrase of a list, not supported as written, is replaced by the clause's words: the items come with the
    lead-in that says what they are, and （六）电子认证服务提供者的电子签名 is no repeat of （一）电子认证服务提供者名称."""
    from chatbot.citations import excerpt, unsaid_parts

    text = ("电子签名认证证书应当准确无误，并应当载明下列内容：\n（一）电子认证服务提供者名称；\n（二）证书持有人名称；\n"
            "（三）电子认证服务提供者的电子签名；\n（四）其他内容。")
    c = Clause("a21", 21, 1, (1, 2, 3, 4), "第二十一条", text)
    said = "证书上必须写明电子认证服务提供者名称、证书持有人名称"
    assert excerpt(c, said).startswith("电子签名认证证书应当准确无误，并应当载明下列内容：（一）电子认证服务提供者名称；")
    copied = text.replace("\n", "")
    assert unsaid_parts(copied, [c]) == []
    assert unsaid_parts(copied.replace("（四）其他内容", "（四）电子认证服务提供者名称"), [c]) == ["（四）电子认证服务提供者名称"]


def test_an_article_number_written_before_the_clause_is_no_part_of_it_and_law_names_do_not_steer_a_cut():
    """「第九十七条利用财政性资金设立的……」: the number the model wrote as the clause's first word goes. Cut to its share,
    the point keeps what was asked (负责人…决策失误), not the part matching the law's title (开展科学技术研究开发)."""
    text = ("利用财政性资金设立的科学技术研究开发机构、高等学校和企业，在推进科技管理改革、开展科学技术研究开发、实施科技"
            "成果转化活动过程中，相关负责人锐意创新探索，出现决策失误、偏差，但尽到合理注意义务和监督管理职责，未牟取非法"
            "利益的，免除其决策责任。")
    c = Clause("a97", 97, 1, (), "第九十七条", text)
    point = Sentence("第九十七条" + text, ("科学技术进步法第九十七条",), (c,))
    q = "科学技术进步法里科研单位负责人决策失误免责是怎么规定的？"
    out, _ = shape([point], q, "", 80, topic="科研单位负责人决策失误免责是怎么规定的？")
    assert out[0].text.startswith("利用财政性资金设立的") and "出现决策失误" in out[0].text
    out, _ = shape([point], q, "", 80)
    assert "开展科学技术研究开发" in out[0].text  # the law's title words, left in, pick that part


def test_an_answer_over_the_budget_keeps_a_point_of_each_version(kb):
    """Two points on the 2020 text and one on the 2025 text, over the length budget: a 2020 point gives way, not
    the only point on the 2025 text (and the same words in the two versions are no repeat)."""
    old_liability, old_rule, new_rule = (kb.resolve(x) for x in (
        "2020年版款项支付条例第二十七条第二款", "2020年版款项支付条例第十一条", "款项支付条例第十二条"))
    points = [Sentence(c.text, (c.label,), (c,)) for c in (old_liability, old_rule, new_rule)]
    dropped = []
    out = fit(points, 147, dropped)
    assert {c.regulation for s in out for c in s.clauses} == {"sme-payment-regulations-2020", "sme-payment-regulations-2025"}
    assert new_rule in out[-1].clauses and dropped[0] == ("over the length budget", old_rule.text)
