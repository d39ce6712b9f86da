"""UI callbacks without a browser: streaming chat, chips, escaping, feedback, search, API functions."""

import json

import pytest

from chatbot.answer import Assistant
from chatbot.config import Settings
from chatbot.feedback import FeedbackStore
from chatbot.retrieve import Retriever
from chatbot.webapp import WebApp, create_app, regulation_html, render_answer, safe_text


@pytest.fixture
def app(built_index, tmp_path):
    _, idx, _ = built_index
    assistant = Assistant(Settings(backend="extractive"), Retriever(idx, None), None, min_relevance=0.0)
    return WebApp(assistant, tmp_path / "fb" / "feedback.sqlite3")


def last(gen):
    out = None
    for out in gen:
        pass
    return out


def test_chat_answer_has_clickable_chips_and_evidence(app):
    chat, turns, records, evidence, box = last(app.respond("企业用地的亩产效益评价", [], [], [], 5))
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert '<a class="cite" href="#clause-a18p1">【第十八条】</a>' in chat[1]["content"]
    assert "第十八条" in evidence and len(turns) == 1 and records[0]["citations"] == ["第十八条"]
    assert box == ""


def test_follow_up_in_the_same_session_and_sessions_do_not_mix(app):
    _, turns, records, _, _ = last(app.respond("技术改造有什么支持方式？", [], [], [], 5))
    chat2, turns2, _, _, _ = last(app.respond("第二款呢？", [], turns, records, 5))
    assert "clause-a10p2" in chat2[-1]["content"]
    _, fresh, _, _, _ = last(app.respond("第二款呢？", [], [], [], 5))  # a fresh session has no history
    assert turns2[-1].standalone == "第十条第二款呢？" and fresh[-1].standalone == "第二款呢？"


def test_refusal_looks_different(app):
    chat, *_ = last(app.respond("违反本条例要罚多少钱？", [], [], [], 5))
    assert chat[-1]["content"].startswith('<div class="refusal">') and "本条例未对此作出规定" in chat[-1]["content"]


@pytest.mark.parametrize("bad,msg", [("", "请输入问题"), ("字" * 5000, "问题太长")])
def test_bad_input_gets_a_message_and_keeps_the_history(app, bad, msg):
    history = [{"role": "user", "content": "旧问题"}, {"role": "assistant", "content": "旧回答"}]
    chat, turns, *_ = last(app.respond(bad, history, [], [], 5))
    assert chat[:2] == history and msg in chat[-1]["content"] and turns == []


def test_user_and_model_text_is_never_html(app):
    chat, *_ = last(app.respond("<script>alert(1)</script>[【第三十条】](#clause-a30p1) 技术改造", [], [], [], 5))
    user = chat[0]["content"]
    assert "<script>" not in user and "&#60;script&#62;" in user
    assert "<a" not in user and "](" not in user and "&#91;【第三十条】&#93;&#40;&#35;clause" in user


def test_safe_text_and_render_answer(regulation):
    assert safe_text("<b>*x*</b>") == "&#60;b&#62;&#42;x&#42;&#60;/b&#62;"
    from chatbot.answer import Answer

    c = regulation.resolve("第十条第一款")
    ans = Answer("q", "可以无偿补助。【第十条第一款】【第三十条】\n依据：【第十条第一款】", [c], [], False, "x")
    html_ = render_answer(ans)
    assert html_.count('href="#clause-a10p1"') == 2
    assert "【第三十条】" in html_ and "clause-a30" not in html_  # an unverified label is plain text


def test_feedback_is_appended_and_survives(app):
    last(app.respond("链长制是什么", [], [], [], 5))
    _, _, records, _, _ = last(app.respond("链长制是什么", [], [], [], 5))
    assert "感谢" in app.record_feedback(records, 1, True)
    assert "感谢" in app.record_feedback(records, None, False, "  想看更多例子 ")
    lines = app.feedback.records()[::-1]  # oldest first
    assert [x["rating"] for x in lines] == ["helpful", "not_helpful"]
    assert lines[1]["comment"] == "想看更多例子" and lines[0]["question"] == "链长制是什么"
    assert set(lines[0]) == {"id", "time", "rating", "comment", "question", "answer", "citations", "refused"}
    assert lines[0]["citations"] == ["第八条第一款"]


