"""Language-model backends behind one small interface: `stream(messages, max_new_tokens)` yields text.

    openvino      OpenVINO GenAI: a hub id of an OpenVINO export, a local exported folder, or a local
                  .gguf file read directly (prebuilt wheels, no compiler; the default when it loads)
    transformers  a hub id, a local folder, or a local .gguf file (dequantized by transformers)
    llama.cpp     a local .gguf file through llama-cpp-python (optional install; compiles)
    openai        any OpenAI-compatible HTTP server (vLLM, SGLang, Ollama, llama.cpp server)

Models load lazily, once, on first use; a failure raises `LLMUnavailable` naming the model and what to
do. Decoding is greedy everywhere, so answers are reproducible. The "extractive" backend has no model
at all and lives in `chatbot.answer`. Prompts and citations are also `chatbot.answer`'s business.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from .config import AUTO_BACKENDS, Settings
from .embed import hub_reachable, is_local


# a generation that yields no token for this long has hung; the stream then ends with an error
STREAM_TIMEOUT_S = 600
# a system prefix shorter than this many tokens is not worth a cached KV copy per request
MIN_PREFIX_TOKENS = 8
# prompt tokens llama.cpp evaluates per batch: a whole prompt (rules + 4 clauses, about 400 tokens) in one
N_BATCH = 512


class LLMUnavailable(RuntimeError):
    """The model could not be loaded or reached; the message names it and says what to do."""


class LLMError(RuntimeError):
    """Generation failed part-way (a crash, a timeout, a server error)."""


def _threads(threads: int) -> int:
    return threads if threads > 0 else (os.cpu_count() or 1)


class LLM:
    backend = "base"

    def __init__(self, model: str):
        self.model = model
        self._lock = threading.Lock()  # one generation at a time per loaded model

    @property
    def name(self) -> str:
        return Path(self.model).name if is_local(self.model) else self.model

    def load(self) -> None:
        """Load the model now (otherwise the first `stream` does)."""

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        raise NotImplementedError


class TransformersLLM(LLM):
    """A causal LM through transformers on CPU, float32 by default (measured fastest on CPU, see README)."""

    backend = "transformers"

    def __init__(self, model: str, threads: int = 0, dtype: str = "float32"):
        super().__init__(model)
        self.threads, self.dtype = threads, dtype
        self._tok = self._model = None
        self._prefix = None  # (token ids, KV cache) of the constant system-prompt prefix

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as e:
                raise LLMUnavailable("transformers is not installed; run `pip install -r requirements.txt`") from e
            torch.set_num_threads(_threads(self.threads))
            path = Path(self.model).expanduser()
            kwargs: dict = {}
            if is_local(self.model):
                if not path.exists():
                    raise LLMUnavailable(f"model {path} does not exist; pass a folder, a .gguf file or a hub id "
                                         "with --model / CHATBOT_LLM_MODEL")
                if path.suffix == ".gguf":
                    source, kwargs = str(path.parent), {"gguf_file": path.name}
                else:
                    source = str(path)
                kwargs["local_files_only"] = True
            else:
                source = self.model
                kwargs["local_files_only"] = not hub_reachable()
            try:
                self._tok = AutoTokenizer.from_pretrained(source, **kwargs)
                self._model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, self.dtype),
                                                                   **kwargs)
                self._model.eval()
            except Exception as e:  # noqa: BLE001 - every load failure means the same to the user
                offline = kwargs.get("local_files_only") and not is_local(self.model)
                why = "the model hub is unreachable and there is no local copy" if offline else f"{type(e).__name__}: {e}"
                raise LLMUnavailable(f"cannot load language model {self.model!r} ({why}); set --model or "
                                     "CHATBOT_LLM_MODEL to a local folder or .gguf file, or use --backend "
                                     "extractive") from e

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._tok(text)["input_ids"])

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        self.load()
        import torch
        from transformers import TextIteratorStreamer

        with self._lock:
            ids = self._tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                return_dict=True)
            streamer = TextIteratorStreamer(self._tok, skip_prompt=True, skip_special_tokens=True,
                                            timeout=STREAM_TIMEOUT_S)
            kwargs = dict(**ids, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer,
                          pad_token_id=self._tok.pad_token_id or self._tok.eos_token_id)
            cache = self._prefix_cache(ids["input_ids"][0].tolist())
            if cache is not None:
                kwargs["cache"] = cache
            error: list[BaseException] = []

            def run():
                try:
                    with torch.inference_mode():
                        self._model.generate(**kwargs)
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    error.append(e)
                    streamer.end()

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            # the streamer also sends empty pieces (at the start and while a character is incomplete)
            yield from (piece for piece in streamer if piece)
            worker.join()
            if error:
                raise LLMError(f"{self.name} failed while generating: {error[0]}") from error[0]

    def _prefix_cache(self, ids: list[int]):
        """A copy of the KV cache for the longest cached prefix (the system prompt), built on first use.

        The system prompt is the same for every question, so its keys and values are computed once;
        each request continues from a copy, which saves that part of prompt processing.
        """
        import copy

        import torch

        if self._prefix is None:
            sys_len = self._system_prefix_len(ids)
            if sys_len < MIN_PREFIX_TOKENS:
                self._prefix = ([], None)
            else:
                prefix = ids[:sys_len]
                with torch.inference_mode():
                    out = self._model(torch.tensor([prefix]), use_cache=True)
                self._prefix = (prefix, out.past_key_values)
        prefix, cache = self._prefix
        if cache is None or ids[:len(prefix)] != prefix or len(ids) <= len(prefix):
            return None
        return copy.deepcopy(cache)

    def _end_token_ids(self) -> set[int]:
        """The model's own end-of-turn tokens: the tokenizer's eos and the generation config's eos ids."""
        ends: set[int] = set()
        for value in (self._tok.eos_token_id, getattr(self._model.generation_config, "eos_token_id", None)):
            ends |= {value} if isinstance(value, int) else set(value or ())
        return ends

    def _system_prefix_len(self, ids: list[int]) -> int:
        """Tokens up to the end of the system turn (its first end token): the part that never changes."""
        ends = self._end_token_ids()
        return next((pos + 1 for pos, t in enumerate(ids) if t in ends), 0)


