"""Tiny random Qwen2 language models, built from scratch in a second or two, for tests.

Tests of the chat side of the project need a real causal language model -- one that loads through
the same code paths as a downloaded Qwen2 (transformers, a GGUF in llama.cpp, llama-cpp-python's
OpenAI-compatible server) -- but nothing may be downloaded and the tests must stay fast. So this
module builds one on the spot:

* a byte-level BPE tokenizer with Qwen2's exact pipeline (NFC normalizer, Qwen2's split regex,
  byte-level pre-tokenizer and decoder), trained with the `tokenizers` library on the project's
  Chinese corpus plus some ASCII/markdown, with a vocabulary of about 1,400 tokens. Like Qwen2, the
  special tokens `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` sit at the end of the vocabulary,
  `<|im_end|>` is the eos token, and the chat template is Qwen2-Instruct's ChatML template;
* a `Qwen2ForCausalLM` with random weights (hidden 64, 2 layers, 4 heads, 2 KV heads, FFN 128),
  seeded, so every build gives the same weights and the same greedy output.

The model says nothing sensible, but tokenization, chat templating, generation and streaming all
run for real. Public helpers:

* `make_tiny_qwen2(out_dir)` -- a Hugging Face folder (`AutoTokenizer` / `AutoModelForCausalLM`);
* `script_token()` -- a token id for `script=`: models built with it answer that token, then stop;
* `make_tiny_gguf(out_path)` -- the same model and tokenizer (same weights) as an F32 GGUF file,
  loadable by llama.cpp and by transformers' `gguf_file=` loader;
* `start_llama_server(gguf_path, port)` / `stop_llama_server(proc)` / `free_port()` -- run
  llama-cpp-python's OpenAI-compatible server on loopback (needs the `llama_cpp.server` extras).
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports stay inside the functions
    from transformers import Qwen2ForCausalLM, Qwen2Tokenizer

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"

SEED = 0
VOCAB_SIZE = 1500  # upper bound for the BPE vocabulary, special tokens included (min_frequency stops it near 1,400)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|endoftext|>"  # Qwen2 pads with <|endoftext|>, and its GGUFs name it bos as well

# Model shape: small enough to build and run in milliseconds, but a real GQA layout (4 q / 2 kv heads).
HIDDEN_SIZE = 64
NUM_LAYERS = 2
NUM_HEADS = 4
NUM_KV_HEADS = 2
INTERMEDIATE_SIZE = 128
CONTEXT_LENGTH = 32768  # as Qwen2; llama.cpp is run with a small n_ctx anyway
RMS_NORM_EPS = 1e-6
ROPE_THETA = 1_000_000.0

# Qwen2-Instruct's chat template (ChatML with a default system prompt), verbatim.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}"
    "{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Text added to the corpus so ASCII, digits and the markdown/CJK punctuation the project uses get
# merges of their own instead of staying single bytes.
_EXTRA_TEXT = "\n".join(
    [
        "【】，。：；、？！（）《》“”‘’",
        "0123456789 10 20 2024 3.5 100%",
        "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "# Title\n## Section\n- item\n* item\n1. first\n**bold** `code` [link](url) | a | b |",
        "The quick brown fox jumps over the lazy dog. You are a helpful assistant.",
    ]
)


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _train_bpe() -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, str], ...]]:
    """Train the byte-level BPE once per process: `(vocab items, merges)`, special tokens appended last.

    The trainer sees the normal text only; the special tokens are appended afterwards so that, as in
    Qwen2, ordinary tokens start at id 0 (the 256 byte symbols first) and the control tokens end the
    vocabulary.
    """
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - len(SPECIAL_TOKENS),
        min_frequency=2,
        # Tokens of at most 16 bytes (5 CJK characters): llama-cpp-python's `detokenize` reads each
        # piece into a 32-byte buffer and silently drops longer ones.
        max_token_length=16,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: any text is encodable
        show_progress=False,
    )
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.glob("*.md")))
    # The corpus is small, so left to itself BPE spends its merges on whole repeated phrases and
    # leaves about half the characters as 2-3 byte pieces. Listing every non-ASCII character twice
    # as a word of its own makes each one a single token first, as in a real Qwen2 vocabulary.
    chars = "\n".join(sorted({ch for ch in corpus + _EXTRA_TEXT if ord(ch) > 127 and not ch.isspace()}))
    tok.train_from_iterator([corpus, _EXTRA_TEXT, chars, chars], trainer=trainer)

    state = json.loads(tok.to_str())["model"]
    vocab = sorted(state["vocab"].items(), key=lambda kv: kv[1])
    assert [i for _, i in vocab] == list(range(len(vocab)))
    vocab += [(t, len(vocab) + k) for k, t in enumerate(SPECIAL_TOKENS)]
    merges = tuple(tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"])
    return tuple(vocab), merges


def script_token() -> int:
    """The token scripted models say: the first token of 支持."""
    return build_tokenizer()("支持")["input_ids"][0]


def build_tokenizer() -> Qwen2Tokenizer:
    """A `Qwen2Tokenizer` (transformers' tokenizers backend) over the freshly trained BPE."""
    from transformers import Qwen2Tokenizer

    vocab, merges = _train_bpe()
    return Qwen2Tokenizer(
        vocab=dict(vocab),
        merges=list(merges),
        unk_token=None,
        bos_token=None,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=list(SPECIAL_TOKENS),
        chat_template=CHAT_TEMPLATE,
        model_max_length=CONTEXT_LENGTH,
    )


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


def build_model(tokenizer: Qwen2Tokenizer | None = None, script: int | None = None) -> Qwen2ForCausalLM:
    """A seeded random `Qwen2ForCausalLM` sized for `tokenizer` (built if not given), in eval mode.

    With `script` (a token id) the model is made deterministic by hand instead: whatever the prompt, it
    says that one token and then its end token (see `_script`), so tests can check stopping exactly.
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    if tokenizer is None:
        tokenizer = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        num_key_value_heads=NUM_KV_HEADS,
        max_position_embeddings=CONTEXT_LENGTH,
        rms_norm_eps=RMS_NORM_EPS,
        rope_parameters={"rope_type": "default", "rope_theta": ROPE_THETA},
        tie_word_embeddings=False,
        bos_token_id=ids[PAD_TOKEN],
        eos_token_id=ids[EOS_TOKEN],
        pad_token_id=ids[PAD_TOKEN],
    )
    # Seeded for reproducible weights, in a forked RNG so the caller's random state is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = Qwen2ForCausalLM(config).eval()
        # Init leaves biases at zero; give the q/k/v biases (a Qwen2 peculiarity) random values too,
        # so a mistake in how they are exported would show up.
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name.endswith("_proj.bias"):
                    param.normal_(0.0, config.initializer_range)
    if script is not None:
        _script(model, script, ids[EOS_TOKEN])
    model.generation_config = GenerationConfig(
        bos_token_id=ids[PAD_TOKEN],
        eos_token_id=[ids[EOS_TOKEN], ids[PAD_TOKEN]],
        pad_token_id=ids[PAD_TOKEN],
        do_sample=False,
    )
    return model


def _script(model, say: int, eos: int) -> None:
    """Rewire the weights so that greedy decoding yields `say`, then `eos`, after any prompt.

    Attention and MLP outputs are zeroed, so the last hidden state is the last token's embedding. Every
    embedding is the unit vector e0 except `say`'s, which is e1; the output head maps e0 to `say` and e1
    to `eos` (all other rows zero). So any token -> `say` -> `eos`, in transformers and llama.cpp alike.
    """
    import torch

    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        emb = model.model.embed_tokens.weight
        emb.zero_()
        emb[:, 0] = 1.0
        emb[say, 0], emb[say, 1] = 0.0, 1.0
        head = model.lm_head.weight
        head.zero_()
        head[say, 0] = 1.0
        head[eos, 1] = 1.0


def make_tiny_qwen2(out_dir: Path, script: int | None = None) -> Path:
    """Save a tiny random Qwen2 chat model (weights, config, tokenizer, chat template) in `out_dir`.

    Loadable with `AutoTokenizer.from_pretrained(out_dir)` and `AutoModelForCausalLM.from_pretrained(out_dir)`.
    Returns `out_dir`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    build_model(tokenizer, script).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


# --------------------------------------------------------------------------------------------
# GGUF
# --------------------------------------------------------------------------------------------


def make_tiny_gguf(out_path: Path, script: int | None = None, f16: bool = False) -> Path:
    """Write the same tiny Qwen2 (same tokenizer, same weights) as an F32 GGUF file at `out_path`
    (with `f16`, its matrices in F16 as llama.cpp's converter writes them by default, norms and biases
    in F32: the layout OpenVINO GenAI's GGUF reader accepts).

    Follows llama.cpp's `convert_hf_to_gguf.py` for Qwen2: architecture "qwen2", a "gpt2"
    (byte-level BPE) tokenizer with the "qwen2" pre-tokenizer, tokens in their byte-level spelling,
    special tokens typed CONTROL, bos = pad = <|endoftext|>, eos = <|im_end|>, no BOS added, and
    the chat template under `tokenizer.chat_template`. Weight arrays are written as torch holds
    them, shape (out, in) -- Qwen2's q/k need no permutation (llama.cpp runs it with NEOX rope,
    which is transformers' rotate_half). Returns `out_path`.
    """
    import gguf
    import numpy as np

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    model = build_model(tokenizer, script)
    vocab, merges = _train_bpe()
    ids = {t: i for t, i in vocab}
    cfg = model.config

    writer = gguf.GGUFWriter(str(out_path), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.QWEN2])
    writer.add_name("tiny-random-qwen2")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_rope_freq_base(ROPE_THETA)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list([t for t, _ in vocab])
    writer.add_token_types(
        [gguf.TokenType.CONTROL if t in SPECIAL_TOKENS else gguf.TokenType.NORMAL for t, _ in vocab]
    )
    writer.add_token_merges([f"{a} {b}" for a, b in merges])
    writer.add_bos_token_id(ids[PAD_TOKEN])
    writer.add_eos_token_id(ids[EOS_TOKEN])
    writer.add_pad_token_id(ids[PAD_TOKEN])
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, cfg.num_hidden_layers)
    for hf_name, tensor in model.state_dict().items():
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ValueError(f"no GGUF name for tensor {hf_name!r}")
        array = tensor.detach().float().numpy()
        writer.add_tensor(name, array.astype(np.float16 if f16 and array.ndim == 2 else np.float32))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path


