"""Answer metrics on hand-computed examples, report files from a real run, run comparison, atomic writes."""

import json
import os

import pytest

from chatbot.answer import Answer, Assistant
from chatbot.config import Settings
from chatbot.gold import GoldItem
from chatbot.retrieve import Retriever
from chatbot.tools.evaluate import (aggregate_answers, answer_scores, evaluate_answers, gold_clauses,
                                    refusal_curve)
from chatbot.tools.report import atomic_write, compare, write_report
from chatbot.webapp import WebApp

GOLD = [GoldItem("g1", "企业用地亩产效益评价", (18,), ("亩产效益",), "enterprise"),
        GoldItem("g2", "技术改造有什么支持方式？", (10,), ("无偿补助", "融资租赁"), "colloquial"),
        GoldItem("g3", "技改和资金支持分别怎么规定", (10, 19), ("无偿补助", "财政贴息"), "multi_article"),
        GoldItem("g4", "违反本条例要罚多少钱？", (), (), "out_of_scope")]


def ans(regulation, labels, refused=False, text=None):
    cl = [regulation.resolve(x) for x in labels]
    return Answer("q", text or "".join(c.text + f"【{c.label}】" for c in cl), cl, [], refused, "x")


def test_answer_scores_by_hand(regulation):
    s = answer_scores(GOLD[2], ans(regulation, ["第十条第一款", "第十二条第二款"]), regulation)
    # cited articles {10, 12}; gold {10, 19}: precision 1/2, recall 1/2
    assert s["precision"] == 0.5 and s["recall"] == 0.5
    # gold clauses: a10p1 (无偿补助) and a19p1 (财政贴息); cited a10p1, a12p2
    assert s["clause_precision"] == 0.5 and s["clause_recall"] == 0.5
    assert s["key_points"] == 0.5  # 无偿补助 yes, 财政贴息 no
    assert s["correct"] and not s["wrong_refusal"] and s["valid_citation"]


def test_faithfulness_checks_each_cited_point_not_the_line_whole(regulation):
    """Three points on three articles, each in its clause's words, on one line: every point is supported
    (no one clause holds the whole line); an invented point counts against it."""
    labels = ["第十六条", "第十七条", "第十八条第一款"]
    s = answer_scores(GOLD[0], ans(regulation, labels), regulation)
    assert s["faithful"] == 1.0
    cl = [regulation.resolve(x) for x in labels]
    text = "".join(c.text + f"【{c.label}】" for c in cl[:2]) + "企业可以免费拿到厂房和五百万元奖金。【第十八条第一款】"
    s = answer_scores(GOLD[0], ans(regulation, labels, text=text + "\n依据：【第十六条】"), regulation)
    assert s["faithful"] == pytest.approx(2 / 3)


def test_refused_in_scope_and_out_of_scope(regulation):
    wrong = answer_scores(GOLD[0], ans(regulation, [], refused=True, text="本条例未对此作出规定。"), regulation)
    assert wrong["wrong_refusal"] and wrong["recall"] == 0.0 and wrong["precision"] is None and not wrong["correct"]
    right = answer_scores(GOLD[3], ans(regulation, [], refused=True, text="本条例未对此作出规定。"), regulation)
    assert right["correct"] and right["refused"]


def test_gold_clauses_from_key_points(regulation):
    assert gold_clauses(GOLD[2], regulation) == {"a10p1", "a19p1"}
    assert gold_clauses(GoldItem("x", "q", (10,), ("不存在的词",), "t"), regulation) == {"a10p1", "a10p2"}


def test_aggregate_empty_and_all_wrong(regulation):
    rows = [answer_scores(g, ans(regulation, ["第一条"]), regulation) | {"timings": {}} for g in GOLD]
    m = aggregate_answers(rows)
    assert m["citation_precision"] == 0.0 and m["citation_recall"] == 0.0 and m["citation_f1"] == 0.0
    assert m["out_of_scope_refused"] == 0.0 and m["correct"] == 0.0
    empty = aggregate_answers([])
    assert empty["questions"] == 0 and empty["citation_precision"] is None


def test_refusal_curve_by_hand():
    rows = [{"in_scope": True, "scope_gap": False, "relevance": 0.3},
            {"in_scope": True, "scope_gap": False, "relevance": 0.6},
            {"in_scope": False, "scope_gap": True, "relevance": 0.5},
            {"in_scope": False, "scope_gap": False, "relevance": 0.2}]
    c = {x["threshold"]: x for x in refusal_curve(rows, [0.0, 0.25, 0.4])}
    assert c[0.0] == {"threshold": 0.0, "out_of_scope_refused": 0.5, "in_scope_wrongly_refused": 0.0,
                      "threshold_alone_out_of_scope_refused": 0.0, "threshold_alone_in_scope_wrongly_refused": 0.0}
    assert c[0.25]["out_of_scope_refused"] == 1.0 and c[0.25]["in_scope_wrongly_refused"] == 0.0
    assert c[0.25]["threshold_alone_out_of_scope_refused"] == 0.5  # only the 0.2 one; the other needs the rules
    assert c[0.4]["in_scope_wrongly_refused"] == 0.5


