"""The 管理 pages for administrators (mounted at /admin behind a login by `chatbot.server`): the knowledge
base (upload with a parse preview, confirm, replace by a newer version, remove, rebuild progress), the
feedback review (filters, CSV/JSONL export, summary) and the audit log. `AdminPages` holds the callbacks,
free of Gradio so tests call them directly; `create_admin_app()` builds the Blocks.

Every callback takes the signed-in user from the request (Gradio's auth sets `request.username`); the
pages never render uploaded or user text as HTML or markdown (`webapp.safe_text`).
"""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path

from .admin import AdminError, AuditLog, Maintainer, Staged
from .webapp import safe_text

RATING_CHOICES = [("全部", ""), ("👍 有帮助", "helpful"), ("👎 没帮助", "not_helpful"), ("仅评论", "none")]
LIST_COLUMNS = ["id", "法规", "简称", "版本日期", "状态", "条数", "施行日期", "制定机关", "主法规"]
FEEDBACK_COLUMNS = ["时间", "评价", "问题", "回答", "引用", "拒答", "意见"]
AUDIT_COLUMNS = ["时间", "用户", "操作", "对象", "结果", "文件 sha256", "说明"]


def _user(request) -> str:
    return getattr(request, "username", None) or ""


class AdminPages:
    def __init__(self, maintainer: Maintainer, feedback, audit: AuditLog, export_dir: str | Path | None = None):
        self.maintainer = maintainer
        self.feedback = feedback
        self.audit = audit
        self.export_dir = Path(export_dir or tempfile.mkdtemp(prefix="regqa-exports-"))

    # --- knowledge base -------------------------------------------------------------------------

    def regulations(self) -> list[list]:
        return [[r["id"], r["title"], r["short"], r["version"] or "", "现行" if r["status"] == "current" else "已被新版本取代",
                 r["articles"], r["effective"] or "", r["issuer"] or "", "是" if r["primary"] else ""]
                for r in self.maintainer.regulations()]

    def removable(self) -> list[str]:
        return [r["id"] for r in self.maintainer.regulations() if not r["primary"]]

    def preview(self, file_path: str | None, title: str, short: str, effective: str, version: str,
                user: str) -> tuple[str, Staged | None]:
        """(preview markdown, the staged upload to confirm) or (the refusal, None)."""
        if not file_path:
            return "请先选择要上传的法规文件（.md、.txt、.docx 或 .pdf）。", None
        name = Path(file_path).name
        try:
            staged = self.maintainer.stage(file_path, name, user, title=title, short=short, effective=effective,
                                           version=version)
        except AdminError as e:
            return f"**未能接收该文件，知识库没有任何改动：** {safe_text(str(e))}", None
        return preview_markdown(staged), staged

    def confirm(self, staged: Staged | None, user: str) -> str:
        if staged is None:
            return "没有待确认的上传：请先上传文件并预览。"
        return self._start(lambda: self.maintainer.add(staged, user),
                           f"正在添加 {safe_text(staged.preview['id'])}，后台重建索引；公众问答在新索引就绪前继续使用原索引。")

    def cancel(self, staged: Staged | None) -> tuple[str, None]:
        self.maintainer.discard(staged)
        return "已取消，上传的文件已丢弃。", None

    def remove(self, reg_id: str | None, sure: bool, user: str) -> str:
        if not reg_id:
            return "请选择要删除的法规。"
        if not sure:
            return "请勾选“确认删除”后再删除。"
        return self._start(lambda: self.maintainer.remove(reg_id, user), f"正在删除 {safe_text(reg_id)}，后台重建索引。")

    @staticmethod
    def _start(change, started: str) -> str:
        try:
            change()
        except AdminError as e:
            return f"未开始：{safe_text(str(e))}"
        return started

    def progress(self) -> str:
        """The running or last change, as an HTML progress bar and its stage."""
        job = self.maintainer.job
        if job is None:
            return "<p>没有进行中的更改。</p>"
        j = job.to_json()
        state = {"running": f"进行中（{j['stage']}，已用 {j['seconds']:.0f} 秒）",
                 "done": f"已完成，新索引已启用（用时 {j['seconds']:.0f} 秒）",
                 "failed": "失败，知识库和索引保持原样"}[j["state"]]
        action = {"add": "添加", "remove": "删除"}[j["action"]]
        msg = f"<br><small>{html.escape(j['message'][:300])}</small>" if j["message"] and j["state"] != "done" else ""
        return (f'<div id="kb-job" data-state="{j["state"]}"><b>{action} {html.escape(j["target"])}</b>：'
                f'{html.escape(state)}<br>'
                f'<progress value="{j["progress"]:.2f}" max="1" style="width:100%"></progress>{msg}</div>')

    # --- feedback -------------------------------------------------------------------------------

    def feedback_rows(self, rating: str, since: str, until: str) -> tuple[list[list], str]:
        """(table rows, message) of the feedback matching the filters, newest first."""
        try:
            rows = self.feedback.records(rating=rating or None, since=_date(since), until=_date(until), limit=500)
        except (ValueError, AdminError) as e:
            return [], f"筛选条件有误：{safe_text(str(e))}"
        out = [[r["time"], {"helpful": "👍", "not_helpful": "👎"}.get(r["rating"], "—"), r["question"],
                r["answer"], " ".join(r["citations"]), "是" if r["refused"] else "", r["comment"]] for r in rows]
        return out, f"共 {len(out)} 条（最多显示 500 条；导出包含全部）。"

    def export(self, fmt: str, rating: str, since: str, until: str, user: str) -> str:
        """Write the filtered feedback as CSV or JSONL and return the file's path."""
        text = self.feedback.export(fmt, rating=rating or None, since=_date(since), until=_date(until))
        path = self.export_dir / f"feedback-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"
        path.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")  # BOM: Excel reads UTF-8
        self.audit.append(user, "export_feedback", fmt, "", filters={"rating": rating, "since": since, "until": until})
        return str(path)

    def summary(self) -> str:
        s = self.feedback.summary()
        if not s["records"]:
            return "还没有反馈。"
        share = "—" if s["not_helpful_share"] is None else f"{s['not_helpful_share']:.0%}"
        days = "\n".join(f"| {d} | {c.get('helpful', 0)} | {c.get('not_helpful', 0)} | {c.get('none', 0)} |"
                         for d, c in list(s["per_day"].items())[-14:])
        refused = "\n".join(f"{i}. {safe_text(q)}（{n} 次）" for i, (q, n) in enumerate(s["most_refused"], 1))
        return (f"共 {s['records']} 条反馈，评价中 👎 占 {share}。\n\n| 日期 | 👍 | 👎 | 仅评论 |\n|---|---|---|---|\n{days}\n\n"
                "**最常被拒答的问题**（知识库可能缺少的内容）：\n\n" + (refused or "（无）"))

    def audit_rows(self) -> list[list]:
        return [[r.get("time", ""), r.get("user", ""), r.get("action", ""), r.get("target", ""), r.get("outcome", ""),
                 r.get("sha256", "")[:16], r.get("reason", "")] for r in self.audit.tail(100)]


