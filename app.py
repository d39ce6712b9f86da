"""Web app: python app.py [--host 127.0.0.1] [--port 7860] [--backend ...] [--model ...] [--embed-model ...]

Loads the models once (with progress messages), then serves the chat UI and the API endpoints
/ask and /chat (see README), and the 管理 pages at /admin when CHATBOT_ADMIN_USER and
CHATBOT_ADMIN_PASSWORD_HASH are set (`chatbot.server`). Listens on localhost unless told otherwise.
"""

from __future__ import annotations

import argparse
import sys

from chatbot.config import SettingsError, from_env, is_loopback


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="江西省先进制造业促进条例 问答助手 (web)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 makes the app public)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--backend", help="auto (default: openvino, else transformers), openvino, transformers, "
                   "llama.cpp, openai or extractive")
    p.add_argument("--model", help="LLM: hub id, local folder or .gguf file")
    p.add_argument("--embed-model", help="embedding model: hub id or local folder; 'none' for BM25 only")
    p.add_argument("--index-dir")
    p.add_argument("--corpus-dir", help="knowledge base folder (default corpus/; CHATBOT_CORPUS_DIR)")
    p.add_argument("--feedback-file", help="feedback JSONL of earlier versions, imported once (default "
                   "feedback/feedback.jsonl); the feedback database is feedback.sqlite3 beside it")
    p.add_argument("--feedback-db", help="the feedback database: a SQLite file (default: feedback.sqlite3 beside "
                   "--feedback-file) or a postgresql:// URL shared by app processes on several machines")
    p.add_argument("--concurrency", type=int, help="requests served at once, the rest queue (default 4)")
    return p.parse_args(argv)


def exposure_warning(host: str) -> str | None:
    """A warning when the app would be reachable from other machines (anything but loopback)."""
    if is_loopback(host):
        return None
    return f"warning: listening on {host}: the app is reachable from other machines on this network"


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        settings = from_env(backend=args.backend, llm_model=args.model, embed_model=args.embed_model,
                            index_dir=args.index_dir, corpus_dir=args.corpus_dir, host=args.host, port=args.port, feedback_file=args.feedback_file,
                            feedback_db=args.feedback_db,
                            concurrency=args.concurrency)
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from chatbot.server import build_server, check_admin_settings

    problem = check_admin_settings(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    import uvicorn

    from chatbot.answer import Assistant

    print("loading models (once, at start-up) ...", file=sys.stderr, flush=True)
    assistant = Assistant.load(settings)
    server = build_server(settings, assistant)
    print(server.public.webapp.status(), file=sys.stderr)
    warning = exposure_warning(settings.host)
    if warning:
        print(warning, file=sys.stderr)
    print(f"* Running on http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    uvicorn.run(server.app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
