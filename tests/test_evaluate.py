import json

import pytest

from chatbot.gold import GoldError, load_gold
from chatbot.tools.evaluate import article_metrics, dedupe, mean_metrics, naive_chunks


def test_article_metrics_hand_examples():
    assert article_metrics((10, 19), [19, 4, 10]) == {"hit@1": 1.0, "recall@3": 1.0, "recall@5": 1.0, "mrr": 1.0}
    assert article_metrics((10,), [4, 10]) == {"hit@1": 0.0, "recall@3": 1.0, "recall@5": 1.0, "mrr": 0.5}
    assert article_metrics((10, 19), [1, 2, 3, 19, 5, 10]) == {
        "hit@1": 0.0, "recall@3": 0.0, "recall@5": 0.5, "mrr": 0.25}


def test_article_metrics_empty_and_all_wrong():
    zero = {"hit@1": 0.0, "recall@3": 0.0, "recall@5": 0.0, "mrr": 0.0}
    assert article_metrics((10,), []) == zero
    assert article_metrics((10,), [1, 2, 3, 4, 5, 6]) == zero


def test_mean_metrics():
    rows = [article_metrics((1,), [1]), article_metrics((1,), [2, 1])]
    assert mean_metrics(rows) == {"hit@1": 0.5, "recall@3": 1.0, "recall@5": 1.0, "mrr": 0.75, "n": 2}
    assert mean_metrics([])["n"] == 0


def test_dedupe():
    assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]


def _write(tmp_path, lines):
    p = tmp_path / "gold.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


GOOD = json.dumps({"id": "a", "question": "技改？", "articles": [10], "key_points": ["无偿补助"], "type": "x"},
                  ensure_ascii=False)


def test_gold_file_loads(tmp_path):
    items = load_gold(_write(tmp_path, [GOOD]), 26)
    assert items[0].articles == (10,) and items[0].in_scope


def test_gold_errors_name_their_lines(tmp_path):
    lines = [GOOD,
             '{"id": "b", "question": "x"}',
             "{broken",
             json.dumps({"id": "c", "question": "q", "articles": [27], "key_points": [], "type": "t"}),
             GOOD]
    with pytest.raises(GoldError) as e:
        load_gold(_write(tmp_path, lines), 26)
    msg = str(e.value)
    assert "line 2: missing key(s) articles, key_points, type" in msg
    assert "line 3: broken JSON" in msg
    assert "line 4: article(s) [27] outside the regulation (1..26, or 0 for the title and adoption note)" in msg
    assert "line 5: duplicate id 'a'" in msg


def test_empty_gold_file_is_an_error(tmp_path):
    with pytest.raises(GoldError, match="holds no questions"):
        load_gold(_write(tmp_path, [""]), 26)


def test_repository_gold_files_are_valid(regulation):
    from conftest import ROOT

    n = len(regulation.articles)
    for name in ("gold.jsonl", "heldout.jsonl"):
        items = load_gold(ROOT / "eval" / name, n)
        assert len({i.id for i in items}) == len(items)
    gold = load_gold(ROOT / "eval" / "gold.jsonl", n)
    assert len(gold) >= 120 and sum(not g.in_scope for g in gold) >= 15
    for art in range(1, n + 1):
        assert sum(art in g.articles for g in gold) >= 3, art


def test_naive_chunks_cover_the_text_with_overlap(regulation):
    from conftest import CORPUS_FILE

    text = CORPUS_FILE.read_text(encoding="utf-8")
    chunks = naive_chunks(text, regulation, size=250, overlap=50)
    assert all(len(t) <= 250 for t, _ in chunks)
    assert chunks[0][0][200:250] == chunks[1][0][:50]
    assert chunks[-1][0].endswith(text[-10:])
    assert chunks[0][1][0] == 1 and chunks[-1][1][-1] == len(regulation.articles)


def test_cited_runs_by_hand():
    from chatbot.tools.evaluate import cited_runs

    assert cited_runs("可以。甲。乙。【第十条】丙。【第二条】") == [("甲。乙。", ["第十条"]), ("丙。", ["第二条"])]
    assert cited_runs("甲。没有标签") == []


def test_reader_scores_see_what_a_reader_sees(regulation):
    from chatbot.answer import Answer
    from chatbot.gold import GoldItem
    from chatbot.tools.evaluate import reader_scores

    c10 = regulation.resolve("第十条第一款")
    item = GoldItem("x", "政府能不能支持技术改造？", (10,), ("无偿补助",), "enterprise", yes_no=True)

    def answer(text, **kw):
        return Answer(item.question, text, [c10], [], False, "fake", standalone=item.question, **kw)

    good = reader_scores(item, answer("能。可以采取无偿补助、融资租赁、保险补偿等方式支持技术改造。【第十条第一款】\n依据：【第十条第一款】"),
                         regulation, 150)
    assert good == {"echo": False, "cited_question": False, "refusal_phrase": False, "fallback": False,
                    "over_budget": False, "direct": True, "cited_runs": 1, "supported_runs": 1}
    bad = reader_scores(item, answer("政府能不能支持技术改造？【第十条第一款】政府会发一百万元。【第十条第一款】"
                                     "本条例未对此作出规定。\n依据：【第十条第一款】", fallback=True), regulation, 20)
    assert bad["echo"] and bad["cited_question"] and bad["refusal_phrase"] and bad["fallback"]
    # the echoed question shares its words with the clause: only the invented amount is unsupported
    assert bad["over_budget"] and bad["direct"] is False and (bad["cited_runs"], bad["supported_runs"]) == (2, 1)


def test_articles_count_with_their_law_and_the_first_hit_s_law_is_scored(kb_index, kb, tmp_path):
    from chatbot.retrieve import Retriever
    from chatbot.tools.evaluate import article_key, answer_scores, evaluate_retrieval, gold_keys

    primary = kb.primary.id
    assert article_key(primary, 10, primary) == 10 and article_key("standardization-law-2017", 10, primary) == \
        "standardization-law-2017:10"
    rows = [{"id": "1", "question": "标准化法第十条讲什么", "regulation": "standardization-law-2017", "articles": [10],
             "key_points": [], "type": "article_number"},
            {"id": "2", "question": "第十条讲什么", "articles": [10], "key_points": [], "type": "article_number"},
            {"id": "3", "question": "标准化法第十条讲什么", "regulation": "standardization-law-2017",
             "articles": [11], "key_points": [], "type": "version"}]
    gold = load_gold(_write(tmp_path, [json.dumps(r, ensure_ascii=False) for r in rows]), kb)
    assert gold_keys(gold[0], primary) == {"standardization-law-2017:10"} and gold_keys(gold[1], primary) == {10}
    _, idx, _ = kb_index
    report = evaluate_retrieval(gold, Retriever(idx, None), {})
    assert report["variants"]["bm25"]["hit@1"] == round(2 / 3, 4)   # the third names article 10, gold says 11
    assert report["regulation_accuracy"] == 1.0 and report["version_questions_right_version"] == 1.0
    assert report["version_questions_version_first"] == 1.0
    from chatbot.tools.evaluate import versions_of
    assert versions_of(kb, "standardization-law-2017") == {"standardization-law-2017"} and versions_of(kb, None) == set()
    assert report["by_regulation"]["bm25"]["standardization-law-2017"]["n"] == 2
    # a citation of the right article number in the wrong law is a miss

    class Cited:
        citations = [kb.resolve("第十条第一款")]
        refused, removed_citations, text = False, [], "……【第十条第一款】"

    scores = answer_scores(gold[0], Cited, kb)
    assert scores["precision"] == 0.0 and scores["recall"] == 0.0