def _date(value: str) -> str:
    v = (value or "").strip()
    if v and not (len(v) == 10 and v[4] == "-" and v[7] == "-" and v.replace("-", "").isdigit()):
        raise AdminError(f"日期应写作 YYYY-MM-DD，而不是 {v!r}")
    return v


def preview_markdown(staged: Staged) -> str:
    p = staged.preview
    e = safe_text
    lines = [f"### 预览：《{e(p['title'])}》", "",
             f"- id：`{e(p['id'])}`；简称：{e(p['short'] or '—')}；制定机关：{e(p['issuer'] or '—')}",
             f"- 通过：{e(p['adopted'] or '—')}；修订/修正：{e('、'.join(p['amended']) or '—')}；"
             f"施行：{e(p['effective'] or '—')}；版本日期：{e(p['version'] or '—')}",
             f"- {p['articles']} 条，{p['clauses']} 款；文件 {e(staged.name)}（{staged.size / 1024:.0f} KB，"
             f"sha256 {staged.sha256[:16]}…）"]
    if p["supersedes"]:
        lines.append(f"- **将取代旧版本**：{e('、'.join(p['supersedes']))}（旧版本保留，标为已被取代，只在问到旧版时使用）")
    if p["superseded_by"]:
        lines.append(f"- **注意**：知识库已有更新的版本（{e('、'.join(p['superseded_by']))}），本文件将作为旧版本收录")
    if p["chapter_titles"]:
        lines.append(f"- 章：{e('；'.join(p['chapter_titles']))}")
    lines.append("")
    if p["warnings"]:
        lines += ["**解析提示（请核对后再确认）：**", ""] + [f"- {e(w)}" for w in p["warnings"]] + [""]
    lines += ["**前几条：**", ""]
    for a in p["first_articles"]:  # one quote per article, its paragraphs on lines of their own
        body = a["text"][:300] + ("……" if len(a["text"]) > 300 else "")
        lines += ["> " + e(a["label"]) + "　" + "\n> ".join(e(x) for x in body.split("\n")), ""]
    lines += ["", "确认无误后点“确认添加”；在此之前知识库没有任何改动。"]
    return "\n".join(lines)


