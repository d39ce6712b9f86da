"""The tiny random Qwen2 test models load and generate everywhere the project needs them to.

Covers the three helpers in `tiny_models`: the Hugging Face folder, the GGUF file (in llama.cpp and
in transformers), and llama-cpp-python's OpenAI-compatible server streaming a chat completion.
"""

from __future__ import annotations

import json

import pytest

from tiny_models import (
    CHAT_TEMPLATE,
    EOS_TOKEN,
    free_port,
    make_tiny_gguf,
    make_tiny_qwen2,
    start_llama_server,
    stop_llama_server,
)

MESSAGES = [
    {"role": "system", "content": "你是江西省先进制造业促进条例的问答助手。"},
    {"role": "user", "content": "第一条讲了什么？"},
]
CHINESE = "第一条 为了促进先进制造业高质量发展，【第二条】适用于本省。\n## 标题 abc 2024年"


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    return make_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture(scope="module")
def gguf_path(tmp_path_factory):
    return make_tiny_gguf(tmp_path_factory.mktemp("tiny-gguf") / "tiny-qwen2-f32.gguf")


@pytest.fixture(scope="module")
def hf(hf_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(hf_dir), AutoModelForCausalLM.from_pretrained(hf_dir)


@pytest.fixture(scope="module")
def llama(gguf_path):
    import llama_cpp

    # logits_all so a test can compare every position's logits with transformers'
    return llama_cpp.Llama(model_path=str(gguf_path), n_ctx=512, verbose=False, logits_all=True)


def _chat_ids(tokenizer) -> list[int]:
    out = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


# ---------------------------------------------------------------- Hugging Face folder


def test_hf_folder_loads_as_qwen2_chat_model(hf):
    tok, model = hf
    assert model.config.model_type == "qwen2"
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (64, 2)
    assert (model.config.num_attention_heads, model.config.num_key_value_heads) == (4, 2)
    assert 1000 <= len(tok) <= 2000 and model.config.vocab_size == len(tok)
    assert tok.eos_token == EOS_TOKEN == "<|im_end|>"
    assert tok.convert_tokens_to_ids("<|im_start|>") != tok.unk_token_id

    text = tok.decode(_chat_ids(tok))
    assert text == (
        "<|im_start|>system\n你是江西省先进制造业促进条例的问答助手。<|im_end|>\n"
        "<|im_start|>user\n第一条讲了什么？<|im_end|>\n<|im_start|>assistant\n"
    )
    ids = tok(CHINESE)["input_ids"]
    assert tok.decode(ids) == CHINESE
    assert len(ids) < len(CHINESE)  # real merges: corpus characters are single tokens or better


def test_hf_greedy_generation_is_deterministic(hf):
    import torch

    tok, model = hf
    prompt = torch.tensor([_chat_ids(tok)])
    first = model.generate(prompt, max_new_tokens=8, do_sample=False)
    second = model.generate(prompt, max_new_tokens=8, do_sample=False)
    assert first.shape[1] > prompt.shape[1]
    assert torch.equal(first, second)


def test_builds_are_reproducible(hf_dir, tmp_path):
    again = make_tiny_qwen2(tmp_path / "again")
    for name in ("model.safetensors", "tokenizer.json"):
        assert (again / name).read_bytes() == (hf_dir / name).read_bytes()


# ---------------------------------------------------------------- GGUF in llama.cpp


@pytest.mark.llama
def test_gguf_chat_completion_streams_in_llama_cpp(llama):
    chunks = list(llama.create_chat_completion(messages=MESSAGES, max_tokens=8, temperature=0, stream=True))
    assert len(chunks) >= 2
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] in ("length", "stop")
    assert llama.metadata["tokenizer.chat_template"] == CHAT_TEMPLATE


@pytest.mark.llama
def test_gguf_tokenizer_round_trips_and_matches_hf(llama, hf):
    tok, _ = hf
    ids = llama.tokenize(CHINESE.encode("utf-8"), add_bos=False, special=False)
    assert llama.detokenize(ids).decode("utf-8") == CHINESE
    assert ids == tok(CHINESE)["input_ids"]
    assert llama.token_eos() == tok.convert_tokens_to_ids(EOS_TOKEN)


@pytest.mark.llama
def test_gguf_has_the_hf_weights(llama, hf):
    """Same logits at every position: the weights were exported with the right names and layout."""
    import numpy as np
    import torch

    tok, model = hf
    ids = _chat_ids(tok)
    llama.reset()
    llama.eval(ids)
    ours = np.asarray(llama.scores[: len(ids)])
    with torch.no_grad():
        theirs = model(torch.tensor([ids])).logits[0].numpy()
    # llama.cpp keeps its KV cache in f16, hence the tolerance; a wrong layout is off by ~the logits' scale.
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


# ---------------------------------------------------------------- GGUF in transformers


def test_gguf_loads_and_generates_in_transformers(gguf_path, hf):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    hf_tok, hf_model = hf
    assert tok.eos_token == EOS_TOKEN
    assert tok(CHINESE)["input_ids"] == hf_tok(CHINESE)["input_ids"]

    prompt = torch.tensor([_chat_ids(tok)])
    assert prompt[0].tolist() == _chat_ids(hf_tok)
    out = model.generate(prompt, max_new_tokens=8, do_sample=False)
    assert torch.equal(out, hf_model.generate(prompt, max_new_tokens=8, do_sample=False))


# ---------------------------------------------------------------- llama-cpp-python server


@pytest.mark.llama
def test_server_streams_chat_completion(gguf_path):
    import httpx

    port = free_port()
    proc = start_llama_server(gguf_path, port)
    try:
        body = {"messages": MESSAGES, "max_tokens": 8, "temperature": 0, "stream": True}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False) as client:
            assert client.get("/v1/models").json()["data"][0]["id"] == str(gguf_path)
            with client.stream("POST", "/v1/chat/completions", json=body) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                events = [line.removeprefix("data: ") for line in resp.iter_lines() if line.startswith("data: ")]
    finally:
        stop_llama_server(proc)

    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert any(c["choices"][0]["delta"].get("content") for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("length", "stop")


@pytest.mark.llama
def test_server_that_dies_raises_with_its_log(tmp_path):
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a gguf file")
    with pytest.raises(RuntimeError, match="(?s)exited.*Failed to load model"):
        start_llama_server(bogus, free_port(), timeout=30)
