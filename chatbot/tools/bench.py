"""Speed and memory of the LLM backends on this machine, side by side in one run, on the same prompts.

For each model and each backend (and each format a backend accepts: OpenVINO takes the .gguf file itself
and an export folder made from it), in a fresh process of its own: load time, time to first token and
decode tokens/s (medians over typical questions: the real prompt the answer pipeline builds, system rules
+ retrieved clauses + question), peak resident memory of that process, and whether its greedy answers
agree with the reference backend's (llama.cpp when installed, else the first). Different questions share
only the system-prompt prefix, which every backend reuses (llama.cpp and OpenVINO by their prompt cache,
transformers by the prefix KV cache in `chatbot.llm`). Retrieval speed is measured by `eval`.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import statistics
import time
from pathlib import Path

from ..answer import build_messages
from ..llm import LlamaCppLLM, OpenVINOLLM, TransformersLLM
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
    ttft, tps, tokens, texts = [], [], [], []
    for messages in prompts[1:]:
        start = time.perf_counter()
        first, n, pieces = None, 0, []
        for piece in llm.stream(messages, max_new_tokens=max_new_tokens):
            first = first or time.perf_counter()
            n += 1
            pieces.append(piece)
        end = time.perf_counter()
        text = "".join(pieces)
        # streamed pieces are not tokens everywhere (a detokenizer may hold back or merge them):
        # count the answer's tokens with the model's own tokenizer, the same way for every backend
        n = _count(llm, text, n)
        ttft.append((first or end) - start)
        tps.append((n - 1) / (end - first) if first and n > 1 and end > first else 0.0)
        tokens.append(n)
        texts.append(text)
    return {"load_s": round(load_s, 2), "ttft_s": round(statistics.median(ttft), 3),
            "tokens_per_s": round(statistics.median(tps), 1), "tokens": int(statistics.median(tokens)),
            "runs": len(ttft), "outputs": texts}


def _count(llm, text: str, pieces: int) -> int:
    try:
        return max(llm.count_tokens(text), 1) if text else pieces
    except Exception:  # noqa: BLE001 - a backend without a tokenizer count: its pieces
        return pieces


def make_backend(backend: str, model: str, threads: int = 0, dtype: str = "float32"):
    if backend == "transformers":
        return TransformersLLM(model, threads=threads, dtype=dtype)
    if backend == "openvino":
        return OpenVINOLLM(model, threads=threads)
    return LlamaCppLLM(model, threads=threads)


def _one(backend: str, model: str, dtype: str, prompts: list[list[dict]], max_new_tokens: int,
         threads: int) -> dict:
    """One measurement in its own process: the process's peak memory is this backend's alone."""
    llm = make_backend(backend, model, threads, dtype)
    row = measure(llm, prompts, max_new_tokens)
    try:
        row["prompt_tokens"] = llm.count_tokens("".join(m["content"] for m in prompts[1]))
    except Exception:  # noqa: BLE001 - a token count is a nicety
        row["prompt_tokens"] = None
    row["peak_rss_gb"] = _peak_rss_gb()
    return row


def targets(models: list[str], backends: list[str], dtypes: tuple[str, ...],
            exports: dict[str, list[str]]) -> list[tuple[str, str, str, str, str]]:
    """(backend, path loaded, weights label, format, model) for every measurement: transformers in each dtype,
    OpenVINO on the .gguf and on its export folders (`exports`: the folders of each model), llama.cpp on
    the .gguf."""
    out = []
    for model in models:
        quant = "q4_k_m" if "q4_k_m" in model.lower() else Path(model).suffix.lstrip(".")
        for backend in backends:
            if backend == "transformers":
                out += [(backend, model, dtype, "gguf → torch", model) for dtype in dtypes]
            elif backend == "openvino":
                out.append((backend, model, quant, "gguf", model))
                for folder in exports.get(model, []):
                    out.append((backend, folder, _weights(folder, quant), "export folder", model))
            else:
                out.append((backend, model, quant, "gguf", model))
    return out


def _weights(folder: str, gguf_quant: str) -> str:
    """An export folder's weights. One converted from the GGUF by OpenVINO GenAI keeps the GGUF's; one
    from optimum-intel (it writes openvino_config.json) is read off the model's weight types."""
    if not (Path(folder) / "openvino_config.json").is_file():
        return gguf_quant
    xml = (Path(folder) / "openvino_model.xml").read_text(encoding="utf-8", errors="replace")
    for element, label in (('"i4"', "int4 sym"), ('"u4"', "int4 asym"), ('"u8"', "int8"), ('"i8"', "int8")):
        if xml.count(f"element_type={element}") > 16:  # more than a few constants: the weights themselves
            return label
    return "fp16"


