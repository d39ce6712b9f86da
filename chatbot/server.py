"""The web server: the public chat at /, the 管理 pages at /admin behind a login (only when an administrator
is configured), and the index watcher that lets several app processes share one index folder.

    server = build_server(settings, assistant)   # FastAPI app + the parts tests reach into
    uvicorn.run(server.app, host=..., port=...)  # what `app.py` does

Authentication: Gradio's login for the mounted admin app (a session cookie per process; behind a load
balancer, send /admin to one process or use sticky sessions). Every admin route — pages, config, API
calls, uploads, files — answers 401 without that cookie. Failed logins are counted per client address
(`admin.LoginLimiter`): after 5 in 10 minutes, /admin/login answers 429 until the oldest is 10 minutes
old. Logins and admin actions go to the audit log.
"""

from __future__ import annotations

import contextvars
import hmac
import sys
from dataclasses import dataclass

from .admin import AdminError, AuditLog, LoginLimiter, Maintainer, parse_hash, verify_password
from .answer import Assistant
from .config import Settings
from .live import LiveAssistant

CLIENT = contextvars.ContextVar("client", default="")  # the address of the request being served
MAX_FAILURES, WINDOW = 5, 600.0


@dataclass
class Server:
    app: object                      # the FastAPI application to run
    live: LiveAssistant
    public: object                   # the public Blocks (its `.webapp` holds the callbacks)
    admin: object | None = None      # the admin Blocks (`.pages`), None when no administrator is configured
    limiter: LoginLimiter | None = None


def make_auth(settings: Settings, limiter: LoginLimiter, audit: AuditLog):
    """The login check for the admin pages: the configured user and a password matching its hash. The
    password is always hashed, whatever the user name, so timing does not tell a wrong user from a wrong
    password."""
    parse_hash(settings.admin_password_hash)  # a malformed hash stops the start-up with a message

    def check(username: str, password: str) -> bool:
        client = CLIENT.get()
        ok = verify_password(password, settings.admin_password_hash)
        ok = hmac.compare_digest(username.encode("utf-8"), settings.admin_user.encode("utf-8")) and ok
        (limiter.succeeded if ok else limiter.failed)(client)
        audit.append(username[:100], "login", client, outcome="ok" if ok else "failed")
        return ok

    return check


def build_server(settings: Settings, assistant: Assistant, log=lambda msg: print(msg, file=sys.stderr)) -> Server:
    import gradio as gr
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from .adminapp import AdminPages, create_admin_app
    from .webapp import CLIENT_JS, CSS, create_app

    live = LiveAssistant(assistant, log=log)
    live.watch(settings.reload_seconds)
    public = create_app(live, settings.feedback_db_path, legacy_feedback=settings.feedback_file)
    public.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    app = FastAPI()
    server = Server(app, live, public)
    if settings.admin_enabled:
        audit = AuditLog(settings.admin_audit_log)
        limiter = LoginLimiter(MAX_FAILURES, WINDOW)
        maintainer = Maintainer(settings, assistant.retriever.embedder, live.swap, audit)
        admin = create_admin_app(AdminPages(maintainer, public.webapp.feedback, audit))
        admin.queue(default_concurrency_limit=2)

        @app.middleware("http")
        async def login_guard(request: Request, call_next):
            client = request.client.host if request.client else ""
            CLIENT.set(client)
            if request.method == "POST" and request.url.path.rstrip("/").endswith("/admin/login"):
                wait = limiter.retry_after(client)
                if wait > 0:
                    audit.append("", "login", client, outcome="rate_limited")
                    return JSONResponse({"detail": f"too many failed logins; try again in {wait:.0f} s"},
                                        status_code=429, headers={"Retry-After": str(int(wait) + 1)})
            return await call_next(request)

        gr.mount_gradio_app(app, admin, path="/admin", auth=make_auth(settings, limiter, audit),
                            auth_message="管理页面：请使用管理员账号登录", max_file_size=settings.upload_max_mb * 2**20,
                            show_error=True, footer_links=[])
        server.admin, server.limiter = admin, limiter
        log(f"admin pages at /admin for {settings.admin_user}; audit log {settings.admin_audit_log}")
    gr.mount_gradio_app(app, public, path="", css=CSS, head=CLIENT_JS, footer_links=["api"], show_error=False)
    return server


def check_admin_settings(settings: Settings) -> str | None:
    """A message when the admin settings cannot work (a malformed hash), else None."""
    if not settings.admin_enabled:
        return None
    try:
        parse_hash(settings.admin_password_hash)
    except AdminError as e:
        return str(e)
    return None

