"""Speed of the LLM backends on this machine: the same GGUF through transformers and through llama.cpp.

For each model and backend: load time, then for typical questions (the real prompt the answer pipeline
builds: system rules + retrieved clauses + question) the time to first token and tokens per second,
reported as medians, with the llama.cpp / transformers ratio. Different questions share only the
system-prompt prefix, which both backends reuse (llama.cpp by its prompt cache, transformers by the
prefix KV cache in `chatbot.llm`). Retrieval speed is measured by `python -m chatbot eval`.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from ..answer import build_messages
from ..llm import LlamaCppLLM, TransformersLLM
from ..retrieve import Retriever

# where the development tool ../shared/tools/get-offline-models puts real models; the bench runs on these
# when no --models are given
OFFLINE_MODELS = Path("~/.cache/regqa-models").expanduser()
OFFLINE_GGUFS = ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
CONTEXT_SIZES = (1, 2, 4, 6)  # clauses in the prompt for the context sweep

QUESTIONS = [
    "工厂做技术改造，政府能给什么支持？",
    "我们厂想上市，省里有什么支持？",
    "企业用地的亩产效益评价是怎么回事？",
    "引进的高层次人才孩子上学有什么服务？",
]


def default_models() -> list[str]:
    """The offline GGUF models that exist, smallest first; [] when none were fetched."""
    return [str(OFFLINE_MODELS / name) for name in OFFLINE_GGUFS if (OFFLINE_MODELS / name).exists()]


def measure(llm, prompts: list[list[dict]], max_new_tokens: int) -> dict:
    t0 = time.perf_counter()
    llm.load()
    load_s = time.perf_counter() - t0
    # one warm-up answer (not timed): first calls allocate buffers and build the prefix cache
    for _ in llm.stream(prompts[0], max_new_tokens=4):
        pass
    ttft, tps, tokens = [], [], []
    for messages in prompts[1:]:
        start = time.perf_counter()
        first, n = None, 0
        for piece in llm.stream(messages, max_new_tokens=max_new_tokens):
            first = first or time.perf_counter()
            n += 1
        end = time.perf_counter()
        text_tokens = n
        ttft.append((first or end) - start)
        tps.append((text_tokens - 1) / (end - first) if first and text_tokens > 1 and end > first else 0.0)
        tokens.append(text_tokens)
    return {"load_s": round(load_s, 2), "ttft_s": round(statistics.median(ttft), 2),
            "tokens_per_s": round(statistics.median(tps), 1), "tokens": int(statistics.median(tokens)),
            "runs": len(ttft)}


def run_bench(models: list[str], retriever: Retriever, backends: list[str], context_clauses: int,
              max_new_tokens: int = 64, threads: int = 0, dtypes: tuple[str, ...] = ("float32",),
              log=print) -> list[dict]:
    reg = retriever.index.regulation
    prompts = [build_messages(reg, q, [h.clause for h in retriever.search(q, k=context_clauses).hits])
               for q in QUESTIONS]
    rows = []
    for model in models:
        for backend in backends:
            variants = dtypes if backend == "transformers" else ("q4_k_m",)
            for dtype in variants:
                llm = (TransformersLLM(model, threads=threads, dtype=dtype) if backend == "transformers"
                       else LlamaCppLLM(model, threads=threads))
                log(f"{Path(model).name} · {backend} · {dtype} ...")
                row = {"model": Path(model).name, "backend": backend, "dtype": dtype,
                       "prompt_tokens": None} | measure(llm, prompts, max_new_tokens)
                try:
                    row["prompt_tokens"] = llm.count_tokens("".join(m["content"] for m in prompts[1]))
                except Exception:  # noqa: BLE001 - a token count is a nicety
                    pass
                log(f"  {row}")
                rows.append(row)
                del llm
                gc.collect()
    return rows


def context_sweep(model: str, retriever: Retriever, sizes=CONTEXT_SIZES, threads: int = 0, log=print) -> list[dict]:
    """Time to first token against the number of clauses in the prompt (llama.cpp): the cost per clause.

    Each size is measured on a different question than the warm-up, so only the system prompt is cached.
    """
    reg = retriever.index.regulation
    llm = LlamaCppLLM(model, threads=threads)
    llm.load()
    rows = []
    for n in sizes:
        times, tokens = [], []
        for q in QUESTIONS:
            messages = build_messages(reg, q, [h.clause for h in retriever.search(q, k=n).hits])
            start = time.perf_counter()
            for _ in llm.stream(messages, max_new_tokens=1):
                break
            times.append(time.perf_counter() - start)
            tokens.append(llm.count_tokens("".join(m["content"] for m in messages)))
        rows.append({"clauses": n, "prompt_tokens": int(statistics.median(tokens)),
                     "ttft_s": round(statistics.median(times[1:]), 2)})
        log(f"  {rows[-1]}")
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| model | backend | weights | load s | median TTFT s | median tokens/s | prompt tokens |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['backend']} | {r['dtype']} | {r['load_s']} | {r['ttft_s']} | "
                     f"{r['tokens_per_s']} | {r['prompt_tokens']} |")
    by = {}
    for r in rows:
        by.setdefault(r["model"], {})[(r["backend"], r["dtype"])] = r
    for model, d in by.items():
        fast = d.get(("llama.cpp", "q4_k_m"))
        slow = d.get(("transformers", "float32"))
        if fast and slow and slow["tokens_per_s"] and fast["ttft_s"]:
            lines.append(f"\n{model}: llama.cpp / transformers (fp32): {fast['tokens_per_s'] / slow['tokens_per_s']:.1f}× "
                         f"the tokens/s; time to first token {fast['ttft_s']} s vs {slow['ttft_s']} s "
                         f"(ratio {fast['ttft_s'] / slow['ttft_s']:.2f}).")
    return "\n".join(lines)


def sweep_markdown(model: str, sweep: list[dict]) -> str:
    return (f"Prompt cost per clause ({Path(model).name}, llama.cpp, time to first token):\n\n"
            "| clauses | prompt tokens | median TTFT s |\n|---|---|---|\n"
            + "\n".join(f"| {r['clauses']} | {r['prompt_tokens']} | {r['ttft_s']} |" for r in sweep))