class LlamaCppLLM(LLM):
    """A GGUF model through llama-cpp-python; it reuses the KV cache of the longest common prompt prefix."""

    backend = "llama.cpp"

    def __init__(self, model: str, threads: int = 0, n_ctx: int = Settings.n_ctx):
        super().__init__(model)
        self.threads, self.n_ctx = threads, n_ctx
        self._llm = None

    def load(self) -> None:
        with self._lock:
            if self._llm is not None:
                return
            path = Path(self.model).expanduser()
            if path.suffix != ".gguf" or not path.is_file():
                raise LLMUnavailable(f"the llama.cpp backend needs a local .gguf file; {self.model!r} is not one "
                                     "(set --model / CHATBOT_LLM_MODEL)")
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise LLMUnavailable("llama-cpp-python is not installed; run "
                                     "`pip install -r requirements-llama.txt` (it compiles for a few minutes)") from e
            try:
                self._llm = Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=_threads(self.threads),
                                  n_batch=N_BATCH, verbose=False)
            except Exception as e:  # noqa: BLE001
                raise LLMUnavailable(f"llama.cpp cannot load {path}: {e}") from e

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False))

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        self.load()
        with self._lock:
            try:
                for chunk in self._llm.create_chat_completion(messages=messages, max_tokens=max_new_tokens,
                                                              temperature=0.0, top_k=1, stream=True):
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except Exception as e:  # noqa: BLE001
                raise LLMError(f"llama.cpp failed while generating: {e}") from e


OV_MODEL = "openvino_model.xml"   # what an OpenVINO export folder holds, with openvino_(de)tokenizer.xml
OV_KV_CACHE_GB = 1                # OpenVINO's paged KV cache: about 35,000 tokens of a 1.5B Qwen2.5


