"""Exposure and privacy defaults: localhost unless told, no question text in logs unless configured."""

from app import exposure_warning
from chatbot.answer import Assistant
from chatbot.config import Settings, from_env
from chatbot.retrieve import Retriever


def test_listens_on_localhost_by_default_and_warns_when_public():
    assert from_env({}).host == "127.0.0.1"
    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    assert "reachable from other machines" in exposure_warning("0.0.0.0")


def test_questions_are_not_logged_unless_configured(built_index, capsys):
    _, idx, _ = built_index
    secret = "我们公司叫保密科技，想问技术改造支持"
    Assistant(Settings(backend="extractive"), Retriever(idx, None), None).ask(secret)
    assert "保密科技" not in capsys.readouterr().err
    Assistant(Settings(backend="extractive", log_questions=True), Retriever(idx, None), None).ask(secret)
    assert "保密科技" in capsys.readouterr().err
    assert from_env({"CHATBOT_LOG_QUESTIONS": "1"}).log_questions is True
