"""Evaluation reports a person can read: metrics.json, answers.jsonl, report.md, report.html with plots,
the worst cases of a run, and the comparison of two runs (metric differences, questions that changed).
Per-question scores and aggregate metrics are computed in `chatbot.tools.evaluate`.

Files are written atomically (to a temporary name, then renamed), so an interrupted run, or a full
disk, never leaves a half-written report where a complete one was.
"""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from pathlib import Path

METRIC_ROWS = [
    ("citation_precision", "Citation precision (article)"), ("citation_recall", "Citation recall (article)"),
    ("citation_f1", "Citation F1 (article)"), ("clause_precision", "Citation precision (clause)"),
    ("clause_recall", "Citation recall (clause)"), ("clause_f1", "Citation F1 (clause)"),
    ("key_point_coverage", "Key-point coverage"), ("out_of_scope_refused", "Out-of-scope refused"),
    ("in_scope_wrongly_refused", "In-scope wrongly refused"),
    ("answers_with_valid_citation", "Answers with a valid citation"),
    ("invalid_citations_removed", "Invalid citations removed"), ("faithfulness", "Faithfulness (lexical)"),
    ("correct", "Correct (cites a gold article, or refuses out of scope)"),
    ("echo_rate", "Answers that restate the question"),
    ("cited_question_rate", "Answers citing a sentence that restates the question"),
    ("refusal_phrase_in_answer_rate", "Answers that also say the regulation does not cover it"),
    ("quote_fallback_rate", "Answers quoting clauses because the model output was unusable"),
    ("over_length_budget_rate", "Answers over the length budget"),
    ("yes_no_direct_answer_rate", "Yes/no questions answered directly first"),
    ("cited_sentences_supported", "Cited sentences supported by their clauses"),
]


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _gate(metrics: dict) -> str:
    gate = metrics.get("min_relevance")
    return f"{gate['value']:.2f} ({gate['source']})" if gate else "—"


