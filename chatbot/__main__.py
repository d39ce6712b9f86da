"""Command line: python -m chatbot COMMAND ...  (run with -h for each command).

    chunks    the clause chunks              index     build index/
    corpus    add, list or remove regulations of the knowledge base
    retrieve  ranked clauses                 ask       answer questions, citing clauses
    chat      a conversation in the terminal eval      evaluation reports, retrieval-only, compare
    bench     LLM speed                      loadtest  concurrent users against the web app
    hostile   the hostile-input suite        export-model  an OpenVINO export folder (GGUF or hub model)
    hash-password  the CHATBOT_ADMIN_PASSWORD_HASH for an administrator's password

This module parses arguments and prints; each command calls the module that does the work.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import sys
import time
from pathlib import Path

from .config import ROOT, SettingsError, from_env


def _settings(args):
    return from_env(embed_model=getattr(args, "embed_model", None), index_dir=getattr(args, "index_dir", None),
                    corpus_dir=getattr(args, "corpus_dir", None), backend=getattr(args, "backend", None),
                    llm_model=getattr(args, "model", None))


def _regulation(settings):
    from .kb import load_kb

    return load_kb(settings.corpus_dir)


def cmd_chunks(args) -> int:
    reg = _regulation(_settings(args))
    for c in reg.clauses:
        row = {"id": c.id, "regulation": c.regulation, "regulation_title": c.regulation_title,
               "article": c.article, "paragraph": c.paragraph, "items": list(c.items),
               "label": c.label, "chapter": c.chapter, "section": c.section, "text": c.text,
               "search_text": c.search_text}
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"【{c.label}】{c.text}\n")
    return 0


def cmd_index(args) -> int:
    from .embed import load_embedder
    from .index import build

    s = _settings(args)
    reg = _regulation(s)
    embedder, notice = load_embedder(s)
    if notice:
        print(f"warning: {notice}\nwarning: building a BM25-only index", file=sys.stderr)
    idx = build(reg, s.index_dir, embedder, gold_file=s.gold_file)
    print(json.dumps({k: v for k, v in idx.manifest.items() if k != "files"}, ensure_ascii=False))
    return 0


def cmd_corpus(args) -> int:
    """corpus add FILE / list / remove ID: the knowledge base folder, rebuilding the index after a change."""
    from .corpus import CorpusError
    from .kb import add_regulation, describe, load_kb, remove_regulation

    s = _settings(args)

    def rebuild(kb):
        from .embed import load_embedder
        from .index import build

        embedder, notice = load_embedder(s)
        if notice:
            print(f"warning: {notice}\nwarning: building a BM25-only index", file=sys.stderr)
        build(kb, s.index_dir, embedder, gold_file=s.gold_file)

    try:
        if args.action == "list":
            for r in load_kb(s.corpus_dir).regulations:
                row = describe(r)
                print(json.dumps(row, ensure_ascii=False) if args.json else
                      f"{'*' if r.primary else ' '} {r.id:48} {r.short:12} {r.version or '-':10} {r.status:10} "
                      f"{len(r.articles):4} 条  {r.title}")
            return 0
        if not args.target:
            raise SystemExit(f"corpus {args.action} needs a {'FILE' if args.action == 'add' else 'regulation id'}")
        if args.action == "add":
            added = add_regulation(s.corpus_dir, args.target, title=args.title or "", short=args.short or "",
                                   effective=args.effective or "", version=args.version or "",
                                   reg_id=args.id or "", primary=args.primary,
                                   rebuild=None if args.no_index else rebuild)
            out = added.to_json()
            if args.json:
                print(json.dumps(out, ensure_ascii=False))
            else:
                print(f"added {out['id']}: 《{out['title']}》 {out['articles']} 条, version {out['version'] or '-'}, "
                      f"{out['status']}" + (f"; supersedes {', '.join(out['superseded'])}" if out["superseded"] else ""))
                for w in out["warnings"]:
                    print(f"warning: {w}")
            return 0
        removed = remove_regulation(s.corpus_dir, args.target, rebuild=None if args.no_index else rebuild)
        print(json.dumps({"removed": removed.id, "title": removed.title}, ensure_ascii=False) if args.json
              else f"removed {removed.id}: 《{removed.title}》")
        return 0
    except CorpusError as e:
        if getattr(args, "json", False):
            print(json.dumps({"error": str(e)}, ensure_ascii=False))
        print(f"error: {e}", file=sys.stderr)
        return 2


def _hit_json(h) -> dict:
    return {"regulation": h.clause.regulation, "regulation_title": h.clause.regulation_title,
            "article": h.clause.article, "paragraph": h.clause.paragraph, "label": h.clause.label,
            "score": h.score, "dense_rank": h.dense_rank, "bm25_rank": h.bm25_rank, "lookup": h.lookup,
            "text": h.clause.text}


def _read_questions(path: str) -> list[tuple[str | None, str | None]]:
    """(question, None) for each good line, (None, error) for a bad one: one bad line never stops a batch."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise SystemExit(f"error: cannot read {path}: {e.strerror}")
    out: list[tuple[str | None, str | None]] = []
    for no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8"))
            q = obj["question"]
            if not isinstance(q, str):
                raise TypeError("'question' must be a string")
            out.append((q, None))
        except UnicodeDecodeError:
            out.append((None, f"{path}:{no}: not UTF-8 text"))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            out.append((None, f"{path}:{no}: expected a JSON object with a 'question' key ({e})"))
    return out