def create_admin_app(pages: AdminPages):
    import gradio as gr

    def signed_in(fn):
        """Gradio passes the request (and so the signed-in user) to a parameter annotated gr.Request; this
        module's annotations are strings, so the annotation is set on the function object."""
        fn.__annotations__["request"] = gr.Request
        return fn

    with gr.Blocks(title="管理 · 法规问答助手") as demo:
        gr.Markdown("# 管理\n维护知识库、查看用户反馈和操作记录。公众问答页面不受影响。")
        staged = gr.State(None)
        with gr.Tab("知识库"):
            table = gr.Dataframe(pages.regulations(), headers=LIST_COLUMNS, interactive=False, wrap=True,
                                 elem_id="kb-list")
            job = gr.HTML(pages.progress(), elem_id="kb-progress")
            gr.Markdown("#### 上传法规（新法规，或已收录法规的新版本）")
            with gr.Row():
                upload = gr.File(label="法规文件（.md .txt .docx .pdf）", file_types=[".md", ".txt", ".docx", ".pdf"],
                                 type="filepath", elem_id="kb-upload")
                with gr.Column():
                    title = gr.Textbox(label="标题（可选，默认取自文件）", max_lines=1)
                    short = gr.Textbox(label="简称（可选）", max_lines=1)
                    with gr.Row():
                        effective = gr.Textbox(label="施行日期 YYYY-MM-DD（可选）", max_lines=1)
                        version = gr.Textbox(label="版本日期 YYYY-MM-DD（可选）", max_lines=1)
            preview_btn = gr.Button("预览", elem_id="kb-preview-btn")
            preview = gr.Markdown(elem_id="kb-preview")
            with gr.Row():
                confirm_btn = gr.Button("确认添加", variant="primary", elem_id="kb-confirm")
                cancel_btn = gr.Button("取消", elem_id="kb-cancel")
            status = gr.Markdown(elem_id="kb-status")
            gr.Markdown("#### 删除法规")
            with gr.Row():
                victim = gr.Dropdown(pages.removable(), label="法规 id", elem_id="kb-remove-id", allow_custom_value=True)
                sure = gr.Checkbox(label="确认删除", elem_id="kb-remove-sure")
                remove_btn = gr.Button("删除", variant="stop", elem_id="kb-remove")

            @signed_in
            def on_preview(f, t, s, e, v, old, request: gr.Request):
                pages.maintainer.discard(old)
                return pages.preview(f, t, s, e, v, _user(request))

            preview_btn.click(on_preview, [upload, title, short, effective, version, staged], [preview, staged],
                              api_name="preview")
            @signed_in
            def on_confirm(st, request: gr.Request):
                return pages.confirm(st, _user(request)), None, ""

            @signed_in
            def on_remove(reg_id, ok, request: gr.Request):
                return pages.remove(reg_id, ok, _user(request))

            confirm_btn.click(on_confirm, [staged], [status, staged, preview], api_name="confirm")
            cancel_btn.click(pages.cancel, [staged], [status, staged], api_name="cancel")
            remove_btn.click(on_remove, [victim, sure], status, api_name="remove")
            timer = gr.Timer(1.0)
            timer.tick(lambda: (pages.progress(), pages.regulations(), gr.update(choices=pages.removable())), None,
                       [job, table, victim], show_progress="hidden", api_visibility="private")
        with gr.Tab("用户反馈"):
            with gr.Row():
                rating = gr.Dropdown(RATING_CHOICES, value="", label="评价", elem_id="fb-rating")
                since = gr.Textbox(label="起始日期 YYYY-MM-DD", max_lines=1, elem_id="fb-since")
                until = gr.Textbox(label="截止日期 YYYY-MM-DD", max_lines=1, elem_id="fb-until")
                query_btn = gr.Button("查询", elem_id="fb-query")
            count = gr.Markdown()
            rows = gr.Dataframe(headers=FEEDBACK_COLUMNS, interactive=False, wrap=True, elem_id="fb-table")
            with gr.Row():
                csv_btn = gr.Button("导出 CSV")
                jsonl_btn = gr.Button("导出 JSONL")
            exported = gr.File(label="导出文件", elem_id="fb-export")
            summary = gr.Markdown(pages.summary(), elem_id="fb-summary")
            query_btn.click(lambda r, a, b: (*pages.feedback_rows(r, a, b), pages.summary()), [rating, since, until],
                            [rows, count, summary], api_name="feedback")

            def on_export(fmt):
                @signed_in
                def run(r, a, b, request: gr.Request):
                    try:
                        return pages.export(fmt, r, a, b, _user(request))
                    except (ValueError, AdminError) as e:
                        raise gr.Error(str(e)) from e
                return run

            csv_btn.click(on_export("csv"), [rating, since, until], exported, api_name="export_csv")
            jsonl_btn.click(on_export("jsonl"), [rating, since, until], exported, api_name="export_jsonl")
        with gr.Tab("操作记录"):
            audit = gr.Dataframe(pages.audit_rows(), headers=AUDIT_COLUMNS, interactive=False, wrap=True,
                                 elem_id="audit-table")
            gr.Button("刷新").click(pages.audit_rows, None, audit, api_visibility="private")
        demo.load(lambda: (pages.regulations(), gr.update(choices=pages.removable()), pages.summary(),
                           pages.audit_rows()), None, [table, victim, summary, audit], api_visibility="private")
    demo.admin_pages = pages
    return demo
