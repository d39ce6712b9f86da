import pytest

from chatbot.config import Settings, SettingsError, from_env


def test_precedence_defaults_env_cli():
    assert from_env({}).backend == Settings().backend
    assert from_env({"CHATBOT_BACKEND": "extractive"}).backend == "extractive"
    assert from_env({"CHATBOT_BACKEND": "extractive"}, backend="openai").backend == "openai"
    assert from_env({"CHATBOT_TOP_K": "7"}).top_k == 7


def test_unknown_and_invalid_values_are_errors():
    with pytest.raises(SettingsError, match="CHATBOT_EMBED_MODEL"):
        from_env({"CHATBOT_EMBEDMODEL": "x"})
    with pytest.raises(SettingsError, match="choose one of auto, openvino, transformers, llama.cpp, openai, extractive"):
        from_env({"CHATBOT_BACKEND": "gpt"})
    with pytest.raises(SettingsError, match="expects int"):
        from_env({"CHATBOT_TOP_K": "many"})
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings().override(colour="red")


def test_dense_can_be_switched_off():
    assert not from_env({"CHATBOT_EMBED_MODEL": "none"}).dense_enabled
    assert from_env({}).dense_enabled


def test_importing_the_package_is_cheap():
    """`import chatbot` must not load the tokenizer, BM25 or numpy; public names load on first use."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys, chatbot; heavy = [m for m in ('jieba', 'bm25s', 'numpy', 'torch') if m in sys.modules]; "
            "assert not heavy, heavy; from chatbot import Settings, Label; print(Settings().top_k, Label(10).text)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "第十条"]