def _printable(text: str) -> str:
    """Text safe to print: undecodable bytes from the command line (lone surrogates) become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8")


def cmd_retrieve(args) -> int:
    from .retrieve import open_retriever

    if not args.question and not args.questions:
        raise SystemExit("give a question, or --questions FILE.jsonl")
    retriever, _ = open_retriever(_settings(args))
    questions = [(args.question, None)] if args.question else _read_questions(args.questions)
    for q, error in questions:
        if error:
            print(json.dumps({"error": error}, ensure_ascii=False) if args.json else f"error: {error}", flush=True)
            continue
        q = _printable(q)
        r = retriever.search(q, k=args.k or retriever.settings.top_k)
        if args.json:
            print(json.dumps({"question": q, "mode": r.mode, "hits": [_hit_json(h) for h in r.hits]},
                             ensure_ascii=False), flush=True)
        else:
            print(f"# {q}  ({r.mode}, {r.seconds * 1000:.0f} ms)")
            for h in r.hits:
                print(f"  {h.score:.4f}  【{h.clause.label}】 {h.clause.text[:60]}")
    return 0


def cmd_eval(args) -> int:
    from .gold import GoldError
    from .tools.evaluate import run_answer_eval, run_retrieval_eval
    from .tools.report import atomic_write, compare, markdown

    if args.compare:
        try:
            md = compare(*args.compare)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(md)
        if args.out:
            atomic_write(Path(args.out) / "compare.md", md)
        return 0
    s = _settings(args)
    out = Path(args.out or Path(s.reports_dir) / time.strftime("%Y%m%d-%H%M%S"))
    gold = args.gold or s.gold_file
    try:
        if args.retrieval_only:
            print(run_retrieval_eval(s, gold, out, progress=_progress()))
            print(f"wrote {out}/retrieval.json and retrieval.md", file=sys.stderr)
            if args.against_corpus:
                # the same questions on another knowledge base (e.g. the primary regulation alone), side by side
                other = out / "against"
                run_retrieval_eval(s.override(corpus_dir=args.against_corpus, index_dir=str(other / "index")),
                                   gold, other, progress=_progress())
                md = compare(str(other), str(out))
                atomic_write(out / "against.md", md)
                print(md)
            return 0
        run = run_answer_eval(_assistant(args), gold, out, progress=_progress())
    except GoldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write the report to {out}: {e.strerror or e}; free some space or pass --out DIR",
              file=sys.stderr)
        return 1
    print(markdown(run.metrics, run.rows).split("## Worst cases")[0])
    print("wrote " + ", ".join(str(f) for f in run.files), file=sys.stderr)
    return 0


def _progress():
    """A progress bar for long runs, when tqdm is installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return lambda xs: tqdm(xs, desc="evaluating", file=sys.stderr)