class OpenVINOLLM(LLM):
    """A model through OpenVINO GenAI's LLMPipeline on the CPU: an exported folder (`python -m chatbot
    export-model`, or a pre-converted hub repository such as OpenVINO/Qwen2.5-1.5B-Instruct-int4-ov), or
    a .gguf file, which OpenVINO GenAI converts when it loads (slower to load, see README "Speed").

    The pipeline runs with a paged KV cache and prefix caching, so the system prompt (the same for every
    question) is computed once; it decodes greedily and stops at the model's own end tokens (its
    generation config); text is streamed as the pipeline detokenizes it.
    """

    backend = "openvino"

    def __init__(self, model: str, threads: int = 0):
        super().__init__(model)
        self.threads = threads
        self._pipe = None
        self.source = ""  # what was loaded: "export" (a folder) or "gguf"

    def load(self) -> None:
        with self._lock:
            if self._pipe is not None:
                return
            try:
                import openvino_genai
            except ImportError as e:
                raise LLMUnavailable("openvino-genai is not installed; run `pip install -r requirements.txt`") from e
            path = self._resolve()
            props = {"INFERENCE_NUM_THREADS": _threads(self.threads)} if self.threads > 0 else {}
            # paged KV cache with prefix caching: the system prompt's keys and values, the same for every
            # question, are computed once and reused (README, "Speed")
            scheduler = openvino_genai.SchedulerConfig()
            scheduler.enable_prefix_caching = True
            scheduler.cache_size = OV_KV_CACHE_GB
            props["scheduler_config"] = scheduler
            if path.suffix == ".gguf":
                props["enable_save_ov_model"] = False  # never write converted files beside the user's GGUF
            try:
                self._pipe = openvino_genai.LLMPipeline(str(path), "CPU", **props)
            except Exception as e:  # noqa: BLE001 - every load failure means the same to the user
                raise LLMUnavailable(f"OpenVINO GenAI cannot load {path}: {str(e).strip().splitlines()[-1]}") from e
            self.source = "gguf" if path.suffix == ".gguf" else "export"
            # the first generation compiles OpenVINO's kernels (about 10 s for a 1.5B model here): do it
            # while loading, not in the first user's answer
            warm = self._pipe.get_generation_config()
            warm.max_new_tokens = 1
            self._pipe.generate(openvino_genai.ChatHistory([{"role": "user", "content": "你好"}]), warm)

    def _resolve(self) -> Path:
        """The local file or folder to load: a .gguf file, an export folder, or a hub export downloaded
        (or found in the local hub cache when the hub is unreachable)."""
        path = Path(self.model).expanduser()
        if is_local(self.model):
            if path.is_file() and path.suffix == ".gguf":
                return path
            if (path / OV_MODEL).is_file():
                return path
            what = "does not exist" if not path.exists() else f"is neither a .gguf file nor a folder with {OV_MODEL}"
            raise LLMUnavailable(f"OpenVINO model {path} {what}; export one with `python -m chatbot export-model` "
                                 "(README, \"Models\") or pass --model")
        try:
            from huggingface_hub import snapshot_download
        except ImportError as e:  # pragma: no cover - a dependency of transformers
            raise LLMUnavailable("huggingface_hub is not installed; run `pip install -r requirements.txt`") from e
        online = hub_reachable()
        try:
            folder = Path(snapshot_download(self.model, local_files_only=not online,
                                            allow_patterns=["*.xml", "*.bin", "*.json", "*.txt", "*.jinja"]))
        except Exception as e:  # noqa: BLE001
            why = "the model hub is unreachable and there is no local copy" if not online else f"{type(e).__name__}: {e}"
            raise LLMUnavailable(f"cannot get OpenVINO model {self.model!r} ({why}); pass a local export folder "
                                 "or .gguf file with --model, or another --backend") from e
        if not (folder / OV_MODEL).is_file():
            raise LLMUnavailable(f"{self.model!r} is not an OpenVINO export (no {OV_MODEL}); use an OpenVINO "
                                 "repository such as OpenVINO/Qwen2.5-1.5B-Instruct-int4-ov, or export it with "
                                 "`python -m chatbot export-model`")
        return folder

    def count_tokens(self, text: str) -> int:
        self.load()
        return int(self._pipe.get_tokenizer().encode(text).input_ids.get_shape()[-1])

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        self.load()
        import queue

        import openvino_genai

        config = self._pipe.get_generation_config()  # the model's own eos and stop tokens
        config.max_new_tokens = max_new_tokens
        config.do_sample = False
        pieces: queue.Queue = queue.Queue()
        done, stop = object(), threading.Event()
        error: list[BaseException] = []

        def on_text(text: str):
            pieces.put(text)
            # a reader that went away (a closed stream) stops the generation at the next token
            return openvino_genai.StreamingStatus.STOP if stop.is_set() else openvino_genai.StreamingStatus.RUNNING

        def run():
            try:
                self._pipe.generate(openvino_genai.ChatHistory(messages), config, on_text)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                error.append(e)
            finally:
                pieces.put(done)

        with self._lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                while True:
                    try:
                        piece = pieces.get(timeout=STREAM_TIMEOUT_S)
                    except queue.Empty:
                        raise LLMError(f"{self.name} produced nothing for {STREAM_TIMEOUT_S} s") from None
                    if piece is done:
                        break
                    if piece:
                        yield piece
            finally:
                stop.set()
                worker.join()
        if error:
            raise LLMError(f"OpenVINO GenAI failed while generating: {error[0]}") from error[0]


