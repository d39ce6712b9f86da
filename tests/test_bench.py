"""The benchmark on a tiny GGUF through both backends (numbers are meaningless; the code path is real)."""

from chatbot.tools.bench import context_sweep, markdown, run_bench
from chatbot.retrieve import Retriever


def test_bench_measures_both_backends(built_index, tiny_gguf):
    _, idx, _ = built_index
    r = Retriever(idx, None)
    rows = run_bench([tiny_gguf], r, ["transformers", "llama.cpp"], context_clauses=2, max_new_tokens=4,
                     log=lambda m: None)
    assert [x["backend"] for x in rows] == ["transformers", "llama.cpp"]
    for x in rows:
        assert x["load_s"] >= 0 and x["ttft_s"] > 0 and x["runs"] == 3 and x["prompt_tokens"] > 0
    md = markdown(rows)
    assert "| tiny-qwen2.gguf | llama.cpp |" in md and "time to first token" in md
    sweep = context_sweep(tiny_gguf, r, sizes=(1, 3), log=lambda m: None)
    assert [s["clauses"] for s in sweep] == [1, 3] and sweep[1]["prompt_tokens"] > sweep[0]["prompt_tokens"]