def test_feedback_failure_is_reported_not_raised(app, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    app.feedback = FeedbackStore(blocker / "feedback.sqlite3")  # its parent is a file: cannot be created
    _, _, records, _, _ = last(app.respond("链长制是什么", [], [], [], 5))
    msg = app.record_feedback(records, None, True)
    assert "未能保存" in msg and "可写" in msg


def test_regulation_search(app, regulation):
    html_ = regulation_html(regulation, "用地")
    assert "<mark>用地</mark>" in html_ and 'data-article="18"' in html_ and 'data-article="1"' not in html_
    assert "没有找到" in app.search("不存在的词语")
    assert "&lt;b&gt;" in app.search("<b>") and "<b>" not in app.search("<b>")


def test_the_title_and_adoption_note_are_browsable_and_citable(app, regulation):
    full = regulation_html(regulation)
    assert full.index('data-clause="preamble"') < full.index('data-clause="a1p1"') and "2024年3月26日" in full
    assert 'data-article="0"' in regulation_html(regulation, "常务委员会")
    ans = app.assistant.ask("这个条例是哪次会议通过的？")
    assert ans.citations[0].label == "题注" and 'href="#clause-preamble"' in render_answer(ans)


def test_status_line_shows_the_relevance_gate(built_index):
    _, idx, emb = built_index
    a = Assistant(Settings(backend="extractive", min_relevance="0.42"), Retriever(idx, emb), None)
    assert "相关度阈值 0.42，设定值" in WebApp(a, "fb.jsonl").status()


def test_api_functions(app):
    out = app.api_ask("亩产效益")
    assert out["citations"][0]["label"] == "第十八条"
    assert "error" in app.api_ask("   ")
    first, turns = app.api_chat("技术改造有什么支持方式？", [])
    second, turns = app.api_chat("第二款呢？", turns)
    assert second["citations"][0]["label"] == "第十条第二款" and len(turns) == 2


def test_status_line_names_backend_and_offline_mode(app):
    assert "extractive" in app.status() and "BM25" in app.status()
    app.assistant.notices.append("语义检索未启用")
    assert "离线模式" in app.status() and "CHATBOT_EMBED_MODEL" in app.notices_markdown()


def test_create_app_builds_blocks(app):
    demo = create_app(app.assistant, app.feedback.path)
    assert demo.webapp.assistant is app.assistant
    names = {d.get("api_name") for d in demo.config["dependencies"] if d.get("api_name")}
    assert {"ask", "chat"} <= names


def test_streaming_with_a_real_tiny_model(built_index, tiny_qwen_dir, tmp_path):
    from chatbot.llm import TransformersLLM

    _, idx, _ = built_index
    a = Assistant(Settings(backend="transformers", max_new_tokens=6), Retriever(idx, None),
                  TransformersLLM(tiny_qwen_dir), min_relevance=0.0)
    shown = [step[0][-1]["content"] for step in WebApp(a, tmp_path / "fb.jsonl").respond(
        "技术改造有什么支持方式？", [], [], [], 5)]  # read each step as it comes: the chat list is updated in place
    assert any(x.endswith("⏳") for x in shown[:-1])  # tokens shown while generating
    final = shown[-1]
    assert "⏳" not in final and 'class="cite"' in final  # then the verified answer, with chips


@pytest.fixture
def kb_app(kb_index, tmp_path):
    _, idx, _ = kb_index
    assistant = Assistant(Settings(backend="extractive"), Retriever(idx, None), None, min_relevance=0.0)
    return WebApp(assistant, tmp_path / "feedback.sqlite3")


def test_the_browser_lists_every_law_current_first_with_metadata(kb_app, kb):
    full = regulation_html(kb)
    order = [full.index(f'data-law="{r.id}"') for r in kb.regulations]
    assert order == sorted(order) and kb.regulations[-1].status == "superseded"
    assert "已被新版本取代" in full and "主条例" in full and "全国人民代表大会常务委员会" in full
    assert "2018-01-01 施行" in full and "第二章 财税支持" in full
    one = kb_app.search("", "standardization-law-2017")
    assert 'data-law="standardization-law-2017"' in one and 'data-law="sme-promotion-law-2017"' not in one
    across = kb_app.search("保证金")
    assert 'data-law="sme-payment-regulations-2025"' in across and "<mark>保证金</mark>" in across
    assert 'data-law="jiangxi-advanced-manufacturing-promotion-regulations-2024"' not in across


def test_a_chip_of_another_law_points_to_its_clause_in_the_store(kb_app, kb):
    chat, *_ = last(kb_app.respond("中小企业促进法第三十五条讲什么", [], [], [], 5))
    assert 'href="#clause-sme-promotion-law-2017-a35p1">【中小企业促进法第三十五条】</a>' in chat[1]["content"]
    assert 'data-clause="sme-promotion-law-2017-a35p1"' in regulation_html(kb, store=True)
    assert "《中华人民共和国中小企业促进法》" in kb_app.laws_line()


def test_the_picker_keeps_retrieval_to_the_chosen_laws(kb_app):
    *_, evidence, _ = last(kb_app.respond("产品质量有什么要求", [], [], [], 5, ["product-quality-law-2018"]))
    assert evidence.count("产品质量法第") >= 3 and "【第" not in evidence
    out = kb_app.api_ask("质量", "standardization-law-2017")
    assert {h["regulation"] for h in out["hits"]} == {"standardization-law-2017"}
