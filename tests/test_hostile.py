"""The hostile-input suite through the API, the web callbacks and the command line, plus faults."""

import shutil

import pytest

from chatbot.answer import Assistant
from chatbot.config import Settings
from chatbot.tools.hostile import CASES, run_api, run_cli, run_web
from chatbot.index import load, open_index
from chatbot.retrieve import Retriever
from chatbot.webapp import WebApp
from conftest import ROOT, child_env


@pytest.fixture(scope="module")
def assistant(built_index):
    _, idx, _ = built_index
    # BM25 only: the offline product, and deterministic (the tiny test embedder's similarities are random)
    return Assistant(Settings(backend="extractive"), Retriever(idx, None), None)


def test_every_case_through_the_api(assistant):
    rows = run_api(assistant)
    assert len(rows) == len(CASES) + 1
    failed = [r for r in rows if not r.ok]
    assert failed == []
    by = {r.case: r for r in rows}
    assert by["100,000 characters"].outcome == "error message"
    assert by["article that does not exist"].outcome == "refused"
    assert by["injection: fake article"].outcome == "refused"


def test_every_case_through_the_web_callbacks(assistant, tmp_path):
    rows = run_web(WebApp(assistant, tmp_path / "fb.jsonl"))
    assert [r for r in rows if not r.ok] == []
    assert all(r.detail == "escaped" for r in rows)


def test_every_case_through_the_command_line(tmp_path, regulation):
    env = child_env() | {
        "CHATBOT_BACKEND": "extractive", "CHATBOT_EMBED_MODEL": "none", "CHATBOT_INDEX_DIR": str(tmp_path / "i")}
    rows = run_cli(env, ROOT, regulation)
    assert [r for r in rows if not r.ok] == [], rows
    assert rows[-2].case == "invalid UTF-8 in a file" and rows[-2].outcome == "error message"


class Exploding:
    """An embedder that worked at start-up and fails later."""

    name = "exploding"

    def encode_queries(self, texts):
        raise RuntimeError("model crashed")


def test_embedder_failing_mid_request_falls_back_to_bm25(built_index):
    _, idx, emb = built_index
    r = Retriever(idx, emb)
    r.embedder = Exploding()
    a = Assistant(Settings(backend="extractive"), r, None, min_relevance=0.0)
    ans = a.ask("企业用地亩产效益综合评价")
    assert ans.citations[0].article == 18 and "语义检索出错" in ans.notices[0]


def test_index_deleted_while_serving_then_rebuilt_on_start(built_index, tmp_path, regulation):
    d, _, emb = built_index
    live = tmp_path / "index"
    shutil.copytree(d, live)
    idx = load(regulation, live, emb.name)
    a = Assistant(Settings(backend="extractive"), Retriever(idx, None), None)
    shutil.rmtree(live)  # deleted under the running app: it keeps serving from memory
    assert a.ask("链长制是什么").citations[0].article == 8
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "manifest.json").write_text("{}")  # a broken index found at the next start
    messages = []
    again = open_index(regulation, live, emb, log=messages.append)
    assert again.dense.ntotal == 49 and any("rebuilding" in m for m in messages)


def test_index_from_another_model_is_rebuilt(built_index, tmp_path, regulation, tiny_embed_dir):
    d, _, emb = built_index
    live = tmp_path / "index"
    shutil.copytree(d, live)
    import json

    m = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    m["embed_model"] = "another/model"
    (live / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    messages = []
    open_index(regulation, live, emb, log=messages.append)
    assert any("another/model" in x for x in messages)
    assert load(regulation, live, emb.name).embed_model == emb.name