def _assistant(args):
    from .answer import Assistant

    return Assistant.load(_settings(args))


def _print_answer(ans, as_json: bool, streamed: bool) -> None:
    if as_json:
        out = ans.to_json()
        print(json.dumps({k: out[k] for k in ("question", "answer", "citations", "refused", "backend", "timings",
                                              "standalone", "refusal_reason", "removed_citations", "dropped", "fallback",
                                              "notices")},
                         ensure_ascii=False), flush=True)
        return
    if streamed and not ans.refused and ans.backend != "extractive":
        print("\n" + "-" * 40)  # the raw stream was shown; now the verified answer
    print(ans.text)
    if ans.backend != "extractive":
        for c in ans.citations:
            print(f"  【{c.label}】{c.text}")
    for n in ans.notices:
        print(f"（{n}）")
    t = ans.timings
    print(f"[{ans.backend} · 检索 {t.get('retrieval', 0) * 1000:.0f} ms · 首字 {t.get('first_token', 0):.2f} s · "
          f"共 {t.get('total', 0):.2f} s]", file=sys.stderr)


def _ask_one(assistant, question: str, as_json: bool, history=None):
    from .answer import InputError

    try:
        if as_json:
            ans = assistant.ask(question, history)
        else:
            ans = None
            streamed = False
            for ev in assistant.stream(question, history):
                if ev.kind == "token" and assistant.backend != "extractive":
                    print(ev.text, end="", flush=True)
                    streamed = True
                elif ev.kind == "answer":
                    ans = ev.answer
            _print_answer(ans, False, streamed)
            return ans
    except InputError as e:
        if as_json:
            print(json.dumps({"question": question, "error": str(e)}, ensure_ascii=False), flush=True)
        else:
            print(f"输入有误：{e}", file=sys.stderr)
        return None
    _print_answer(ans, True, False)
    return ans


def cmd_ask(args) -> int:
    if not args.question and not args.questions:
        raise SystemExit("give a question, or --questions FILE.jsonl")
    questions = [(args.question, None)] if args.question else _read_questions(args.questions)
    assistant = _assistant(args)
    failed = 0
    for q, error in questions:
        if error:
            print(json.dumps({"error": error}, ensure_ascii=False) if args.json else f"error: {error}", flush=True)
            failed += 1
            continue
        failed += _ask_one(assistant, _printable(q), args.json) is None
    return 1 if failed and len(questions) == 1 else 0


def cmd_chat(args) -> int:
    from .answer import turn_of

    assistant = _assistant(args)
    for n in assistant.notices:
        print(f"注意：{n}")
    print(f"《{assistant.regulation.title}》问答（{assistant.backend}）。输入问题，空行或 Ctrl-D 退出，/new 重新开始。")
    history = []
    while True:
        try:
            q = input("\n问：")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not q.strip():
            return 0
        if q.strip() == "/new":
            history = []
            print("（已开始新的对话）")
            continue
        ans = _ask_one(assistant, q, False, history)
        if ans is not None:
            history = (history + [turn_of(ans)])[-assistant.settings.history_turns:]


