"""The Gradio web app: chat with streaming answers, citation chips, the evidence panel, the regulation
browser, feedback, and an API endpoint for programs. `create_app()` builds the Blocks; `app.py` launches.

Safety: nothing a user or the model wrote is rendered as HTML or markdown. Such text is escaped
character by character (`safe_text`), and the only markup in a message is the citation chips this module
builds from verified clauses. Clicking a chip shows the clause highlighted within its article, in the
side panel, by a few lines of page script (`CLIENT_JS`), with no round trip and no page change.
The callbacks are plain methods of `WebApp`, so they are tested without a browser.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

from .answer import Answer, Assistant, InputError, turn_of
from .corpus import Regulation
from .feedback import FeedbackError, open_feedback
from .kb import KnowledgeBase, as_kb
from .live import LiveAssistant
from .labels import PREAMBLE, format_label, parse_label

EXAMPLES = [
    "工厂做技术改造，政府能给什么支持？",          # enterprise owner
    "我们厂想上市，省里有什么支持？",              # enterprise owner
    "引进的高层次人才，孩子上学能得到什么服务？",    # citizen
    "统计部门在先进制造业方面要做什么？",           # civil servant
    "条例第二十四条讲什么？",                     # names an article
    "违反本条例要罚多少钱？",                     # out of scope: refused
]

CLIENT_JS = """
<script>
(function () {
  function show(id) {
    var store = document.getElementById('reg-store');
    var view = document.getElementById('clause-view');
    if (!store || !view) return;
    var clause = store.querySelector('[data-clause="' + id + '"]');
    if (!clause) return;
    var article = clause.closest('[data-article]');
    view.innerHTML = article.outerHTML;
    var mark = view.querySelector('[data-clause="' + id + '"]');
    mark.classList.add('hl');
    if (window.innerWidth < 700) { view.scrollIntoView({block: 'start'}); } else { mark.scrollIntoView({block: 'nearest'}); }
    view.setAttribute('data-shown', id);
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[href^="#clause-"]');
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    show(a.getAttribute('href').slice('#clause-'.length));
  }, true);
})();
</script>
"""

CSS = """
.cite { display:inline-block; padding:0 6px; margin:0 2px; border-radius:10px; background:#e8f0fe;
        color:#1a56c4 !important; text-decoration:none !important; font-size:0.9em; cursor:pointer; }
.refusal { border-left:4px solid #d9822b; padding-left:8px; }
.hl { background:#fff3b0; outline:2px solid #f0c419; border-radius:4px; }
#clause-view, #regulation-view { max-height:480px; overflow-y:auto; }
.article { margin:0 0 12px 0; } .article h4 { margin:4px 0; }
.clause { margin:2px 0; white-space:pre-wrap; }
.evidence td { vertical-align:top; padding:2px 6px; border-bottom:1px solid #eee; }
.evidence td:first-child { white-space:nowrap; }
.notice { background:#fff7e6; border:1px solid #f0c419; padding:6px 10px; border-radius:6px; }
.law { margin:0 0 18px 0; } .law h3 { margin:6px 0 2px 0; } .law .meta { color:#555; font-size:0.9em; margin:0 0 6px 0; }
.superseded h3 { color:#888; } .badge { font-size:0.75em; padding:0 6px; border-radius:8px; background:#eee; color:#666; }
@media (max-width: 640px) {
  #clause-view, #regulation-view { max-height:300px; }
  /* a phone's first screen: the question box and the examples, not an empty chat panel */
  #status-line, #laws-line { display:none; }
  #intro p { font-size:0.85em; margin:0; }
  #intro h1 { font-size:1.25em; margin:0 0 4px 0; }
  #chat { height:200px !important; min-height:200px !important; }
}
"""

_MD_SPECIAL = set("\\`*_{}[]()#+-!|~<>&\"'=:")


def safe_text(text: str) -> str:
    """Escape every character that HTML or markdown could interpret, so text shows exactly as typed.

    safe_text("<b>x</b>") -> "&#60;b&#62;x&#60;/b&#62;"
    """
    out = []
    for ch in text:
        out.append(f"&#{ord(ch)};" if ch in _MD_SPECIAL else ch)
    return "".join(out).replace("\n", "  \n")


def chip(clause_id: str, label: str) -> str:
    return f'<a class="cite" href="#clause-{clause_id}">【{html.escape(label)}】</a>'


def render_answer(ans: Answer) -> str:
    """The verified answer as chat markdown: escaped text, 【label】 replaced by clickable chips."""
    by_label = {c.label: c for c in ans.citations} | {c.label: c for c in ans.suggestions}
    parts = re.split(r"(【[^】]{1,30}】)", ans.text)
    out = []
    for p in parts:
        label = p[1:-1] if p.startswith("【") else None
        ref = parse_label(label) if label else None
        # an item's label shows its clause
        base = (ref.regulation or "") + format_label(ref.article, ref.paragraph) if ref else None
        clause = by_label.get(label) or by_label.get(base) if label else None
        out.append(chip(clause.id, label) if clause else safe_text(p))
    body = "".join(out)
    if ans.refused:
        return f'<div class="refusal">⚠️ {body}</div>'
    notes = "".join(f"\n\n<small>（{safe_text(n)}）</small>" for n in ans.notices)
    return body + notes


def regulation_html(reg: Regulation | KnowledgeBase, query: str = "", store: bool = False,
                    only: str | None = None) -> str:
    """Every regulation (current ones first, superseded ones marked) with its metadata and chapters, then
    its 题注 and articles, as HTML (escaped text); `only` keeps one regulation (an id). With a query, only
    matching articles, matches marked. A knowledge base of one regulation shows just its text."""
    kb = as_kb(reg)
    terms = [t for t in re.split(r"\s+", query.strip()) if t]
    laws = [r for r in kb.regulations if only in (None, "", r.id)]
    several = len(kb.regulations) > 1
    sections = []
    for law in laws:
        blocks = _articles_html(law, terms)
        if not blocks:
            continue
        if several:
            meta = " · ".join(x for x in (law.issuer, f"{law.adopted} 通过" if law.adopted else "",
                                          f"修订/修正 {'、'.join(law.amended)}" if law.amended else "",
                                          f"{law.effective} 施行" if law.effective else "",
                                          f"共{len(law.articles)}条") if x)
            badge = ('<span class="badge">已被新版本取代</span>' if law.status == "superseded"
                     else '<span class="badge">主条例</span>' if law.primary else "")
            chapters = (f"<details><summary>章节（{len(law.chapters)}）</summary>"
                        + "".join(f"<div>{html.escape(c)}</div>" for c in law.chapters) + "</details>"
                        if law.chapters else "")
            sections.append(f'<section class="law{" superseded" if law.status == "superseded" else ""}" '
                            f'data-law="{html.escape(law.id)}"><h3>《{html.escape(law.title)}》 {badge}</h3>'
                            f'<p class="meta">{html.escape(meta)}</p>{chapters}{"".join(blocks)}</section>')
        else:
            sections.append("".join(blocks))
    if not sections:
        return f"<p>没有找到包含「{html.escape(query)}」的条文。</p>"
    attrs = ' id="reg-store" style="display:none"' if store else ""
    return f"<div{attrs}>{''.join(sections)}</div>"


def _articles_html(reg: Regulation, terms: list[str]) -> list[str]:
    """The 题注 and the articles of one regulation that contain every term, as HTML blocks."""
    blocks = []
    preamble = [reg.article(PREAMBLE)] if reg.preamble else []
    for art in preamble + list(reg.articles):
        if terms and not all(t in art.text or t in art.label for t in terms):
            continue
        clauses = []
        for c in art.clauses:
            text = html.escape(c.text)
            for t in terms:
                text = text.replace(html.escape(t), f"<mark>{html.escape(t)}</mark>")
            head = f"<b>{html.escape(c.label)}</b> " if len(art.clauses) > 1 else ""
            clauses.append(f'<p class="clause" data-clause="{c.id}">{head}{text}</p>')
        label = format_label(art.number, law=reg.law)
        blocks.append(f'<div class="article" data-article="{art.number}"><h4>{html.escape(label)}'
                      f'{" · " + html.escape(art.chapter) if art.chapter else ""}</h4>{"".join(clauses)}</div>')
    return blocks


def evidence_html(ans: Answer | None) -> str:
    if ans is None or not ans.hits:
        return "<p>提问后，这里列出检索到的条款及其得分。</p>"
    rows = []
    for h in ans.hits:
        ranks = f"语义 {h.dense_rank or '—'} · 关键词 {h.bm25_rank or '—'}" + (" · 点名条文" if h.lookup else "")
        rows.append(f"<tr><td>{chip(h.clause.id, h.clause.label)}</td><td>{h.score:.3f}</td>"
                    f"<td><small>{ranks}</small><br>{html.escape(h.clause.text[:120])}"
                    f"{'…' if len(h.clause.text) > 120 else ''}</td></tr>")
    return f'<table class="evidence"><tr><th>条款</th><th>得分</th><th>内容</th></tr>{"".join(rows)}</table>'


class WebApp:
    """The callbacks behind the UI, free of Gradio so they can be tested directly."""

    def __init__(self, assistant: Assistant | LiveAssistant, feedback_path: str | Path,  # or a postgresql:// URL
                 legacy_feedback: str | Path | None = None):
        # the assistant in service; replaced whole when the index is rebuilt or reloaded (`chatbot.live`)
        self.live = assistant if isinstance(assistant, LiveAssistant) else LiveAssistant(assistant)
        # SQLite on one machine, PostgreSQL (a postgresql:// URL) when app processes on several share it
        self.feedback = open_feedback(feedback_path, legacy=legacy_feedback)

    @property
    def assistant(self) -> Assistant:
        """The assistant in service now; a request takes it once and keeps it to its end."""
        return self.live.current

    def status(self) -> str:
        a = self.assistant
        llm = f"{a.backend}（{a.llm.name}）" if a.llm is not None else "extractive（直接引用条文，未加载语言模型）"
        emb = a.retriever.index.embed_model
        if a.retriever.mode == "hybrid":
            source = {"setting": "设定值", "default": "默认值"}.get(a.relevance_source, "按问题集校准")
            retr = f"混合检索（{Path(emb).name}，相关度阈值 {a.min_relevance:.2f}，{source}）"
        else:
            retr = "关键词检索 BM25（未加载语义模型）"
        offline = " · 离线模式" if a.notices else ""
        return f"回答：{llm} · 检索：{retr}{offline}"

    def notices_markdown(self) -> str:
        if not self.assistant.notices:
            return ""
        items = "".join(f"<li>{html.escape(n)}</li>" for n in self.assistant.notices)
        return (f'<div class="notice"><b>部分模型未加载，应用以降级模式运行：</b><ul>{items}</ul>'
                "添加模型：设置 <code>CHATBOT_EMBED_MODEL</code>（语义检索）和 <code>CHATBOT_LLM_MODEL</code>"
                "（语言模型，可为本地文件夹或 .gguf 文件）后重启。</div>")

    def laws_line(self) -> str:
        """Which other laws the knowledge base holds, under the title ("" when it holds one)."""
        kb = self.assistant.regulation
        return f"本知识库还收录：{kb.laws_line()}，回答会注明出自哪部法规。" if kb.others else ""

    def respond(self, message: str, chat: list[dict], turns: list, records: list, top_k: int,
                laws: list[str] | None = None):
        """Generator for the chat: yields (chat, turns, records, evidence_html, textbox value). `laws`: the
        regulations (ids) the picker keeps retrieval to; None or empty means every current one."""
        chat = list(chat or [])
        turns, records = list(turns or []), list(records or [])
        assistant = self.assistant
        try:
            stream = assistant.stream(message, turns, top_k, regulations=list(laws) if laws else None)
            first = next(stream)
        except InputError as e:
            chat += [{"role": "user", "content": safe_text(str(message)[:200])},
                     {"role": "assistant", "content": f'<div class="refusal">⚠️ {safe_text(str(e))}</div>'}]
            records.append(None)
            yield chat, turns, records, evidence_html(None), message
            return
        chat += [{"role": "user", "content": safe_text(message.strip())}, {"role": "assistant", "content": "…"}]
        raw = ""
        answer = None
        for ev in _chain(first, stream):
            if ev.kind == "token":
                raw += ev.text
                chat[-1] = {"role": "assistant", "content": safe_text(raw) + " ⏳"}
                yield chat, turns, records, evidence_html(None), ""
            else:
                answer = ev.answer
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        turns = (turns + [turn_of(answer)])[-assistant.settings.history_turns:]
        records.append({"question": answer.question, "answer": answer.text,
                        "citations": [c.label for c in answer.citations], "refused": answer.refused})
        yield chat, turns, records, evidence_html(answer), ""

    def record_feedback(self, records: list, index: int | None, liked: bool | None, comment: str = "") -> str:
        """Store feedback on the answer at chat position `index` (or the last answer)."""
        answers = records or []
        rec = None
        if index is not None and 0 <= index // 2 < len(answers):
            rec = answers[index // 2]
        elif answers:
            rec = answers[-1]
        if rec is None:
            return "还没有可评价的回答。"
        # the store stamps the time and bounds the comment (`feedback._row`)
        entry = {"rating": None if liked is None else ("helpful" if liked else "not_helpful"),
                 "comment": (comment or "").strip(), **rec}
        try:
            self.feedback.append(entry)
        except (OSError, FeedbackError) as e:
            return f"反馈未能保存（{getattr(e, 'strerror', None) or e}）。请检查反馈数据库（{self.feedback.describe()}）是否可用，其所在目录是否可写。"
        return "感谢反馈，已记录。"

    def api_feedback(self, rating: str, question: str, answer: str = "", citations: str = "",
                     comment: str = "", refused: bool = False) -> dict:
        """For programs: store 👍/👎 ("helpful"/"not_helpful", or "" for a comment alone) on an answer they got
        from /ask or /chat; `citations` are the answer's labels, space-separated. Returns {"stored": id}."""
        if rating not in ("helpful", "not_helpful", ""):
            return {"error": "rating must be helpful, not_helpful or empty"}
        if not (question or "").strip():
            return {"error": "question is empty"}
        entry = {"rating": rating or None, "comment": (comment or "").strip(), "question": question.strip()[:2000],
                 "answer": (answer or "")[:5000], "citations": (citations or "").split()[:50],
                 "refused": bool(refused)}
        try:
            return {"stored": self.feedback.append(entry)}
        except (OSError, FeedbackError) as e:
            return {"error": f"feedback not stored: {e}"}

    def api_chat(self, message: str, turns: list):
        """For programs holding a conversation: (answer JSON, updated history) per message."""
        turns = list(turns or [])
        assistant = self.assistant
        try:
            ans = assistant.ask(message, turns)
        except InputError as e:
            return {"question": message, "error": str(e)}, turns
        return ans.to_json(), (turns + [turn_of(ans)])[-assistant.settings.history_turns:]

    def run_eval(self, gold_file: str | None, limit: int, out_root: str | Path, progress=None):
        """Evaluate on the built-in gold set or an uploaded JSONL file (`chatbot.tools.evaluate` runs it).

        Returns (summary markdown, plot paths, worst-cases markdown, path of a zip of the report).
        A malformed gold file is reported (with line numbers) instead of starting the run.
        """
        from .gold import GoldError
        from .tools.evaluate import run_answer_eval
        from .tools.report import markdown

        out = Path(out_root) / time.strftime("%Y%m%d-%H%M%S")
        try:
            run = run_answer_eval(self.assistant, gold_file or self.assistant.settings.gold_file, out,
                                  limit=int(limit or 0), progress=progress, archive=True)
        except GoldError as e:
            return f"**评测文件有误，未开始评测：**\n\n```\n{e}\n```", [], "", None
        except OSError as e:
            return f"评测完成，但报告未能写入 {out}（{e.strerror or e}）。", [], "", None
        summary, _, worst = markdown(run.metrics, run.rows).partition("## Worst cases")
        return summary, [str(f) for f in run.files if f.suffix == ".png"], "## Worst cases" + worst, str(run.archive)

    def search(self, query: str, law: str | None = None) -> str:
        """The regulations browser: every regulation, or one (`law`, an id), filtered by `query`."""
        return regulation_html(self.assistant.regulation, (query or "")[:100], only=law or None)

    def page(self):
        """What a page shows of the knowledge base, as it is now (a rebuild may have changed it since the app
        started): the laws line, the picker of laws, the browser's law filter, the clause store, the browser."""
        import gradio as gr

        reg = self.assistant.regulation
        return (self.laws_line(),
                gr.update(choices=[(r.title, r.id) for r in reg.current], value=[r.id for r in reg.current],
                          visible=len(reg.current) > 1),
                gr.update(choices=law_choices(reg), value="", visible=len(reg.regulations) > 1),
                regulation_html(reg, store=True), regulation_html(reg))

    def api_ask(self, question: str, regulations: str = "") -> dict:
        """For programs: one question in, the answer as JSON out (errors as {"error": ...}).
        `regulations`: comma-separated ids to keep retrieval to (default: every current one)."""
        try:
            laws = [x.strip() for x in regulations.split(",") if x.strip()] or None
            return self.assistant.ask(question, regulations=laws).to_json()
        except InputError as e:
            return {"question": question, "error": str(e)}


def _chain(first, rest):
    yield first
    yield from rest


def law_choices(reg: KnowledgeBase) -> list[tuple[str, str]]:
    return [("全部法规", "")] + [(("（旧版）" if r.status == "superseded" else "") + r.title, r.id)
                             for r in reg.regulations]


def create_app(assistant: Assistant | LiveAssistant, feedback_path: str | Path, legacy_feedback: str | Path | None = None):
    import gradio as gr

    app = WebApp(assistant, feedback_path, legacy_feedback)
    reg = app.assistant.regulation
    with gr.Blocks(title=f"{reg.title} · 问答助手") as demo:
        gr.Markdown(f"# {reg.title} · 问答助手\n用日常语言提问，回答只依据收录的法规并标注条款出处"
                    f"（点击【条款】查看原文）。法规没有规定的事项会如实说明。", elem_id="intro")
        laws_line = gr.Markdown(app.laws_line(), elem_id="laws-line")
        gr.Markdown(app.status(), elem_id="status-line")
        gr.HTML(app.notices_markdown(), elem_id="notices")
        turns, records = gr.State([]), gr.State([])
        with gr.Tab("问答"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    chat = gr.Chatbot(label="对话", height=460, elem_id="chat", sanitize_html=True,
                                      feedback_options=("Like", "Dislike"))
                    box = gr.Textbox(placeholder="输入问题，例如：工厂做技术改造，政府能给什么支持？", show_label=False,
                                     elem_id="question", max_lines=4)
                    with gr.Row():
                        send = gr.Button("发送", variant="primary", elem_id="send")
                        clear = gr.Button("重新开始", elem_id="clear")
                    gr.Examples(EXAMPLES, inputs=box, label="示例问题")
                    with gr.Accordion("反馈与设置", open=False):
                        comment = gr.Textbox(label="对最近一条回答的意见（可选）", max_lines=3, elem_id="comment")
                        with gr.Row():
                            up = gr.Button("👍 有帮助", elem_id="fb-up")
                            down = gr.Button("👎 没帮助", elem_id="fb-down")
                        fb_status = gr.Markdown(elem_id="fb-status")
                        top_k = gr.Slider(1, 10, value=app.assistant.settings.top_k, step=1, label="检索条款数")
                        laws = gr.CheckboxGroup([(r.title, r.id) for r in reg.current],
                                                value=[r.id for r in reg.current], label="检索范围（法规）",
                                                elem_id="laws", visible=len(reg.current) > 1)
                        gr.Markdown(app.status())
                with gr.Column(scale=2, min_width=280):
                    gr.Markdown("### 条文原文")
                    gr.HTML("<p>点击回答中的【条款】，在这里查看该款在全条中的位置。</p>", elem_id="clause-view")
                    gr.Markdown("### 检索到的条款")
                    evidence = gr.HTML(evidence_html(None), elem_id="evidence")
                    store = gr.HTML(regulation_html(reg, store=True))
        with gr.Tab("条例全文"):
            with gr.Row():
                query = gr.Textbox(label="搜索条文", placeholder="输入关键词，如：用地", elem_id="reg-search", scale=3)
                which = gr.Dropdown(law_choices(reg), value="", label="法规", elem_id="reg-law", scale=2,
                                    visible=len(reg.regulations) > 1)
            view = gr.HTML(regulation_html(reg), elem_id="regulation-view")
            query.change(app.search, [query, which], view, show_progress="hidden")
            which.change(app.search, [query, which], view, show_progress="hidden")

        with gr.Tab("评测"):
            gr.Markdown("用标准问题集评测检索与回答（引用准确率、召回率、拒答、时延），生成可下载的报告。"
                        "默认使用内置问题集，也可上传 JSONL 文件（每行含 id、question、articles、key_points、type）。")
            with gr.Row():
                upload = gr.File(label="问题集（可选，JSONL）", file_types=[".jsonl"], type="filepath")
                limit = gr.Number(value=0, precision=0, label="只评测前 N 题（0 = 全部）", minimum=0)
            run_btn = gr.Button("运行评测", variant="primary", elem_id="run-eval")
            summary = gr.Markdown(elem_id="eval-summary")
            gallery = gr.Gallery(label="图表", columns=2, height="auto")
            worst = gr.Markdown()
            download = gr.File(label="下载报告（zip）")

            def on_eval(file_v, limit_v, progress=gr.Progress(track_tqdm=False)):
                track = lambda xs: progress.tqdm(xs, desc="评测中")  # noqa: E731
                return app.run_eval(file_v, int(limit_v or 0), app.assistant.settings.reports_dir, progress=track)

            run_btn.click(on_eval, [upload, limit], [summary, gallery, worst, download], api_visibility="private",
                          concurrency_limit=1)

        def on_submit(message, chat_v, turns_v, records_v, k, laws_v):
            chosen = laws_v if laws_v and len(laws_v) < len(app.assistant.regulation.current) else None
            yield from app.respond(message, chat_v, turns_v, records_v, int(k), chosen)

        outs = [chat, turns, records, evidence, box]
        box.submit(on_submit, [box, chat, turns, records, top_k, laws], outs, api_visibility="private")
        send.click(on_submit, [box, chat, turns, records, top_k, laws], outs, api_visibility="private")
        clear.click(lambda: ([], [], [], evidence_html(None), ""), None, outs, api_visibility="private")

        def on_like(records_v, data):
            return app.record_feedback(records_v, data.index if isinstance(data.index, int) else data.index[0],
                                       data.liked)

        on_like.__annotations__["data"] = gr.LikeData  # Gradio injects the event data by this annotation

        chat.like(on_like, [records], fb_status, api_visibility="private")
        up.click(lambda r, c: app.record_feedback(r, None, True, c), [records, comment], fb_status,
                 api_visibility="private")
        down.click(lambda r, c: app.record_feedback(r, None, False, c), [records, comment], fb_status,
                   api_visibility="private")
        gr.api(app.api_ask, api_name="ask")
        gr.api(app.api_feedback, api_name="feedback")
        # a conversation for programs: the session keeps its own history, as a browser tab does
        api_in, api_out = gr.Textbox(visible=False), gr.JSON(visible=False)
        gr.Button(visible=False).click(app.api_chat, [api_in, turns], [api_out, turns], api_name="chat")
        # a page opened after a change of the knowledge base shows it as it is now
        demo.load(app.page, None, [laws_line, laws, which, store, view], api_visibility="private",
                  show_progress="hidden")
    demo.webapp = app
    return demo