def _peak_rss_gb() -> float:
    """This process's peak resident memory (VmHWM: unlike getrusage's maxrss, not carried over the exec
    that started it, so a fresh process reports its own)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024 ** 2, 2)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)


def run_bench(models: list[str], retriever: Retriever, backends: list[str], context_clauses: int,
              max_new_tokens: int = 64, threads: int = 0, dtypes: tuple[str, ...] = ("float32",),
              exports: dict[str, list[str]] | None = None, log=print) -> list[dict]:
    reg = retriever.index.regulation
    prompts = [build_messages(reg, q, [h.clause for h in retriever.search(q, k=context_clauses).hits])
               for q in QUESTIONS]
    rows = []
    spawn = multiprocessing.get_context("spawn")
    for backend, path, weights, fmt, model in targets(models, backends, dtypes, exports or {}):
        log(f"{Path(model).name} · {backend} · {fmt} · {weights} ...")
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            try:
                row = pool.submit(_one, backend, path, weights, prompts, max_new_tokens, threads).result()
            except Exception as e:  # noqa: BLE001 - one backend failing does not end the bench
                log(f"  failed: {e}")
                continue
        row = {"model": Path(model).name, "backend": backend, "format": fmt, "dtype": weights} | row
        log(f"  { {k: v for k, v in row.items() if k != 'outputs'} }")
        rows.append(row)
    agreement(rows)
    return rows


def agreement(rows: list[dict]) -> None:
    """Mark each row with how many of its greedy answers equal the reference row's for the same model
    (llama.cpp if measured, else the first row), and their mean common prefix as a share of the longer."""
    for group in _groups(rows).values():
        ref = next((r for r in group if r["backend"] == "llama.cpp"), group[0])
        for r in group:
            pairs = list(zip(r["outputs"], ref["outputs"]))
            r["agrees_with"] = f"{ref['backend']} ({ref['format']})"
            r["same_answers"] = f"{sum(a == b for a, b in pairs)}/{len(pairs)}"
            r["common_prefix"] = round(statistics.mean(_prefix(a, b) for a, b in pairs), 2) if pairs else None


def _base(row: dict) -> str:
    return row["model"].removesuffix(".gguf")


def _prefix(a: str, b: str) -> float:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n / max(len(a), len(b), 1)


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
                     "ttft_s": round(statistics.median(times[1:]), 3)})
        log(f"  {rows[-1]}")
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| model | backend | format | weights | load s | median TTFT s | median decode tokens/s | peak memory GB "
             "| same greedy answers | prompt tokens |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['backend']} | {r['format']} | {r['dtype']} | {r['load_s']} | {r['ttft_s']} | "
                     f"{r['tokens_per_s']} | {r.get('peak_rss_gb')} | {r.get('same_answers')} vs "
                     f"{r.get('agrees_with')}, prefix {r.get('common_prefix')} | {r['prompt_tokens']} |")
    for group in _groups(rows).values():
        slow = next((r for r in group if r["backend"] == "transformers"), None)
        for r in group:
            if slow and r is not slow and slow["tokens_per_s"] and r["ttft_s"]:
                lines.append(f"\n{r['model']}: {r['backend']} ({r['format']}, {r['dtype']}) / transformers ({slow['dtype']}): "
                             f"{r['tokens_per_s'] / slow['tokens_per_s']:.1f}× the decode tokens/s, "
                             f"{r['peak_rss_gb'] / slow['peak_rss_gb']:.0%} of the memory, time to first token "
                             f"{r['ttft_s']} s vs {slow['ttft_s']} s.")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> Path:
    """Decode tokens/s, time to first token and peak memory of each row, side by side (bench.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{r['backend']}\n{r['format'].replace(' folder', '')}\n{r['dtype']}" for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(4 + 1.6 * len(rows), 4.2))
    for ax, key, title in zip(axes, ("tokens_per_s", "ttft_s", "peak_rss_gb"),
                              ("decode tokens/s (higher is better)", "time to first token, s", "peak memory, GB")):
        ax.bar(range(len(rows)), [r.get(key) or 0 for r in rows], color="#4a7ab8")
        ax.set_xticks(range(len(rows)), names, fontsize=7)
        ax.set_title(title, fontsize=9)
    fig.suptitle(rows[0]["model"] if rows else "", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _groups(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(_base(r), []).append(r)
    return groups


def sweep_markdown(model: str, sweep: list[dict]) -> str:
    return (f"Prompt cost per clause ({Path(model).name}, llama.cpp, time to first token):\n\n"
            "| clauses | prompt tokens | median TTFT s |\n|---|---|---|\n"
            + "\n".join(f"| {r['clauses']} | {r['prompt_tokens']} | {r['ttft_s']} |" for r in sweep))
