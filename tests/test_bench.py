"""The benchmark on a tiny F16 GGUF through every backend and format, each in its own process (numbers are
meaningless; the code paths are real)."""

from pathlib import Path

import pytest

from chatbot.retrieve import Retriever
from chatbot.tools.bench import agreement, context_sweep, markdown, plot, run_bench, targets
from chatbot.tools.export import export_gguf
from conftest import has_llama


@pytest.fixture(scope="module")
def gguf16(tmp_path_factory):
    from tiny_models import make_tiny_gguf

    return str(make_tiny_gguf(tmp_path_factory.mktemp("bench") / "tiny-f16.gguf", f16=True))


def test_bench_measures_every_backend_and_format(built_index, gguf16, tmp_path):
    _, idx, _ = built_index
    r = Retriever(idx, None)
    folder = str(export_gguf(Path(gguf16), tmp_path / "tiny-ov"))
    llama = has_llama()  # optional: measured when installed
    rows = run_bench([gguf16], r, ["transformers", "openvino"] + ["llama.cpp"] * llama, context_clauses=2,
                     max_new_tokens=4, exports={gguf16: [folder]}, log=lambda m: None)
    assert [(x["backend"], x["format"]) for x in rows] == [
        ("transformers", "gguf → torch"), ("openvino", "gguf"), ("openvino", "export folder")] + [("llama.cpp", "gguf")] * llama
    for x in rows:
        assert x["load_s"] >= 0 and x["ttft_s"] > 0 and x["runs"] == 3 and x["prompt_tokens"] > 0
        assert 0.05 < x["peak_rss_gb"] < 8 and len(x["outputs"]) == 3
        assert x["agrees_with"] == ("llama.cpp (gguf)" if llama else "transformers (gguf → torch)")
    # the GGUF and its export folder hold the same weights: OpenVINO answers the same from both
    assert rows[1]["outputs"] == rows[2]["outputs"]
    md = markdown(rows)
    assert "| tiny-f16.gguf | openvino | export folder |" in md and "of the memory" in md
    assert plot(rows, tmp_path / "bench.png").stat().st_size > 5000


@pytest.mark.llama
def test_context_sweep(built_index, gguf16):
    r = Retriever(built_index[1], None)
    sweep = context_sweep(gguf16, r, sizes=(1, 3), log=lambda m: None)
    assert [s["clauses"] for s in sweep] == [1, 3] and sweep[1]["prompt_tokens"] > sweep[0]["prompt_tokens"]


def test_targets_and_agreement_by_hand():
    t = targets(["a-q4_k_m.gguf"], ["transformers", "openvino"], ("float32", "bfloat16"), {"a-q4_k_m.gguf": ["a-ov"]})
    m = "a-q4_k_m.gguf"
    assert t == [("transformers", m, "float32", "gguf → torch", m), ("transformers", m, "bfloat16", "gguf → torch", m),
                 ("openvino", m, "q4_k_m", "gguf", m), ("openvino", "a-ov", "q4_k_m", "export folder", m)]
    rows = [{"model": "m.gguf", "backend": "openvino", "format": "gguf", "outputs": ["可以。", "abcd"]},
            {"model": "m.gguf", "backend": "llama.cpp", "format": "gguf", "outputs": ["可以。", "abxy"]}]
    agreement(rows)
    assert rows[0]["same_answers"] == "1/2" and rows[0]["common_prefix"] == 0.75  # (1 + 2/4) / 2
    assert rows[1]["same_answers"] == "2/2" and rows[1]["agrees_with"] == "llama.cpp (gguf)"
