import math

import pytest

from chatbot.config import Settings, SettingsError
from chatbot.labels import Label, article_refs
from chatbot.retrieve import Hit, Retriever, group_by_article, linear_fusion, rrf


def test_rrf_hand_example():
    # rankings [a, b] and [b, c] as places (inf: left out). a: 1/(1+1); b: 1/(1+2) + 1/(1+1); c: 1/(1+2)
    inf = float("inf")
    got = rrf([[1, 2, inf], [inf, 1, 2]], k=1)
    assert got.tolist() == pytest.approx([0.5, 1 / 3 + 0.5, 1 / 3])
    assert rrf([[1]], k=60).tolist() == pytest.approx([1 / 61])


def test_linear_fusion_hand_example():
    assert linear_fusion([0.2, 0.6], [0.0, 3.0], 0.5).tolist() == pytest.approx([0.0, 1.0])
    assert linear_fusion([0.2, 0.6], [4.0, 2.0], 0.5).tolist() == pytest.approx([0.5, 0.75])
    assert linear_fusion([0.3, 0.3], [0.0, 0.0], 0.7).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("question,refs", [
    ("第十条讲了什么", [Label(10)]),
    ("第10条", [Label(10)]),
    ("条例第二十四条讲什么", [Label(24)]),
    ("十八条说了什么", [Label(18)]),
    ("第五条第二款是什么", [Label(5, 2)]),
    ("第十条和第19条有什么区别", [Label(10), Label(19)]),
    ("第九十九条", [Label(99)]),
    ("哪一条规定了用地？", []),
    ("企业能享受一条龙服务吗", []),
    ("技术改造有什么支持", []),
])
def test_article_refs(question, refs):
    assert article_refs(question) == refs


@pytest.fixture(scope="module")
def retriever(built_index):
    _, idx, embedder = built_index
    return Retriever(idx, embedder)


@pytest.mark.parametrize("question,article", [
    ("第十条讲了什么", 10), ("第10条", 10), ("条例第二十四条讲什么", 24), ("十八条说了什么", 18),
])
def test_named_article_comes_first(retriever, question, article):
    r = retriever.search(question, k=5)
    n = len([c for c in retriever.index.clauses if c.article == article])
    assert [h.clause.article for h in r.hits[:n]] == [article] * n
    assert all(h.lookup for h in r.hits[:n])


def test_named_paragraph_comes_before_its_siblings(retriever):
    r = retriever.search("第五条第二款是什么", k=3)
    assert r.hits[0].clause.label == "第五条第二款"
    assert r.hits[1].clause.label == "第五条第一款"


def test_missing_article_is_reported(retriever):
    r = retriever.search("第九十九条规定了什么", k=3)
    assert r.missing_refs == [Label(99)]
    assert not any(h.lookup for h in r.hits)


def test_bm25_finds_dictionary_terms(retriever):
    for q, label in [("链长制是什么", "第八条第一款"), ("首席质量官制度", "第十五条第二款"),
                     ("峰谷分时电价", "第十七条"), ("亩产效益评价", "第十八条")]:
        assert retriever.search(q, k=1, mode="bm25").hits[0].clause.label == label


def test_hits_carry_both_ranks_and_scores(retriever):
    r = retriever.search("技术改造有哪些支持方式", k=5)
    assert r.mode == "hybrid" and len(r.hits) == 5
    scores = [h.score for h in r.hits]
    assert scores == sorted(scores, reverse=True)
    top = r.hits[0]
    assert top.dense_rank is not None and top.bm25_rank is not None and top.dense_score is not None
    # the tiny embedder is random; BM25 is not: its first clause is article 10's, and it is among the hits
    assert any(h.clause.article == 10 and h.bm25_rank == 1 for h in r.hits)


def test_bm25_only_retriever(built_index):
    _, idx, _ = built_index
    r = Retriever(idx, None)
    assert r.mode == "bm25"
    res = r.search("产教融合", k=3)
    assert res.hits[0].clause.article == 22 and res.hits[0].dense_rank is None
    with pytest.raises(ValueError, match="needs an embedding model"):
        r.search("产教融合", mode="dense")


def test_unmatched_question_gives_no_bm25_hits(built_index):
    _, idx, _ = built_index
    assert Retriever(idx, None).search("？？？", k=3).hits == []


def test_group_by_article(regulation):
    c = {x.id: x for x in regulation.clauses}
    hits = [Hit(c["a10p1"], 0.9), Hit(c["a19p1"], 0.8), Hit(c["a10p2"], 0.7)]
    groups = group_by_article(hits)
    assert [(g.article, g.score, len(g.hits)) for g in groups] == [(10, 0.9, 2), (19, 0.8, 1)]


def test_fusion_comes_from_settings(built_index):
    _, idx, emb = built_index
    with pytest.raises(SettingsError, match="linear, rrf"):
        Settings(fusion="max")
    r = Retriever(idx, emb, Settings(fusion="rrf", rrf_k=60), exact=False)
    hits = r.search("技术改造有什么支持？", k=3).hits
    # reciprocal rank scores: at most 1/61 from each of the two retrievers
    assert r.fusion == "rrf" and 0 < hits[0].score <= 2 / 61 + 1e-9


