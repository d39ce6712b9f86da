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