def test_refusal_curve_spares_questions_that_name_an_article():
    rows = [{"in_scope": True, "scope_gap": False, "relevance": 0.1, "lookup": True}]
    assert refusal_curve(rows, [0.5])[0]["in_scope_wrongly_refused"] == 0.0


@pytest.fixture(scope="module")
def extractive(built_index):
    _, idx, emb = built_index
    return Assistant(Settings(backend="extractive"), Retriever(idx, emb), None, min_relevance=0.0)


def test_run_writes_every_report_file(extractive, tmp_path):
    metrics, rows = evaluate_answers(GOLD, extractive)
    files = write_report(tmp_path / "run", metrics, rows)
    names = {f.name for f in files}
    assert {"metrics.json", "answers.jsonl", "report.md", "report.html", "recall_by_article.png",
            "citations_by_type.png", "latency.png", "refusal_tradeoff.png"} <= names
    m = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert m["questions"] == 4 and m["out_of_scope_refused"] == 1.0 and m["answers_with_valid_citation"] == 1.0
    lines = (tmp_path / "run" / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["g1", "g2", "g3", "g4"]
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 4 and "<table>" in html
    assert "## Worst cases" in (tmp_path / "run" / "report.md").read_text(encoding="utf-8")


def test_run_with_a_tiny_real_model(built_index, tiny_qwen_dir, tmp_path):
    from chatbot.llm import TransformersLLM

    _, idx, _ = built_index
    a = Assistant(Settings(backend="transformers", max_new_tokens=8), Retriever(idx, None),
                  TransformersLLM(tiny_qwen_dir), min_relevance=0.0)
    metrics, rows = evaluate_answers(GOLD[:2], a)
    write_report(tmp_path / "tiny", metrics, rows)
    assert metrics["backend"] == "transformers" and rows[0]["timings"]["tokens"] >= 1
    assert (tmp_path / "tiny" / "report.html").exists()


def test_compare_lists_questions_that_changed(extractive, tmp_path, regulation):
    metrics, rows = evaluate_answers(GOLD, extractive)
    write_report(tmp_path / "a", metrics, rows)
    worse = [dict(r) for r in rows]
    worse[0] |= {"correct": False, "refused": True, "citations": []}
    write_report(tmp_path / "b", aggregate_answers(worse) | {k: metrics[k] for k in (
        "retrieval", "by_type", "recall_by_article", "refusal_curve", "backend", "llm_model", "embed_model")}, worse)
    md = compare(tmp_path / "a", tmp_path / "b")
    assert "## Right in A, wrong in B (1)" in md and "g1" in md.split("## Wrong in A")[0]
    assert "| correct |" in md
    with pytest.raises(ValueError, match="not an evaluation run"):
        compare(tmp_path / "a", tmp_path / "nothing")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "metrics.json"
    atomic_write(p, "old")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        atomic_write(p, "new")
    assert p.read_text() == "old" and [f.name for f in tmp_path.iterdir()] == ["metrics.json"]


def test_eval_tab_reports_a_broken_gold_file(extractive, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "question": "q", "articles": [99], "key_points": [], "type": "t"}\n', encoding="utf-8")
    app = WebApp(extractive, tmp_path / "fb.jsonl")
    summary, images, worst, archive = app.run_eval(str(bad), 0, tmp_path / "reports")
    assert "line 1" in summary and "未开始评测" in summary and archive is None
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(g.__dict__ | {"articles": list(g.articles), "key_points": list(g.key_points)},
                                         ensure_ascii=False) for g in GOLD), encoding="utf-8")
    summary, images, worst, archive = app.run_eval(str(good), 2, tmp_path / "reports")
    assert "Evaluation report" in summary and len(images) == 4 and archive.endswith(".zip")


def test_compare_two_retrieval_runs(tmp_path):
    def run(name, hit, ranked):
        d = tmp_path / name
        d.mkdir()
        report = {"variants": {"hybrid": {"hit@1": hit, "recall@3": 1.0, "recall@5": 1.0, "mrr": hit}},
                  "questions": [{"id": "q1", "question": "技改？", "gold": [10], "ranked": ranked}]}
        (d / "retrieval.json").write_text(json.dumps(report), encoding="utf-8")
        return d

    md = compare(run("a", 1.0, [10, 4]), run("b", 0.0, [4, 10]))
    assert "| hybrid | hit@1 | 1.000 | 0.000 | -1.0000 |" in md
    assert "Questions whose ranking changed (1)" in md and "A [10, 4]; B [4, 10]" in md
