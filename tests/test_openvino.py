"""The openvino backend (OpenVINO GenAI) on tiny random models built in the test: a GGUF read directly,
an export folder made from it by `export-model`, the generation contract, and `auto` backend choice."""

from pathlib import Path

import pytest

from chatbot.answer import Assistant
from chatbot.config import Settings
from chatbot.llm import LLMUnavailable, OpenVINOLLM, load_llm, make_llm
from chatbot.retrieve import Retriever
from chatbot.tools.export import ExportError, export_gguf
from test_llm import MESSAGES, assert_generation_contract, collect, scripted_text

pytest.importorskip("openvino_genai")


@pytest.fixture(scope="module")
def ggufs(tmp_path_factory):
    """F16 tiny GGUFs (OpenVINO GenAI's reader takes F16 and the usual quantizations, not F32)."""
    from tiny_models import make_tiny_gguf, script_token

    d = tmp_path_factory.mktemp("ov-gguf")
    return {"random": str(make_tiny_gguf(d / "tiny.gguf", f16=True)),
            "scripted": str(make_tiny_gguf(d / "scripted.gguf", script=script_token(), f16=True))}


@pytest.fixture(scope="module")
def exported(ggufs, tmp_path_factory):
    d = tmp_path_factory.mktemp("ov-export")
    return {kind: str(export_gguf(Path(g), d / kind)) for kind, g in ggufs.items()}


def test_gguf_generation_contract(ggufs):
    assert_generation_contract(lambda kind: OpenVINOLLM(ggufs[kind]))
    llm = OpenVINOLLM(ggufs["random"])
    assert llm.count_tokens("技术改造") >= 1 and llm.source == "gguf"


def test_loading_a_gguf_writes_nothing_beside_it(ggufs):
    before = sorted(p.name for p in Path(ggufs["random"]).parent.iterdir())
    OpenVINOLLM(ggufs["random"]).load()
    assert sorted(p.name for p in Path(ggufs["random"]).parent.iterdir()) == before


def test_an_export_folder_answers_as_its_gguf_does(ggufs, exported):
    assert_generation_contract(lambda kind: OpenVINOLLM(exported[kind]))
    folder = OpenVINOLLM(exported["random"])
    assert collect(folder, 12) == collect(OpenVINOLLM(ggufs["random"]), 12) and folder.source == "export"
    assert sorted(p.name for p in Path(exported["random"]).iterdir()) == sorted(
        ["openvino_model.xml", "openvino_model.bin", "openvino_tokenizer.xml", "openvino_tokenizer.bin",
         "openvino_detokenizer.xml", "openvino_detokenizer.bin"])


def test_export_refuses_what_it_cannot_do(tmp_path, ggufs, exported):
    with pytest.raises(ExportError, match="not a .gguf file"):
        export_gguf(tmp_path / "x.bin", tmp_path / "out")
    with pytest.raises(ExportError, match="already holds an OpenVINO export"):
        export_gguf(Path(ggufs["random"]), Path(exported["random"]))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00 not really")
    with pytest.raises(ExportError, match="cannot convert"):
        export_gguf(bad, tmp_path / "bad-out")
    assert not (tmp_path / "bad-out").exists() and not list(tmp_path.glob(".export-*"))  # nothing half-written


def test_a_closed_stream_stops_generation_and_the_next_one_runs(ggufs):
    llm = OpenVINOLLM(ggufs["random"])
    stream = llm.stream(MESSAGES, max_new_tokens=64)
    next(stream)
    stream.close()  # the reader went away after one piece
    assert collect(llm, 8) == collect(OpenVINOLLM(ggufs["random"]), 8)


def test_unusable_models_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(LLMUnavailable, match="export-model"):
        OpenVINOLLM(str(tmp_path / "nope")).load()
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}")
    with pytest.raises(LLMUnavailable, match="neither a .gguf file nor a folder with openvino_model.xml"):
        OpenVINOLLM(str(tmp_path / "hf")).load()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(LLMUnavailable, match="unreachable and there is no local copy"):
        OpenVINOLLM("OpenVINO/Qwen2.5-1.5B-Instruct-int4-ov").load()


def test_auto_takes_openvino_then_transformers_then_quotes(ggufs, tiny_qwen_dir, tmp_path, monkeypatch):
    assert make_llm(Settings(backend="openvino")).model == "OpenVINO/Qwen2.5-1.5B-Instruct-int4-ov"
    assert make_llm(Settings(backend="transformers")).model == "Qwen/Qwen2.5-1.5B-Instruct"
    llm, notices = load_llm(Settings(llm_model=ggufs["random"]))
    assert llm.backend == "openvino" and notices == []
    # a Hugging Face folder is no OpenVINO export: transformers answers
    llm, notices = load_llm(Settings(llm_model=tiny_qwen_dir))
    assert llm.backend == "transformers" and notices == []
    # offline with the default hub ids: nothing loads, and the notice names both backends
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    llm, notices = load_llm(Settings())
    assert llm is None and "extractive" in notices[0]
    assert "openvino:" in notices[0] and "transformers:" in notices[0]


def test_assistant_end_to_end_on_openvino(built_index, ggufs):
    _, idx, _ = built_index
    a = Assistant(Settings(backend="openvino", max_new_tokens=12), Retriever(idx, None),
                  OpenVINOLLM(ggufs["scripted"]), min_relevance=0.0)
    events = list(a.stream("技术改造有什么支持方式？"))
    assert any(e.kind == "token" and e.text == scripted_text() for e in events)
    ans = events[-1].answer
    # the scripted word is no cited answer: the clauses are quoted, never uncited model text
    assert ans.backend == "openvino" and ans.citations and ans.fallback


def test_dequantized_gguf_is_the_same_model(tiny_gguf, tiny_qwen_dir, tmp_path):
    from chatbot.llm import TransformersLLM
    from chatbot.tools.export import dequantize_gguf

    folder = dequantize_gguf(Path(tiny_gguf), tmp_path / "hf")
    assert (folder / "config.json").is_file() and "quantization_config" not in (folder / "config.json").read_text()
    # bfloat16 weights of the same model: the same first tokens as the original folder, greedily
    assert collect(TransformersLLM(str(folder)), 3) == collect(TransformersLLM(tiny_qwen_dir), 3)


def test_export_without_optimum_says_how_to_get_it(tmp_path):
    from chatbot.tools.export import export_hub

    with pytest.raises(ExportError, match="requirements-export.txt"):
        export_hub("Qwen/Qwen2.5-1.5B-Instruct", tmp_path / "out", optimum_cli=str(tmp_path / "no-optimum-cli"))