class OpenAILLM(LLM):
    """Any OpenAI-compatible /v1/chat/completions endpoint, streamed over server-sent events."""

    backend = "openai"

    def __init__(self, model: str, base_url: str, api_key: str = "", timeout: float = 60.0):
        super().__init__(model)
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "")
        self.timeout = timeout

    def load(self) -> None:
        import httpx

        try:
            r = httpx.get(f"{self.base_url}/models", headers=self._headers(), timeout=min(self.timeout, 10))
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise LLMUnavailable(f"cannot reach the OpenAI-compatible server at {self.base_url} ({e}); start it "
                                 "or set CHATBOT_OPENAI_BASE_URL") from e

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        import httpx

        body = {"model": self.model, "messages": messages, "stream": True, "temperature": 0,
                "max_tokens": max_new_tokens}
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers(),
                              timeout=self.timeout) as r:
                if r.status_code != 200:
                    r.read()
                    raise LLMError(f"server at {self.base_url} answered {r.status_code}: {r.text[:200]}")
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        piece = json.loads(data)["choices"][0]["delta"].get("content")
                    except (json.JSONDecodeError, KeyError, IndexError) as e:
                        raise LLMError(f"server at {self.base_url} sent a malformed event: {data[:200]}") from e
                    if piece:
                        yield piece
        except httpx.TimeoutException as e:
            raise LLMError(f"server at {self.base_url} timed out after {self.timeout:.0f}s") from e
        except httpx.HTTPError as e:
            raise LLMError(f"server at {self.base_url} failed: {e}") from e


def load_llm(settings, log=lambda m: None) -> tuple[LLM | None, list[str]]:
    """The configured backend's model, loaded, and notices for the user. "auto" tries AUTO_BACKENDS in
    order and takes the first that loads; when none does (no model, no hub), None: answers then quote
    the clauses (extractive), and the notices say what was missing and what to do."""
    names = AUTO_BACKENDS if settings.backend == "auto" else (settings.backend,)
    failures = []
    for name in names:
        llm = make_llm(replace(settings, backend=name))
        if llm is None:
            return None, []
        try:
            llm.load()
            return llm, []
        except LLMUnavailable as e:
            log(f"{name}: {e}")
            failures.append(f"{name}: {e}")
    return None, [f"未能加载语言模型，改为直接引用条文作答（extractive）：{'; '.join(failures)}"]


def make_llm(settings) -> LLM | None:
    """The configured backend's model object (not yet loaded), or None for the extractive backend
    ("auto" is resolved by `load_llm`)."""
    if settings.backend == "extractive":
        return None
    if settings.backend == "auto":
        return make_llm(replace(settings, backend=AUTO_BACKENDS[0]))
    if settings.backend == "openvino":
        return OpenVINOLLM(settings.model_for("openvino"), threads=settings.threads)
    if settings.backend == "transformers":
        return TransformersLLM(settings.model_for("transformers"), threads=settings.threads)
    if settings.backend == "llama.cpp":
        return LlamaCppLLM(settings.llm_model, threads=settings.threads, n_ctx=settings.n_ctx)
    return OpenAILLM(settings.model_for("openai"), settings.openai_base_url, settings.openai_api_key)