def test_rare_term_scores_by_hand():
    from chatbot.index import rare_term_scores

    # 家具 is in 1 of 3 texts: log(3/1)/log(3) = 1;  产业 is in all three: too common to count
    assert rare_term_scores(["家具", "产业"], ["现代家具产业", "产业集群", "产业链"], 1).tolist() == [1.0, 0.0, 0.0]
    # 集群 in 2 of 4 texts with max_df 2: log(4/2)/log(4) = 0.5 each
    assert rare_term_scores(["集群"], ["集群a", "集群b", "c", "d"], 2).tolist() == pytest.approx([0.5, 0.5, 0, 0])
    assert rare_term_scores(["x"], ["x"], 3).tolist() == [0.0]  # one text: nothing to tell apart
    # with each text's law: 仪器 is in one of law 0's two texts (rare there) and both of law 1's (common)
    texts, codes = ["仪器", "a", "仪器", "仪器b"], [0, 0, 1, 1]
    assert rare_term_scores(["仪器"], texts, 1, codes=codes).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert rare_term_scores(["仪器"], texts, 1).tolist() == [0.0] * 4  # over all texts it is in three
    # law 1 has three texts, 集群 in two of them: log(3/2)/log(3) with max_df 2
    got = rare_term_scores(["集群"], ["集群", "x", "集群", "集群", "y"], 2, codes=[0, 0, 1, 1, 1]).tolist()
    assert got == pytest.approx([1.0, 0.0, math.log(1.5) / math.log(3), math.log(1.5) / math.log(3), 0.0])


def test_a_rare_exact_term_lifts_its_clause(built_index):
    _, idx, _ = built_index
    q = "我们是做现代家具的，条例提到我们这个行业了吗？"
    with_exact = Retriever(idx, None).search(q, k=5).hits
    without = Retriever(idx, None, exact=False).search(q, k=5).hits
    target = next(c for c in idx.clauses if "现代家具" in c.text)
    assert with_exact[0].clause == target
    assert with_exact[0].score > next((h.score for h in without if h.clause == target), 0.0)


def test_the_title_and_adoption_note_are_retrieved_and_cited(built_index, regulation):
    _, idx, _ = built_index
    hits = Retriever(idx, None).search("这个条例是哪次会议通过的？", k=3).hits
    assert hits[0].clause.label == "题注" and regulation.resolve("【题注】") is hits[0].clause


def test_the_title_note_only_answers_questions_about_the_law_itself(built_index):
    """The 题注's words (江西省…条例) match any question naming the law: unless the question asks about the
    law itself (通过, 会议, 名称, 修订 …), its score counts half."""
    from chatbot.retrieve import PREAMBLE_WEIGHT

    _, idx, _ = built_index
    q = "江西省先进制造业促进条例出台的目标是什么"
    damped = {h.clause.label: h.score for h in Retriever(idx, None).search(q, k=40).hits}
    r = Retriever(idx, None)
    r.lookup = False  # (the damping goes with the lookups: off, the 题注 scores as any clause)
    plain = {h.clause.label: h.score for h in r.search(q, k=40).hits}
    assert damped["题注"] == pytest.approx(PREAMBLE_WEIGHT * plain["题注"])
    assert damped["第一条"] == pytest.approx(plain["第一条"])


def test_article_zero_names_no_article(built_index):
    _, idx, _ = built_index
    r = Retriever(idx, None).search("第零条讲什么", k=3)
    assert r.missing_refs == [Label(0)] and not any(h.lookup for h in r.hits)


@pytest.mark.parametrize("question, first", [
    ("省人大常委会是在第几次会议上通过这个条例的？", "题注"),
    ("条例从哪一天开始正式实施？", "第二十六条"),
    ("这部条例的生效日期是哪年哪月哪日？", "第二十六条"),
])
def test_questions_about_dates_look_up_the_notes_and_the_effective_article(retriever, question, first):
    r = retriever.search(question, k=3)
    assert r.hits[0].lookup and r.hits[0].clause.label == first


def test_date_refs_by_hand(regulation):
    from chatbot.retrieve import date_refs

    assert date_refs("条例是什么时候通过、什么时候施行的？", regulation) == [0, 26]
    assert date_refs("政府通过什么方式支持技术改造？", regulation) == []
    assert date_refs("技术改造项目什么时候能通过验收？", regulation) == []
    assert date_refs("我们企业从什么时候起可以依据这部条例申请相关支持？", regulation) == [26]
    assert date_refs("这个条例是哪天开始实行的？", regulation) == [26]  # 实行, as people say it
    assert date_refs("那个条例啥时候开始执行的 厂长让我查下现在生效没", regulation) == [26]
    assert date_refs("企业什么时候要执行强制性标准？", regulation) == []


@pytest.mark.parametrize("question, only_the_text", [
    ("第11条主要讲什么？", True), ("十八条说了什么", True), ("条例第十九条讲什么？", True),
    ("第四条第三款是什么内容？", True), ("第二十五条什么意思？", True), ("请问条例第十条讲的是啥？", True),
    ("第十条的主要内容是什么", True), ("第十条第二款呢？", True), ("条例第十条", True),
    ("第二十一条第二款是讲融资的吧？企业可以发哪些债", False), ("条例第26条规定的施行日期是哪天", False),
    ("第十条规定企业可以干什么", False), ("哪一条规定了用地", False), ("技术改造讲什么", False),
    ("第1条讲的立法依据和目的是什么", True), ("第五条规定的规划要求有哪些", True),
    ("第十条规定的优惠外地企业能享受吗", False), ("第三十二条规定了哪些追责情形？", True), ("第五条列了哪些要求", True),
    ("第十条规定了企业可以享受优惠吗", False),
])
def test_a_question_asking_only_what_an_article_says(question, only_the_text):
    from chatbot.retrieve import asks_article_text

    assert asks_article_text(question) is only_the_text