def _fmt(v) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def plots(metrics: dict, rows: list[dict], out: Path) -> list[Path]:
    """recall by article, citation P/R by type, latency distribution, refusal trade-off; PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []

    def save(fig, name):
        p = out / name
        fig.tight_layout()
        fig.savefig(p, dpi=90)
        plt.close(fig)
        made.append(p)

    arts = metrics["recall_by_article"]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar([str(a) for a in arts], list(arts.values()), color="#3b7dd8")
    ax.set(xlabel="article", ylabel="Recall@5", ylim=(0, 1.05), title="Retrieval recall by article")
    save(fig, "recall_by_article.png")

    types = list(metrics["by_type"])
    p = [metrics["by_type"][t]["citation_precision"] or 0 for t in types]
    r = [metrics["by_type"][t]["citation_recall"] or 0 for t in types]
    fig, ax = plt.subplots(figsize=(8, 3))
    xs = range(len(types))
    ax.bar([x - 0.2 for x in xs], p, 0.4, label="precision")
    ax.bar([x + 0.2 for x in xs], r, 0.4, label="recall")
    ax.set_xticks(list(xs), types, rotation=20)
    ax.set(ylim=(0, 1.05), title="Citation precision / recall by question type")
    ax.legend()
    save(fig, "citations_by_type.png")

    fig, ax = plt.subplots(figsize=(8, 3))
    for key in ("retrieval", "first_token", "total"):
        vals = [row["timings"][key] for row in rows if key in row["timings"]]
        if vals:
            ax.hist(vals, bins=30, alpha=0.6, label=key)
    ax.set(xlabel="seconds", ylabel="questions", title="Latency distribution")
    ax.legend()
    save(fig, "latency.png")

    curve = [c for c in metrics["refusal_curve"]
             if c["in_scope_wrongly_refused"] is not None and c["out_of_scope_refused"] is not None]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([c["in_scope_wrongly_refused"] for c in curve], [c["out_of_scope_refused"] for c in curve], "o-",
            label="scope rules + threshold")
    alone = [c for c in curve if c.get("threshold_alone_out_of_scope_refused") is not None]
    ax.plot([c["threshold_alone_in_scope_wrongly_refused"] for c in alone],
            [c["threshold_alone_out_of_scope_refused"] for c in alone], "s--", label="threshold alone")
    ax.legend(fontsize=7)
    for c in curve[::2]:
        ax.annotate(str(c["threshold"]), (c["in_scope_wrongly_refused"], c["out_of_scope_refused"]), fontsize=7)
    if not curve:
        ax.text(0.5, 0.5, "needs in-scope and out-of-scope questions", ha="center", transform=ax.transAxes)
    ax.set(xlabel="in-scope wrongly refused", ylabel="out-of-scope refused", xlim=(-0.02, 1), ylim=(0, 1.05),
           title="Refusal trade-off (relevance threshold)")
    save(fig, "refusal_tradeoff.png")
    return made


def worst_cases(rows: list[dict]) -> dict[str, list[dict]]:
    return {
        "gold article not retrieved (top 5)": [r for r in rows if r["in_scope"] and r["retrieval"]["recall@5"] < 1],
        "wrong citations": [r for r in rows if r["in_scope"] and r.get("precision") is not None and r["precision"] < 1],
        "in-scope questions refused": [r for r in rows if r["in_scope"] and r["refused"]],
        "out-of-scope questions answered": [r for r in rows if not r["in_scope"] and not r["refused"]],
        "answers that restate the question": [r for r in rows if r.get("echo")],
        "answers citing a restated question": [r for r in rows if r.get("cited_question")],
        "answers with a refusal phrase": [r for r in rows if r.get("refusal_phrase")],
        "clauses quoted because the model output was unusable": [r for r in rows if r.get("fallback")],
        "answers over the length budget": [r for r in rows if r.get("over_budget")],
        "yes/no questions not answered directly": [r for r in rows if r.get("direct") is False],
        "cited sentences their clauses do not support": [
            r for r in rows if (r.get("supported_runs") or 0) < (r.get("cited_runs") or 0)],
    }


SKIP = ("by_type", "by_regulation", "refusal_curve", "recall_by_article")  # tables the comparison leaves out


def embed_dtype(report: dict) -> str:
    """The embedder's weights for a report header, " (bfloat16)"; nothing for reports that do not say."""
    return f" ({report['embed_dtype']})" if report.get("embed_dtype") else ""


