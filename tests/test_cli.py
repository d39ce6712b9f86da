"""The command line, run as a user runs it (a subprocess), with the tiny embedding model."""

import json
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS_FILE, ROOT, child_env


def run(*args, env=None, check=True):
    e = child_env() | {"HF_HUB_OFFLINE": "1"}
    p = subprocess.run([sys.executable, "-m", "chatbot", *args], cwd=ROOT, capture_output=True, text=True,
                       env=e | (env or {}), timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_chunks_json(kb):
    rows = [json.loads(line) for line in run("chunks", "--json").stdout.splitlines()]
    assert len(rows) == len(kb.clauses) > 49  # every law of the knowledge base, the primary's 49 first
    for r in rows:
        assert {"id", "regulation", "regulation_title", "article", "paragraph", "label", "text"} <= set(r)
        assert isinstance(r["article"], int) and isinstance(r["paragraph"], int)
    assert len({r["id"] for r in rows}) == len(rows)
    assert rows[0]["label"] == "题注" and rows[0]["article"] == 0
    assert rows[5]["label"] == "第四条第二款" and rows[5]["article"] == 4 and rows[5]["paragraph"] == 2
    assert rows[5]["regulation_title"] == "江西省先进制造业促进条例"
    sme = [r for r in rows if r["regulation"] == "sme-promotion-law-2017"]
    assert sme[1]["label"] == "中小企业促进法第一条" and sme[1]["regulation_title"] == "中华人民共和国中小企业促进法"


@pytest.fixture(scope="module")
def cli_env(tiny_embed_dir, tmp_path_factory):
    return {"CHATBOT_EMBED_MODEL": tiny_embed_dir, "CHATBOT_INDEX_DIR": str(tmp_path_factory.mktemp("i") / "index")}


def test_index_then_retrieve_json(cli_env):
    manifest = json.loads(run("index", env=cli_env).stdout)
    assert manifest["chunks"] > 49 and manifest["embed_model"] == cli_env["CHATBOT_EMBED_MODEL"]
    assert manifest["embed_dtype"] == "float32"  # as the tests set it, on any CPU
    out = json.loads(run("retrieve", "第十条讲了什么", "--k", "3", "--json", env=cli_env).stdout)
    assert out["question"] == "第十条讲了什么"
    assert [h["label"] for h in out["hits"][:2]] == ["第十条第一款", "第十条第二款"]
    for h in out["hits"]:
        assert isinstance(h["article"], int) and isinstance(h["paragraph"], int)
        assert isinstance(h["label"], str) and isinstance(h["score"], float)


def test_retrieve_questions_file(cli_env, tmp_path):
    qf = tmp_path / "q.jsonl"
    qf.write_text('{"question": "链长制"}\n\n{"question": "十八条"}\n', encoding="utf-8")
    lines = run("retrieve", "--questions", str(qf), "--k", "2", "--json", env=cli_env).stdout.splitlines()
    assert [json.loads(x)["question"] for x in lines] == ["链长制", "十八条"]
    assert json.loads(lines[1])["hits"][0]["article"] == 18


def test_offline_without_model_falls_back_to_bm25_and_says_so(tmp_path):
    env = {"CHATBOT_EMBED_MODEL": "BAAI/bge-small-zh-v1.5", "CHATBOT_INDEX_DIR": str(tmp_path / "index")}
    p = run("retrieve", "亩产效益", "--json", env=env)
    assert json.loads(p.stdout)["mode"] == "bm25"
    assert json.loads(p.stdout)["hits"][0]["article"] == 18
    assert p.stderr.count("BM25") >= 1 and "bge-small-zh" in p.stderr


def test_eval_retrieval_only_writes_reports(cli_env, tmp_path):
    gold = tmp_path / "g.jsonl"
    rows = [{"id": "1", "question": "链长制是什么", "articles": [8], "key_points": ["链长制"], "type": "a"},
            {"id": "2", "question": "第十条", "articles": [10], "key_points": [], "type": "b"},
            {"id": "3", "question": "个人所得税税率", "articles": [], "key_points": [], "type": "out_of_scope"}]
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "rep"
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(CORPUS_FILE, alone)
    p = run("eval", "--retrieval-only", "--gold", str(gold), "--out", str(out), "--against-corpus", str(alone),
            env=cli_env)
    side = (out / "against.md").read_text(encoding="utf-8")
    assert "| hybrid | hit@1 |" in side and str(out / "against") in side  # the primary alone (A) beside all laws (B)
    report = json.loads((out / "retrieval.json").read_text(encoding="utf-8"))
    assert report["in_scope"] == 2
    assert {"hybrid", "bm25", "naive: 250-char chunks, 50 overlap, dense"} <= set(report["variants"])
    assert report["variants"]["bm25"]["hit@1"] == 1.0
    assert "| hybrid |" in (out / "retrieval.md").read_text(encoding="utf-8") and "Hit@1" in p.stdout
    assert report["embed_dtype"] == "float32" and "(float32)" in (out / "retrieval.md").read_text(encoding="utf-8")


def test_the_embedding_dtype_setting_reaches_the_index(tiny_embed_dir, tmp_path):
    env = {"CHATBOT_EMBED_MODEL": tiny_embed_dir, "CHATBOT_INDEX_DIR": str(tmp_path / "index"),
           "CHATBOT_EMBED_DTYPE": "bfloat16"}
    manifest = json.loads(run("index", env=env).stdout)
    assert manifest["embed_dtype"] == "bfloat16"
    p = run("index", env=env | {"CHATBOT_EMBED_DTYPE": "half"}, check=False)
    assert p.returncode != 0 and "embed_dtype" in p.stderr and "bfloat16" in p.stderr


def test_broken_gold_file_stops_the_run(tmp_path):
    gold = tmp_path / "g.jsonl"
    gold.write_text('{"id": "1"}\n', encoding="utf-8")
    p = run("eval", "--retrieval-only", "--gold", str(gold), "--embed-model", "none", check=False)
    assert p.returncode == 2 and "line 1: missing key" in p.stderr


def test_unknown_environment_setting_is_an_error():
    p = run("chunks", env={"CHATBOT_EMBED_MDOEL": "x"}, check=False)
    assert p.returncode == 2 and "CHATBOT_EMBED_MDOEL" in p.stderr and "CHATBOT_EMBED_MODEL" in p.stderr


def test_ask_json_shape(tmp_path):
    env = {"CHATBOT_EMBED_MODEL": "none", "CHATBOT_INDEX_DIR": str(tmp_path / "index"),
           "CHATBOT_BACKEND": "extractive"}
    out = json.loads(run("ask", "企业用地亩产效益综合评价", "--json", env=env).stdout)
    assert set(out) >= {"answer", "citations", "refused", "backend", "timings"}
    assert out["backend"] == "extractive" and out["refused"] is False
    assert out["citations"][0] == {"article": 18, "paragraph": 1, "label": "第十八条",
                                   "regulation": "jiangxi-advanced-manufacturing-promotion-regulations-2024",
                                   "regulation_title": "江西省先进制造业促进条例",
                                   "text": out["citations"][0]["text"]}
    assert "【第十八条】" in out["answer"]


def test_ask_questions_file_and_bad_input(tmp_path):
    env = {"CHATBOT_EMBED_MODEL": "none", "CHATBOT_INDEX_DIR": str(tmp_path / "index"),
           "CHATBOT_BACKEND": "extractive"}
    qf = tmp_path / "q.jsonl"
    qf.write_text('{"question": "违反本条例要罚多少钱？"}\n{"question": "   "}\n{"question": "第十条"}\n',
                  encoding="utf-8")
    rows = [json.loads(x) for x in run("ask", "--questions", str(qf), "--json", env=env).stdout.splitlines()]
    assert rows[0]["refused"] is True and rows[0]["citations"] == []
    assert "请输入问题" in rows[1]["error"]
    assert rows[2]["citations"][0]["article"] == 10


def test_chat_follow_up_in_the_terminal(tmp_path):
    env = {"CHATBOT_EMBED_MODEL": "none", "CHATBOT_INDEX_DIR": str(tmp_path / "index"),
           "CHATBOT_BACKEND": "extractive"}
    e = child_env() | env
    p = subprocess.run([sys.executable, "-m", "chatbot", "chat"], cwd=ROOT, input="技术改造有什么支持方式\n第二款呢？\n\n",
                       capture_output=True, text=True, env=e, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "【第十条第一款】" in p.stdout and "【第十条第二款】" in p.stdout
