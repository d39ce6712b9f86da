"""Settings: one dataclass, every default commented, overridable from the environment and the CLI.

Environment variables are CHATBOT_<FIELD> (CHATBOT_EMBED_MODEL, CHATBOT_BACKEND, CHATBOT_LLM_MODEL, ...).
An unknown CHATBOT_* variable or override key is an error naming the valid keys, never ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("auto", "openvino", "transformers", "llama.cpp", "openai", "extractive")
# "auto" tries these in order and answers with the first that loads (else extractive, quoting clauses)
AUTO_BACKENDS = ("openvino", "transformers")
# the model each backend loads when none is given: hub ids (users with a model hub); offline, pass a path
DEFAULT_MODELS = {
    "openvino": "OpenVINO/Qwen2.5-1.5B-Instruct-int4-ov",  # pre-converted, int4 weights, no export needed
    "transformers": "Qwen/Qwen2.5-1.5B-Instruct",
    "openai": "Qwen/Qwen2.5-1.5B-Instruct",                # the name the server is asked for
}
FUSIONS = ("linear", "rrf")  # how dense and BM25 scores combine (chatbot.retrieve)
EMBED_DTYPES = ("auto", "float32", "bfloat16")  # the embedder's weights (chatbot.embed)
MAX_TOP_K = 20  # most clauses one request may ask for (the web slider, the API); bounds the work per request


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    corpus_dir: str = str(ROOT / "corpus")   # the knowledge base folder (chatbot.kb), or one regulation file
    index_dir: str = str(ROOT / "index")     # built index; rebuilt from corpus/ when stale
    regulations: str = ""                    # ids (comma-separated) answers may draw on; "" = every current one
    embed_model: str = "BAAI/bge-small-zh-v1.5"  # hub id or local sentence-transformers folder; "none" = BM25 only
    embed_dtype: str = "auto"                # the embedder's weights: float32, bfloat16, or auto = bfloat16 on
    #                                          a CPU that computes it natively (avx512_bf16/AMX), else float32
    backend: str = "auto"                    # answer backend: one of BACKENDS; auto = openvino, else transformers
    llm_model: str = ""                      # hub id, local folder or .gguf file; "" = DEFAULT_MODELS[backend]
    openai_base_url: str = "http://127.0.0.1:8000/v1"  # OpenAI-compatible server (vLLM, llama.cpp, Ollama)
    openai_api_key: str = ""                 # key for that server; many local servers accept any
    top_k: int = 5                           # clauses retrieved and shown per question
    context_clauses: int = 4                 # clauses put into the LLM prompt (prompt cost grows with each)
    max_new_tokens: int = 256                # answer length cap; answers are meant to be short
    max_answer_chars: int = 150              # length the model is asked to keep its answer within (prompt)
    n_ctx: int = 4096                        # llama.cpp context window in tokens: rules + 4 clauses + answer fit
    fusion: str = "linear"                   # how dense and BM25 scores combine: one of FUSIONS (see README)
    dense_weight: float = 0.7                # weight of the dense score in linear fusion; BM25 gets the rest
    rrf_k: int = 60                          # reciprocal-rank-fusion constant (see retrieve.RRF_K)
    threads: int = 0                         # CPU threads for models; 0 = all cores
    max_question_chars: int = 2000           # longer questions are refused with a message
    history_turns: int = 6                   # conversation turns kept for follow-up questions
    host: str = "127.0.0.1"                  # web app address; 0.0.0.0 makes it reachable from other machines
    port: int = 7860                         # web app port
    concurrency: int = 4                     # web requests served at once; the LLM still answers one at a time
    queue_size: int = 256                    # web requests waiting beyond that; more are turned away
    feedback_file: str = str(ROOT / "feedback" / "feedback.jsonl")  # feedback of earlier versions (JSONL),
    #                                          imported into feedback_db once, on first start
    feedback_db: str = ""                    # where 👍/👎 and comments go: a SQLite file ("" = feedback.sqlite3
    #                                          beside feedback_file), or a postgresql://user:pass@host/db URL
    #                                          that app processes on several machines share
    admin_user: str = ""                     # the administrator's login name; admin pages are off while empty
    admin_password_hash: str = ""            # scrypt hash of their password (`python -m chatbot hash-password`)
    admin_audit_log: str = str(ROOT / "admin" / "audit.jsonl")  # every admin action, one JSON line each
    upload_max_mb: int = 20                  # largest regulation file an administrator may upload
    upload_max_pages: int = 500              # longest PDF accepted (pages)
    reload_seconds: float = 5.0              # how often the app checks whether another process rebuilt the
    #                                          shared index (and then loads it); 0 = never
    reports_dir: str = str(ROOT / "eval" / "reports")  # where evaluation runs write their reports
    gold_file: str = str(ROOT / "eval" / "gold.jsonl")  # the built-in gold question set
    log_questions: bool = False              # log question text to stderr (off: privacy by default)
    min_relevance: str = "auto"              # refuse when the best dense cosine is below this: a number, or
    #                                          "auto" = calibrated for the embedder at index build (README)
    quote_ratio: float = 0.85                # extractive answers quote hits scoring >= this share of the best

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise SettingsError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.embed_dtype not in EMBED_DTYPES:
            raise SettingsError(f"unknown embed_dtype {self.embed_dtype!r}; choose one of {', '.join(EMBED_DTYPES)}")
        if self.fusion not in FUSIONS:
            raise SettingsError(f"unknown fusion {self.fusion!r}; choose one of {', '.join(FUSIONS)}")
        if not 0.0 <= float(self.dense_weight) <= 1.0:
            raise SettingsError(f"dense_weight must be between 0 and 1, got {self.dense_weight!r}")
        for name in ("top_k", "context_clauses", "max_new_tokens", "max_answer_chars", "n_ctx", "rrf_k",
                     "max_question_chars", "concurrency", "queue_size", "upload_max_mb", "upload_max_pages"):
            if int(getattr(self, name)) < 1:
                raise SettingsError(f"{name} must be a positive integer, got {getattr(self, name)!r}")

        if self.min_relevance != "auto":
            try:
                float(self.min_relevance)
            except ValueError as e:
                raise SettingsError(f"min_relevance must be a number or auto, got {self.min_relevance!r}") from e
        if float(self.reload_seconds) < 0:
            raise SettingsError(f"reload_seconds must be 0 (off) or more, got {self.reload_seconds!r}")
        if bool(self.admin_user) != bool(self.admin_password_hash):
            raise SettingsError("set both CHATBOT_ADMIN_USER and CHATBOT_ADMIN_PASSWORD_HASH to turn the admin "
                                "pages on, or neither (make the hash with `python -m chatbot hash-password`)")
        if int(self.top_k) > MAX_TOP_K:
            raise SettingsError(f"top_k must be at most {MAX_TOP_K}, got {self.top_k!r}")

    def model_for(self, backend: str) -> str:
        """The model a backend loads: the one given, else that backend's default hub id."""
        return self.llm_model or DEFAULT_MODELS.get(backend, "")

    @property
    def feedback_db_path(self) -> str:
        return self.feedback_db or str(Path(self.feedback_file).with_name("feedback.sqlite3"))

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_user and self.admin_password_hash)

    @property
    def dense_enabled(self) -> bool:
        return self.embed_model.strip().lower() not in ("", "none", "off", "bm25")

    def override(self, **values) -> "Settings":
        """A copy with the given non-None values; unknown keys are an error."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(known)}")
        clean = {}
        for k, v in values.items():
            if v is None:
                continue
            typ = type(getattr(self, k))
            try:
                if typ is bool and isinstance(v, str):
                    if v.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError(v)
                    v = v.strip().lower() in ("1", "true", "yes", "on")
                clean[k] = typ(v)
            except ValueError as e:
                raise SettingsError(f"setting {k} expects {typ.__name__}, got {v!r}") from e
        return replace(self, **clean)


def from_env(environ: dict[str, str] | None = None, **cli) -> Settings:
    """Defaults, then CHATBOT_* variables, then command-line values (None means not given)."""
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(Settings)}
    env_values = {}
    for key, value in env.items():
        if key.startswith("CHATBOT_"):
            name = key[len("CHATBOT_"):].lower()
            if name not in known:
                raise SettingsError(f"unknown environment variable {key}; valid: "
                                    + ", ".join(f"CHATBOT_{k.upper()}" for k in sorted(known)))
            env_values[name] = value
    return Settings().override(**env_values).override(**cli)


def is_loopback(host: str) -> bool:
    """Whether an address is this machine only: is_loopback("127.0.0.1") -> True, ("0.0.0.0") -> False."""
    return host in ("localhost", "::1") or host.startswith("127.")