def markdown(metrics: dict, rows: list[dict]) -> str:
    m = metrics
    lines = ["# Evaluation report\n", f"Backend `{m['backend']}`, LLM `{m['llm_model']}`, embedder "
             f"`{m['embed_model']}`{embed_dtype(m)}. {m['questions']} questions ({m['in_scope']} in scope, "
             f"{m['out_of_scope']} out of scope). Relevance gate: {_gate(m)}.\n", "## Answers\n", "| metric | value |", "|---|---|"]
    lines += [f"| {label} | {_fmt(m.get(key))} |" for key, label in METRIC_ROWS]
    rt = m["retrieval"]
    lines += ["\n## Retrieval (article level)\n", "| Hit@1 | Recall@3 | Recall@5 | MRR |", "|---|---|---|---|",
              f"| {rt['hit@1']:.3f} | {rt['recall@3']:.3f} | {rt['recall@5']:.3f} | {rt['mrr']:.3f} |"]
    lat = m["latency_s"]
    lines += ["\n## Latency (seconds)\n", "| stage | p50 | p95 |", "|---|---|---|"]
    lines += [f"| {k} | {_fmt(v['p50'])} | {_fmt(v['p95'])} |" for k, v in lat.items()]
    lines.append(f"\nMedian tokens/s: {_fmt(m['tokens_per_s_median'])}\n")
    lines += ["## By question type\n", "| type | n | Hit@1 | cite P | cite R | key points | refused (OOS) | "
              "wrongly refused |", "|---|---|---|---|---|---|---|---|"]
    for t, b in m["by_type"].items():
        lines.append(f"| {t} | {b['questions']} | {_fmt(b['retrieval']['hit@1'] if b['in_scope'] else None)} | "
                     f"{_fmt(b['citation_precision'])} | {_fmt(b['citation_recall'])} | "
                     f"{_fmt(b['key_point_coverage'])} | {_fmt(b['out_of_scope_refused'])} | "
                     f"{_fmt(b['in_scope_wrongly_refused'])} |")
    if m.get("by_regulation"):
        lines += ["\n## By regulation (in-scope questions)\n",
                  f"Answers citing only the gold questions' laws: {_fmt(m.get('cites_only_gold_regulations'))}; "
                  f"version questions citing only the right version's law: "
                  f"{_fmt(m.get('version_questions_right_version'))}; citing, of the law's versions, the one asked "
                  f"about and no other: {_fmt(m.get('version_questions_cite_the_version_asked'))}.\n",
                  "| regulation | n | cite P | cite R | key points | wrongly refused |", "|---|---|---|---|---|---|"]
        for law, b in m["by_regulation"].items():
            lines.append(f"| {law} | {b['questions']} | {_fmt(b['citation_precision'])} | "
                         f"{_fmt(b['citation_recall'])} | {_fmt(b['key_point_coverage'])} | "
                         f"{_fmt(b['in_scope_wrongly_refused'])} |")
    lines += ["\n## Refusal trade-off\n", "Refused if the scope rules fire or the best dense cosine is below the "
              "threshold (current setting: `min_relevance`); the last two columns use the threshold alone.\n",
              "| threshold | out-of-scope refused | in-scope wrongly refused | OOS refused (threshold alone) | "
              "in-scope refused (threshold alone) |", "|---|---|---|---|---|"]
    lines += [f"| {c['threshold']} | {_fmt(c['out_of_scope_refused'])} | {_fmt(c['in_scope_wrongly_refused'])} | "
              f"{_fmt(c.get('threshold_alone_out_of_scope_refused'))} | "
              f"{_fmt(c.get('threshold_alone_in_scope_wrongly_refused'))} |" for c in m["refusal_curve"]]
    lines.append("\n## Worst cases\n")
    for title, items in worst_cases(rows).items():
        lines.append(f"### {title} ({len(items)})\n")
        for r in items[:30]:
            cites = "".join(f"【{c['label']}】" for c in r["citations"]) or "—"
            lines.append(f"- {r['id']} ({r['type']}) {r['question']} — gold {r['gold']}, retrieved "
                         f"{r['retrieved_articles']}, cited {cites}, refused {r['refused']}")
            if title.startswith(("answers", "clauses quoted", "yes/no", "cited sentences")):
                lines.append(f"  - answer: {r['answer'][:200].replace(chr(10), ' / ')}")
        lines.append("")
    lines.append("Cited sentences supported: a run of sentences ending with labels is supported when at least "
                 "half of its character bigrams occur in the clauses it cites and every number, date or amount "
                 "in it is written there too. Echo: a sentence ends with a question mark or shares at least 70% "
                 "of its bigrams with the question.\n")
    lines.append("Faithfulness is lexical: a cited sentence counts as supported when at least half of its "
                 "character bigrams occur in a clause it cites. It cannot see paraphrase or negation.\n")
    return "\n".join(lines)