def cmd_bench(args) -> int:
    from .retrieve import open_retriever
    from .tools.bench import context_sweep, default_models, markdown, plot, run_bench, sweep_markdown

    s = _settings(args)
    if args.retrieval_scale:
        from .tools import scale

        return scale.main(args.retrieval_scale, args.out, s, log=lambda m: print(m, file=sys.stderr))
    models = args.models or default_models()
    if not models:
        print("error: no GGUF models given and none in ~/.cache/regqa-models; run "
              "../shared/tools/get-offline-models or pass --models FILE.gguf", file=sys.stderr)
        return 2
    retriever, _ = open_retriever(s)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    backends = [b for b in args.backends.split(",") if b]
    if "llama.cpp" in backends and importlib.util.find_spec("llama_cpp") is None:
        log("llama-cpp-python is not installed: llama.cpp left out (pip install -r requirements-llama.txt)")
        backends.remove("llama.cpp")
    exports = {}
    if "openvino" in backends and args.export_dir != "none":
        from .tools.export import ExportError, export_gguf

        for model in (m for m in models if m.endswith(".gguf")):
            folder = Path(args.export_dir).expanduser() / (Path(model).stem + "-ov")
            try:
                made = folder if (folder / "openvino_model.xml").exists() else export_gguf(Path(model), folder)
                exports[model] = [str(made)]
            except ExportError as e:
                log(f"no export folder for {model}: {e}")
        if args.ov_folders and models:
            # folders exported from the original weights (optimum-intel) belong with the last model given
            exports.setdefault(models[-1], []).extend(str(Path(f).expanduser()) for f in args.ov_folders)
    rows = run_bench(models, retriever, backends, s.context_clauses, args.max_new_tokens,
                     s.threads, tuple(args.dtypes.split(",")), exports=exports, log=log)
    md = markdown(rows)
    if args.context_sweep:
        gguf = [m for m in models if m.endswith(".gguf")][-1]
        sweep = context_sweep(gguf, retriever, threads=s.threads, log=log)
        md += "\n\n" + sweep_markdown(gguf, sweep)
        rows.append({"context_sweep": sweep})
    print(md)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
        (out / "bench.md").write_text(md + "\n", encoding="utf-8")
        plot([r for r in rows if "backend" in r], out / "bench.png")
    return 0


def cmd_export_model(args) -> int:
    from .tools.export import ExportError, export_gguf, export_gguf_optimum, export_hub

    try:
        if args.gguf and args.weight_format:
            out = export_gguf_optimum(Path(args.gguf), Path(args.out), args.weight_format, args.optimum_cli)
        elif args.gguf:
            out = export_gguf(Path(args.gguf), Path(args.out))
        else:
            out = export_hub(args.model, Path(args.out), args.weight_format or "int4", args.optimum_cli)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"exported to {out}; answer with it: python app.py --backend openvino --model {out}")
    return 0