# --------------------------------------------------------------------------------------------
# llama-cpp-python's OpenAI-compatible server
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama_server(gguf_path: Path, port: int, timeout: float = 60.0) -> subprocess.Popen:
    """Start `python -m llama_cpp.server` for `gguf_path` on 127.0.0.1:`port`; return once it serves.

    Waits until `GET /v1/models` answers 200. Raises `RuntimeError` with the server's log if the
    process exits first, and `TimeoutError` (after stopping it) if it is not up within `timeout`
    seconds. The server's stdout/stderr go to a temporary log file (a pipe nobody reads could fill
    up and stall the server); its path is `proc.log_path`. Stop it with `stop_llama_server(proc)`.
    """
    import httpx

    log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf_path),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "512",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log.close()
    proc.log_path = Path(log.name)  # type: ignore[attr-defined]

    url = f"http://127.0.0.1:{port}/v1/models"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log_text = _read_log(proc)
            stop_llama_server(proc)  # only removes the log now
            raise RuntimeError(f"llama_cpp.server exited with code {proc.returncode}:\n{log_text}")
        try:
            if httpx.get(url, timeout=2.0, trust_env=False).status_code == 200:  # no proxy for loopback
                return proc
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    log_text = _read_log(proc)
    stop_llama_server(proc)
    raise TimeoutError(f"llama_cpp.server not ready after {timeout:.0f}s:\n{log_text}")


def stop_llama_server(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate a server from `start_llama_server` (kill it if it lingers) and delete its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log_path = getattr(proc, "log_path", None)
    if log_path is not None:
        Path(log_path).unlink(missing_ok=True)


def _read_log(proc: subprocess.Popen) -> str:
    log_path = getattr(proc, "log_path", None)
    if log_path is None or not Path(log_path).exists():
        return ""
    return Path(log_path).read_text(encoding="utf-8", errors="replace")[-5000:]