def to_html(md_text: str, images: list[Path]) -> str:
    """A self-contained HTML page: the markdown report as preformatted tables, plots embedded inline."""
    body = []
    in_table = False
    for line in md_text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        body.append("</table>")
    for img in images:
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        body.append(f'<figure><img alt="{html.escape(img.stem)}" src="data:image/png;base64,{data}"></figure>')
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td{border:1px solid #ccc;padding:3px 8px}"
             "tr:first-child td{font-weight:bold;background:#f3f3f3}img{max-width:100%}")
    return (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>Evaluation report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_report(out: Path, metrics: dict, rows: list[dict]) -> list[Path]:
    """Write metrics.json, answers.jsonl, report.md, report.html and the plots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "metrics.json", json.dumps(metrics, ensure_ascii=False, indent=2))
    atomic_write(out / "answers.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    images = plots(metrics, rows, out)
    md = markdown(metrics, rows)
    atomic_write(out / "report.md", md)
    atomic_write(out / "report.html", to_html(md, images))
    return [out / n for n in ("metrics.json", "answers.jsonl", "report.md", "report.html")] + images


# --- comparing two runs ------------------------------------------------------------------------------

def _flat(d: dict, prefix: str = "") -> dict[str, float]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= _flat(v, key + ".")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def load_run(folder: str | Path) -> tuple[dict, dict[str, dict]]:
    d = Path(folder)
    try:
        metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        rows = {json.loads(x)["id"]: json.loads(x) for x in (d / "answers.jsonl").read_text(encoding="utf-8").splitlines()
                if x.strip()}
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise ValueError(f"{d} is not an evaluation run (metrics.json and answers.jsonl): {e}") from e
    return metrics, rows


def compare_retrieval(a: str | Path, b: str | Path) -> str:
    """Markdown for two retrieval-only runs: every variant's metrics (B − A), and the questions whose
    product ranking (first five articles) differs."""
    try:
        ra, rb = (json.loads((Path(x) / "retrieval.json").read_text(encoding="utf-8")) for x in (a, b))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"not two retrieval runs (retrieval.json): {e}") from e
    lines = [f"# Retrieval comparison\n\nA: `{a}`  \nB: `{b}`\n", "| retriever | metric | A | B | B − A |",
             "|---|---|---|---|---|"]
    for name in dict.fromkeys([*ra["variants"], *rb["variants"]]):
        va, vb = ra["variants"].get(name, {}), rb["variants"].get(name, {})
        for k in ("hit@1", "recall@3", "recall@5", "mrr"):
            x, y = va.get(k), vb.get(k)
            diff = f"{y - x:+.4f}" if x is not None and y is not None else "—"
            lines.append(f"| {name} | {k} | {_fmt(x)} | {_fmt(y)} | {diff} |")
    qa = {q["id"]: q for q in ra["questions"]}
    changed = [q for q in rb["questions"] if q["id"] in qa and qa[q["id"]]["ranked"] != q["ranked"]]
    lines.append(f"\n## Questions whose ranking changed ({len(changed)})\n")
    lines += [f"- {q['id']} {q['question']} — gold {q['gold']}; A {qa[q['id']]['ranked']}; B {q['ranked']}"
              for q in changed]
    return "\n".join(lines) + "\n"


def compare(a: str | Path, b: str | Path) -> str:
    """Markdown: metric differences (B − A) and the questions that went from right to wrong and back.

    Two retrieval-only runs (retrieval.json) are compared by `compare_retrieval`."""
    if all((Path(x) / "retrieval.json").is_file() and not (Path(x) / "metrics.json").is_file() for x in (a, b)):
        return compare_retrieval(a, b)
    ma, ra = load_run(a)
    mb, rb = load_run(b)
    fa, fb = _flat({k: v for k, v in ma.items() if k not in SKIP}), \
        _flat({k: v for k, v in mb.items() if k not in SKIP})
    lines = [f"# Comparison\n\nA: `{a}` ({ma.get('backend')})  \nB: `{b}` ({mb.get('backend')})\n",
             "| metric | A | B | B − A |", "|---|---|---|---|"]
    for k in sorted(set(fa) | set(fb)):
        va, vb = fa.get(k), fb.get(k)
        diff = f"{vb - va:+.4f}" if va is not None and vb is not None else "—"
        lines.append(f"| {k} | {_fmt(va)} | {_fmt(vb)} | {diff} |")
    common = sorted(set(ra) & set(rb))
    worse = [i for i in common if ra[i]["correct"] and not rb[i]["correct"]]
    better = [i for i in common if not ra[i]["correct"] and rb[i]["correct"]]
    for title, ids in (("Right in A, wrong in B", worse), ("Wrong in A, right in B", better)):
        lines.append(f"\n## {title} ({len(ids)})\n")
        lines += [f"- {i} {rb[i]['question']} — gold {rb[i]['gold']}; A cited "
                  f"{[c['label'] for c in ra[i]['citations']]} refused={ra[i]['refused']}; B cited "
                  f"{[c['label'] for c in rb[i]['citations']]} refused={rb[i]['refused']}" for i in ids]
    only = sorted(set(ra) ^ set(rb))
    if only:
        lines.append(f"\n{len(only)} question(s) appear in only one run: {', '.join(only[:20])}")
    return "\n".join(lines) + "\n"