def cmd_loadtest(args) -> int:
    from contextlib import nullcontext

    from .tools.loadtest import run_load, started_app

    if not args.start and not args.url:
        raise SystemExit("give --url of a running app, or --start to start one here")
    urls = [u.strip() for u in (args.url or "").split(",") if u.strip()]
    app = (started_app({"backend": args.backend, "model": args.model, "embed_model": args.embed_model},
                       args.start_timeout) if args.start else nullcontext((urls, args.pid)))
    try:
        with app as (url, pid):
            report = run_load(url, args.users, args.questions, args.duration, pid, feedback=args.feedback)
    except (RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["errors"] == 0 and report["crossed"] == 0 else 1


def cmd_hash_password(args) -> int:
    """Print the scrypt hash of a password (asked twice at a terminal; one line on standard input otherwise)."""
    import getpass

    from .admin import AdminError, hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("admin password: ")
        if getpass.getpass("again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 10:
        print("error: use a password of at least 10 characters", file=sys.stderr)
        return 2
    try:
        print(hash_password(password))
    except AdminError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("set it as CHATBOT_ADMIN_PASSWORD_HASH (and CHATBOT_ADMIN_USER), then start app.py; "
          "the admin pages are at /admin", file=sys.stderr)
    return 0


def cmd_hostile(args) -> int:
    import os

    from .tools.hostile import run_api, run_cli, run_web, table
    from .webapp import WebApp

    s = _settings(args)
    assistant = _assistant(args)
    rows = run_api(assistant) + run_web(WebApp(assistant, Path(s.feedback_file).with_name("hostile-feedback.sqlite3")))
    if args.cli:
        env = dict(os.environ) | {"CHATBOT_BACKEND": assistant.backend, "CHATBOT_EMBED_MODEL": s.embed_model,
                                  "CHATBOT_INDEX_DIR": s.index_dir}
        if assistant.llm is not None:
            env["CHATBOT_LLM_MODEL"] = s.llm_model
        rows += run_cli(env, ROOT, assistant.regulation)
    md = table(rows)
    print(md)
    return 0 if all(r.ok for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    from .tools.loadtest import DURATION_S, START_TIMEOUT_S

    p = argparse.ArgumentParser(prog="python -m chatbot", description="江西省先进制造业促进条例 问答助手")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--embed-model", help="embedding model: hub id or local folder; 'none' for BM25 only")
        sp.add_argument("--index-dir", help="index folder (default index/)")
        sp.add_argument("--corpus-dir", "--corpus", dest="corpus_dir",
                        help="knowledge base folder, or one regulation file (default corpus/; CHATBOT_CORPUS_DIR)")

    sp = sub.add_parser("chunks", help="print the clause-level chunks")
    sp.add_argument("--json", action="store_true", help="one JSON object a line")
    common(sp)
    sp.set_defaults(func=cmd_chunks)

    sp = sub.add_parser("corpus", help="the knowledge base: add FILE, list, remove ID (rebuilds the index)")
    sp.add_argument("action", choices=("add", "list", "remove"))
    sp.add_argument("target", nargs="?", help="add: a .md, .txt, .docx or .pdf file; remove: a regulation id")
    sp.add_argument("--title", help="add: the full title, when the file's first line is not it")
    sp.add_argument("--short", help="add: the short name labels use, e.g. 中小企业促进法")
    sp.add_argument("--effective", help="add: the date it takes effect, YYYY-MM-DD, when the text does not say")
    sp.add_argument("--version", help="add: the version date, YYYY-MM-DD, when the text does not say")
    sp.add_argument("--id", help="add: the id (default: from the file name)")
    sp.add_argument("--primary", action="store_true", help="add: make it the primary regulation")
    sp.add_argument("--no-index", action="store_true", help="do not rebuild the index (it is rebuilt on next start)")
    sp.add_argument("--json", action="store_true", help="print JSON")
    common(sp)
    sp.set_defaults(func=cmd_corpus)

    sp = sub.add_parser("index", help="build index/ from corpus/")
    common(sp)
    sp.set_defaults(func=cmd_index)

    sp = sub.add_parser("retrieve", help="rank clauses for a question")
    sp.add_argument("question", nargs="?")
    sp.add_argument("--questions", help="JSONL file with a 'question' key per line")
    sp.add_argument("--k", type=int, help="clauses to return (default: the top_k setting)")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(func=cmd_retrieve)

    def llm_opts(sp):
        sp.add_argument("--backend", help="auto (default: openvino, else transformers), openvino, transformers, "
                        "llama.cpp, openai or extractive")
        sp.add_argument("--model", help="LLM: hub id, local folder or .gguf file")

    sp = sub.add_parser("ask", help="answer a question, citing the clauses")
    sp.add_argument("question", nargs="?")
    sp.add_argument("--questions", help="JSONL file with a 'question' key per line")
    sp.add_argument("--json", action="store_true", help="print one JSON object per question")
    common(sp)
    llm_opts(sp)
    sp.set_defaults(func=cmd_ask)

    sp = sub.add_parser("chat", help="interactive conversation in the terminal")
    common(sp)
    llm_opts(sp)
    sp.set_defaults(func=cmd_chat)

    sp = sub.add_parser("bench", help="LLM speed and memory: the same GGUF through every backend, side by side; "
                        "with --retrieval-scale, retrieval on synthetic knowledge bases of up to a million clauses")
    sp.add_argument("--models", nargs="*", help=".gguf files (default: the offline models if present)")
    sp.add_argument("--backends", default="transformers,openvino,llama.cpp")
    sp.add_argument("--export-dir", default="~/.cache/regqa-models",
                    help="where OpenVINO export folders of the models are found or made (none: GGUF only)")
    sp.add_argument("--ov-folders", nargs="*", default=[],
                    help="more OpenVINO export folders of the last model (e.g. int4 / int8 from export-model --model)")
    sp.add_argument("--dtypes", default="float32", help="transformers dtypes to compare, e.g. float32,bfloat16")
    sp.add_argument("--max-new-tokens", type=int, default=64)
    sp.add_argument("--out", help="folder for bench.json and bench.md")
    sp.add_argument("--context-sweep", action="store_true", help="also time prompts of 1, 2, 4, 6 clauses")
    sp.add_argument("--retrieval-scale", metavar="SIZES",
                    help="instead: time retrieval on synthetic knowledge bases of these clause counts, e.g. "
                    "10000,100000,1000000 (--out defaults to eval/results/scale/)")
    common(sp)
    sp.set_defaults(func=cmd_bench)

    sp = sub.add_parser("export-model", help="an OpenVINO export folder for the openvino backend")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--gguf", help="a .gguf file: converted by OpenVINO GenAI, keeping its quantization")
    src.add_argument("--model", help="a Hugging Face hub id or folder: exported by optimum-intel")
    sp.add_argument("--out", required=True, help="the folder to create")
    sp.add_argument("--weight-format", choices=("int4", "int8", "fp16"),
                    help="optimum-intel weights: for --model (default int4), or with --gguf to dequantize and re-export")
    sp.add_argument("--optimum-cli", default="optimum-cli", help="optimum-cli of the export environment")
    sp.set_defaults(func=cmd_export_model)

    sp = sub.add_parser("loadtest", help="concurrent users against the web app on loopback (load and soak)")
    sp.add_argument("--url", help="a running app, e.g. http://127.0.0.1:7860/; several app processes: "
                    "comma-separated URLs, each user keeping to one")
    sp.add_argument("--pid", type=int, help="the app's process id, to report its memory")
    sp.add_argument("--start", action="store_true", help="start app.py on a free port for the test")
    sp.add_argument("--start-timeout", type=float, default=START_TIMEOUT_S, help="seconds the app may take to start")
    sp.add_argument("--users", type=int, default=8)
    sp.add_argument("--questions", type=int, default=96, help="answers to ask for in total")
    sp.add_argument("--duration", type=float, default=DURATION_S, help="stop after this many seconds")
    sp.add_argument("--feedback", action="store_true", help="rate every answer through /feedback and count "
                    "the records acknowledged")
    common(sp)
    llm_opts(sp)
    sp.set_defaults(func=cmd_loadtest)

    sp = sub.add_parser("hash-password", help="the CHATBOT_ADMIN_PASSWORD_HASH for a password (read from stdin)")
    sp.set_defaults(func=cmd_hash_password)
    sp = sub.add_parser("hostile", help="hostile-input suite: a table of cases and outcomes")
    sp.add_argument("--cli", action="store_true", help="also run every case through the command line")
    common(sp)
    llm_opts(sp)
    sp.set_defaults(func=cmd_hostile)

    sp = sub.add_parser("eval", help="evaluate against the gold questions")
    sp.add_argument("--gold", help="gold JSONL file (default: the gold_file setting, eval/gold.jsonl)")
    sp.add_argument("--out", help="report folder (default eval/reports/<timestamp>/)")
    sp.add_argument("--retrieval-only", action="store_true", help="retrieval metrics only")
    sp.add_argument("--against-corpus", metavar="DIR",
                    help="with --retrieval-only: also evaluate on this knowledge base (e.g. the primary regulation "
                    "alone) and show both side by side")
    sp.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two report folders")
    common(sp)
    llm_opts(sp)
    sp.set_defaults(func=cmd_eval)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    code = main()
    # the interpreter's last collection walks every object torch and transformers made (1.5 s at exit
    # after `index`); frozen objects are skipped, and nothing here needs collecting any more
    gc.freeze()
    sys.exit(code)
