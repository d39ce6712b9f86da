"""The real backends on tiny random models built in the test: transformers (folder and GGUF), llama.cpp,
and the OpenAI-compatible client against a real llama-cpp-python server on loopback."""

import pytest

from chatbot.answer import Assistant
from tiny_models import build_tokenizer, script_token
from chatbot.config import Settings
from chatbot.llm import LlamaCppLLM, LLMError, LLMUnavailable, OpenAILLM, TransformersLLM, make_llm
from chatbot.retrieve import Retriever

MESSAGES = [{"role": "system", "content": "你是问答助手。"}, {"role": "user", "content": "技术改造有什么支持？"}]


def collect(llm, n=8):
    return list(llm.stream(MESSAGES, max_new_tokens=n))


def scripted_text() -> str:
    """What the scripted tiny models say before their end token."""
    return build_tokenizer().decode([script_token()])


def assert_generation_contract(make):
    """Greedy (equal across runs), capped by max_new_tokens, and stopped by the model's end token."""
    random = make("random")
    three, eight = collect(random, 3), collect(random, 8)
    assert three == collect(random, 3) and eight == collect(random, 8)  # greedy: reproducible
    assert 1 <= len(three) <= 3 < len(eight) <= 8  # the cap is what ended them
    assert "".join(eight).startswith("".join(three))
    scripted = make("scripted")
    # one token, then the end token: generation stops long before the cap, the end token is not shown
    assert "".join(collect(scripted, 64)) == scripted_text()


def test_transformers_folder_streams_greedy_and_reproducibly(tiny_qwen_dir):
    llm = TransformersLLM(tiny_qwen_dir)
    first = collect(llm)
    assert first and all(isinstance(p, str) for p in first)
    assert collect(llm) == first  # greedy decoding, and the cached system prefix changes nothing
    assert llm._prefix is not None and llm._prefix[1] is not None


def test_prefix_cache_gives_the_same_tokens_as_a_cold_run(tiny_qwen_dir):
    warm = TransformersLLM(tiny_qwen_dir)
    collect(warm)
    cold = TransformersLLM(tiny_qwen_dir)
    cold._prefix = ([], None)  # disable the cache
    assert collect(cold, 12) == collect(warm, 12)


def test_transformers_generation_contract(tiny_qwen_dir, scripted_qwen_dir):
    assert_generation_contract(lambda kind: TransformersLLM(tiny_qwen_dir if kind == "random" else scripted_qwen_dir))


def test_transformers_loads_a_gguf_file(tiny_gguf, tiny_qwen_dir):
    llm = TransformersLLM(tiny_gguf)
    assert collect(llm) == collect(TransformersLLM(tiny_qwen_dir))  # same weights, same greedy answer
    assert llm.count_tokens("技术改造") >= 1


@pytest.mark.llama
def test_llama_cpp_generation_contract(tiny_gguf, scripted_gguf):
    assert_generation_contract(lambda kind: LlamaCppLLM(tiny_gguf if kind == "random" else scripted_gguf, n_ctx=512))
    assert LlamaCppLLM(tiny_gguf, n_ctx=512).count_tokens("技术改造") >= 1


def test_missing_models_say_what_to_do(tmp_path):
    with pytest.raises(LLMUnavailable, match="CHATBOT_LLM_MODEL"):
        TransformersLLM(str(tmp_path / "nope")).load()
    with pytest.raises(LLMUnavailable, match="needs a local .gguf file"):
        LlamaCppLLM(str(tmp_path / "nope.bin")).load()
    with pytest.raises(LLMUnavailable, match="CHATBOT_OPENAI_BASE_URL"):
        OpenAILLM("m", "http://127.0.0.1:9/v1", timeout=2).load()


def test_make_llm_picks_the_backend():
    assert make_llm(Settings(backend="extractive")) is None
    assert make_llm(Settings(backend="llama.cpp", llm_model="x.gguf")).backend == "llama.cpp"
    assert make_llm(Settings(backend="openai")).backend == "openai"
    assert make_llm(Settings(backend="transformers")).backend == "transformers"
    assert make_llm(Settings()).backend == "openvino"  # auto: the first it tries (load_llm tries the rest)


@pytest.fixture(scope="module")
def server(tiny_gguf):
    from tiny_models import free_port, start_llama_server, stop_llama_server

    port = free_port()
    proc = start_llama_server(__import__("pathlib").Path(tiny_gguf), port)
    yield f"http://127.0.0.1:{port}/v1"
    stop_llama_server(proc)


@pytest.mark.llama
def test_openai_backend_against_a_real_server(server, tiny_gguf):
    llm = OpenAILLM("tiny", server, timeout=60)
    llm.load()
    pieces = collect(llm)
    # the server runs the same GGUF greedily: the same text as llama.cpp in process, within the cap
    assert pieces == collect(llm) and 1 <= len(pieces) <= 8
    assert "".join(pieces) == "".join(collect(LlamaCppLLM(tiny_gguf, n_ctx=512)))


@pytest.mark.llama
def test_openai_backend_timeout_is_an_llm_error(server):
    llm = OpenAILLM("tiny", server, timeout=0.0001)
    with pytest.raises(LLMError, match="timed out|failed"):
        collect(llm, 64)


def test_assistant_end_to_end_with_a_real_tiny_model(built_index, tiny_qwen_dir):
    _, idx, _ = built_index
    a = Assistant(Settings(backend="transformers", llm_model=tiny_qwen_dir, max_new_tokens=12),
                  Retriever(idx, None), TransformersLLM(tiny_qwen_dir), min_relevance=0.0)
    events = list(a.stream("技术改造有什么支持方式？"))
    assert [e.kind for e in events][-1] == "answer" and any(e.kind == "token" for e in events)
    ans = events[-1].answer
    # random weights never cite: the answer must fall back to quoting, never show uncited model text
    assert ans.backend == "transformers" and not ans.refused and ans.citations
    assert all(f"【{c.label}】" in ans.text for c in ans.citations)
    assert ans.timings["tokens"] >= 1 and ans.timings["first_token"] > 0


def test_assistant_load_falls_back_to_extractive_when_the_model_is_missing(tmp_path, tiny_embed_dir):
    s = Settings(backend="transformers", llm_model=str(tmp_path / "no-model"), embed_model="none",
                 index_dir=str(tmp_path / "index"))
    a = Assistant.load(s, log=lambda m: None)
    assert a.backend == "extractive" and any("extractive" in n for n in a.notices)
    assert any("BM25" in n for n in a.notices)
    assert a.ask("亩产效益").citations[0].article == 18
