"""The knowledge base: several laws, one primary, versions, law-named labels, scoped retrieval, corpus add."""

import json
import shutil
from dataclasses import replace

import pytest

from chatbot.answer import KB_NOT_COVERED, Assistant
from chatbot.citations import check_citations
from chatbot.config import Settings
from chatbot.corpus import CorpusError
from chatbot.gold import GoldError, load_gold
from chatbot.kb import KnowledgeBaseError, add_regulation, load_kb, remove_regulation, slug
from chatbot.retrieve import Retriever
from conftest import CORPUS_DIR, ROOT, FakeLLM
from test_cli import run

PRIMARY = "jiangxi-advanced-manufacturing-promotion-regulations-2024"
SHIPPED = {PRIMARY, "sme-promotion-law-2017", "sme-payment-regulations-2025", "sme-payment-regulations-2020",
           "sci-tech-achievements-transformation-law-2015", "sci-tech-progress-law-2021",
           "standardization-law-2017", "product-quality-law-2018"}


def test_shipped_laws_primary_first_and_the_2020_payment_text_superseded(kb):
    assert {r.id for r in kb.regulations} == SHIPPED
    assert kb.primary.id == PRIMARY and kb.title == "江西省先进制造业促进条例"
    status = {r.id: r.status for r in kb.regulations}
    assert status["sme-payment-regulations-2020"] == "superseded" and status["sme-payment-regulations-2025"] == "current"
    assert [r.status for r in kb.regulations][-1] == "superseded"  # current ones first
    assert len({c.id for c in kb.clauses}) == len(kb.clauses)
    sme = kb.get("sme-promotion-law-2017")
    assert (sme.short, sme.issuer, sme.adopted, sme.version, sme.effective) == (
        "中小企业促进法", "全国人民代表大会常务委员会", "2002-06-29", "2017-09-01", "2018-01-01")
    assert sme.chapters[1] == "第二章 财税支持" and len(sme.chapters) == 10


def test_labels_name_their_law_except_the_primary(kb):
    assert kb.resolve("第十条第一款").label == "第十条第一款"
    assert kb.resolve("中小企业促进法第三十五条").label == "中小企业促进法第三十五条"
    assert kb.resolve("《中华人民共和国标准化法》第二条").regulation == "standardization-law-2017"
    assert kb.resolve("科技进步法第一条").regulation == "sci-tech-progress-law-2021"  # an abbreviation
    # the same short name: the current version, unless the label names the old one's year
    assert kb.resolve("款项支付条例第二条").regulation == "sme-payment-regulations-2025"
    old = kb.resolve("2020年版款项支付条例第二条")
    assert old.regulation == "sme-payment-regulations-2020" and old.label == "2020年版款项支付条例第二条"
    assert kb.resolve("公司法第十条") is None and kb.resolve("中小企业促进法第九十九条") is None


@pytest.mark.parametrize("question, ids", [
    ("中小企业促进法第十条讲什么", ["sme-promotion-law-2017"]),
    ("标准化法对企业标准有啥要求", ["standardization-law-2017"]),
    ("这个条例第十条讲什么", [PRIMARY]),
    ("修订前的款项支付条例怎么规定付款期限", ["sme-payment-regulations-2020"]),
    ("2020年版款项支付条例对大企业付款期限怎么规定", ["sme-payment-regulations-2020"]),
    ("按照2020年施行的那版款项支付条例，以审计结果结算违规吗", ["sme-payment-regulations-2020"]),
    ("2020年那版款项支付条例里，付款期限是怎么规定的", ["sme-payment-regulations-2020"]),
    ("20年那版款项支付条例里，付款期限是怎么规定的", ["sme-payment-regulations-2020"]),  # a year in two digits
    ("20年那版款项支付条例说可以。现在25年修订后的新条例还能吗", ["sme-payment-regulations-2025",
                                                        "sme-payment-regulations-2020"]),
    ("款项支付条例修订后有什么变化", ["sme-payment-regulations-2025", "sme-payment-regulations-2020"]),
    # a word between the name and 法 (的, 那个, 那部): still the name; 产品质量的法律责任 names no law
    ("国家那部科技成果转化的法对合作有没有要求", ["sci-tech-achievements-transformation-law-2015"]),
    ("产品质量那个法怎么说", ["product-quality-law-2018"]),
])
def test_a_question_naming_laws_is_kept_to_them(kb, question, ids):
    scope = kb.scope(question)
    assert sorted(scope.ids) == sorted(ids) and scope.named


def test_by_default_every_current_law_and_no_superseded_one(kb):
    scope = kb.scope("工厂做技术改造，政府能给什么支持？")
    assert set(scope.ids) == SHIPPED - {"sme-payment-regulations-2020"} and not scope.named
    assert kb.scope("技术改造", allowed=["standardization-law-2017"]).ids == ["standardization-law-2017"]
    assert not kb.scope("产品质量的法律责任有哪些").named  # 法律 is no 法 a name ends with


@pytest.fixture(scope="module")
def kb_retriever(kb_index):
    _, idx, _ = kb_index
    return Retriever(idx, None)  # BM25 only: deterministic


def test_the_primary_is_preferred_among_close_matches_only(kb_index, kb):
    """The primary regulation's bonus goes when another law's best clause is closer by meaning by more than
    `primary_gap`: here the query vector is 标准化法第二条第一款's own, the tiny model's cosines all lie near 1, and
    a gap of 0.003 stands for the shipped 0.15."""
    _, idx, emb = kb_index
    r = Retriever(idx, emb)
    other = kb.resolve("标准化法第二条第一款")
    v = idx.dense.reconstruct(next(j for j, c in enumerate(idx.clauses) if c.id == other.id))
    r.primary_gap = None
    assert r.search("先进制造业标准", k=3, query_vector=v).hits[0].clause.label == "第十五条第一款"
    r.primary_gap = 0.003
    hits = r.search("先进制造业标准", k=5, query_vector=v).hits
    score = {h.clause.label: h.score for h in hits}
    assert score["标准化法第二条第一款"] > score.get("第十五条第一款", 0.0)


def test_article_lookup_in_the_law_named_and_the_primary_by_default(kb_retriever):
    r = kb_retriever.search("中小企业促进法第十条讲什么", k=3)
    assert r.hits[0].lookup and r.hits[0].clause.regulation == "sme-promotion-law-2017" and r.hits[0].clause.article == 10
    r = kb_retriever.search("标准化法第10条说了啥", k=3)
    assert (r.hits[0].clause.regulation, r.hits[0].clause.article) == ("standardization-law-2017", 10)
    r = kb_retriever.search("第十条讲什么", k=3)
    assert (r.hits[0].clause.regulation, r.hits[0].clause.label) == (PRIMARY, "第十条第一款")
    # in a conversation about a law, a bare 第十条 is that law's
    r = kb_retriever.search("第十条讲什么", k=3, law="product-quality-law-2018")
    assert r.hits[0].clause.label.startswith("产品质量法第十条")
    r = kb_retriever.search("中小企业促进法第九十九条", k=3)
    assert r.missing_refs and r.missing_refs[0].regulation == "sme-promotion-law-2017"


def test_payment_questions_use_the_current_text_unless_the_old_one_is_asked_for(kb_retriever):
    r = kb_retriever.search("大型企业从中小企业采购货物，付款期限最长是多少天？", k=10)
    assert all(h.clause.regulation != "sme-payment-regulations-2020" for h in r.hits)
    assert r.hits[0].clause.regulation == "sme-payment-regulations-2025"
    r = kb_retriever.search("2020年版款项支付条例第八条", k=3)
    assert r.hits[0].clause.label.startswith("2020年版款项支付条例第八条")


def test_an_everyday_matter_a_retrieved_clause_of_another_law_names_is_not_refused_as_the_primarys(kb, kb_retriever):
    """农民工欠薪: the primary regulation's clause comes first, but the payment regulation's clause retrieved beside it
    names 工资 (the law's word for 欠薪), so the question is no 「本条例没有规定其他法律的事项」; without that clause
    it is."""
    from chatbot.retrieve import Hit, Retrieval

    q = "工地农民工欠薪的保证金，是哪一条规定的？"
    primary, pay = kb.resolve("第十二条第一款"), kb.resolve("款项支付条例第十三条")
    scope = kb.scope(q)
    both = Retrieval(q, [Hit(primary, 1.0), Hit(pay, 0.9)], scope=scope)
    assert "工资" in pay.text and make(kb_retriever)._refusal_reason(q, both) == ""
    alone = Retrieval(q, [Hit(primary, 1.0)], scope=scope)
    assert make(kb_retriever)._refusal_reason(q, alone) == "收录的法规都没有涉及「欠薪」"


def test_a_copied_clause_naming_an_article_of_its_own_law_is_kept(kb):
    """标准化法第四十条 copied with its 「依照本法第三十四条的规定」: 第三十四条 is the standardization law's (the
    primary has 26 articles), so the sentence is no mention of an article that does not exist."""
    clause = kb.resolve("标准化法第四十条第一款")
    c = check_citations(clause.text + "【标准化法第四十条第一款】", [clause], kb)
    assert [x.label for x in c.cited] == ["标准化法第四十条第一款"] and not c.dropped
    c = check_citations("依照本法第九十九条的规定改正。【标准化法第四十条第一款】", [clause], kb)
    assert not c.cited and c.dropped[0][0] == "names an article that does not exist"


def test_citations_resolve_per_law_and_reject_a_law_not_in_the_evidence(kb):
    sme = kb.resolve("中小企业促进法第三十五条")
    primary = kb.resolve("第十条第一款")
    text = ("国家鼓励中小企业研究开发拥有自主知识产权的技术和产品。【第三十五条】"
            "政府可以采取无偿补助方式支持技术改造。【第十条第一款】"
            "公司法也有规定。【公司法第十条】")
    c = check_citations(text, [sme, primary], kb)
    # 【第三十五条】 names no law; the primary has no given article 35, the given law does
    assert [x.label for x in c.cited] == ["中小企业促进法第三十五条", "第十条第一款"]
    assert "【中小企业促进法第三十五条】" in c.text and "【公司法" not in c.text and c.removed == ["《公司法》第十条"]


def test_a_sentence_naming_its_article_in_words_cites_it_when_given(kb):
    pay = kb.resolve("款项支付条例第十五条")
    sme = kb.resolve("中小企业促进法第三十五条")
    words = pay.text[:30]
    text = f"按照《保障中小企业款项支付条例》第十五条的规定，{words}。"
    c = check_citations(text, [pay, sme], kb)
    assert [x.id for x in c.cited] == [pay.id] and not c.removed
    # an article named but not given is words only: nothing cited, nothing reported as a removed label
    c = check_citations(text, [sme], kb)
    assert not any(s.clauses for s in c.sentences) and not c.removed
    # the law's title and the words that cite it are no support, and none is needed from them: a sentence
    # that is the clause's words around a long title is cited
    std = kb.resolve("标准化法第二十二条第二款")
    c = check_citations(f"同行用标准排挤别家产品，违反了《中华人民共和国标准化法》第二十二条第二款的规定，即{std.text}",
                        [std, sme], kb)
    assert [x.id for x in c.cited] == [std.id] and not c.removed
    # named, and the sentence is the clause's content in other words (support under MIN_SUPPORT, above
    # MENTION_SUPPORT, more than any other given clause's): cited, shown in the clause's own words
    # (given as the index holds them: copies read from chunks.jsonl, equal to the parsed clauses, not the same objects)
    c = check_citations("如果对方有质量争议，但其他部分已经履行完毕，那么可以按照《保障中小企业款项支付条例》第十五条的规定，"
                        "对于无争议部分及时付款义务。", [replace(pay), replace(sme)], kb)
    assert [x.id for x in c.cited] == [pay.id] and c.sentences[0].text == pay.text
    # named, given, but the sentence is not its content: not cited on the name alone
    c = check_citations("按照《保障中小企业款项支付条例》第十五条的规定，企业可以申请土地优惠和人才公寓。", [pay, sme], kb)
    assert not any(s.clauses for s in c.sentences)


def make(kb_retriever, llm=None):
    return Assistant(Settings(backend="extractive"), kb_retriever, llm, min_relevance=0.0)


def test_an_answer_can_combine_two_laws_and_names_each(kb_retriever):
    reply = ("国家鼓励中小企业研究开发拥有自主知识产权的技术和产品。【中小企业促进法第三十五条】"
             "江西可以采取无偿补助等方式支持技术改造。【第十条第一款】")
    ans = make(kb_retriever, FakeLLM(reply)).ask("中小企业促进法和本条例对知识产权和技术改造有什么规定？")
    assert not ans.refused
    assert {c.regulation for c in ans.citations} == {"sme-promotion-law-2017", PRIMARY}
    assert "【中小企业促进法第三十五条】" in ans.text and "【第十条第一款】" in ans.text
    out = ans.to_json()
    assert {c["regulation_title"] for c in out["citations"]} == {"中华人民共和国中小企业促进法", "江西省先进制造业促进条例"}
    assert all("regulation" in h for h in out["hits"])


def test_the_primary_regulations_gaps_do_not_refuse_a_question_another_law_answers(kb_retriever):
    assistant = make(kb_retriever)
    # 罚款 is a gap of the primary regulation (it sets no penalties), not of the product quality law
    ans = assistant.ask("违反产品质量法生产假冒伪劣产品，要被罚款吗？")
    assert not ans.refused and ans.citations[0].regulation == "product-quality-law-2018"
    ans = assistant.ask("违反本条例要罚多少钱？")
    assert ans.refused and ans.text.startswith(KB_NOT_COVERED) and "本知识库收录" in ans.text
    assert "《中华人民共和国标准化法》" in ans.text
    # a topic no law in the knowledge base mentions is refused whichever law's clause retrieval found nearest
    ans = assistant.ask("劳动合同约定的试用期最长能有多久？")
    assert ans.refused and "收录的法规都没有涉及「劳动合同」" in ans.text
    # a figure asked for that no clause of the evidence writes (how long, how much): not set by these laws
    ans = assistant.ask("江西省食品安全条例对小作坊有什么规定？")
    assert ans.refused and "本知识库没有收录《江西省食品安全条例》" in ans.text
    ans = assistant.ask("员工周末加班，加班费按劳动法应该怎么算")  # a law no text of the knowledge base is
    assert ans.refused and "本知识库没有收录《劳动法》" in ans.text
    ans = assistant.ask("公司破产清算时，拖欠的职工工资怎么清偿？")
    assert ans.refused and "收录的法规都没有涉及「破产」" in ans.text
    ans = assistant.ask("标准化法规定企业标准备案要交多少钱？")
    assert ans.refused and "收录的法规没有规定具体金额" in ans.text
    ans = assistant.ask("大型企业从中小企业采购货物，合同没约定的话多少天内得付款？")  # 60日: written there
    assert not ans.refused and ans.citations[0].regulation == "sme-payment-regulations-2025"


def test_gold_items_name_their_law_and_are_validated_against_the_knowledge_base(kb, tmp_path):
    items = load_gold(ROOT / "eval" / "gold_related.jsonl", kb)
    assert len(items) >= 90 and {g.regulation for g in items if g.in_scope} >= SHIPPED - {PRIMARY}
    two = next(g for g in items if g.type == "two_law")
    assert PRIMARY in {r for r, _ in two.gold(PRIMARY)} and len(two.gold(PRIMARY)) >= 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "question": "q", "regulation": "no-such-law", "articles": [1],
                               "key_points": [], "type": "x"}) + "\n"
                   + json.dumps({"id": "2", "question": "q", "regulation": "standardization-law-2017",
                                 "articles": [99], "key_points": [], "type": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as e:
        load_gold(bad, kb)
    assert "unknown regulation 'no-such-law'" in str(e.value) and "article 99 is not in standardization-law-2017" in str(e.value)


def test_every_question_set_in_eval_is_valid_against_the_knowledge_base(kb):
    """gold, held-out, related and the sets written from the texts alone (fresh*): each line valid, its laws and
    articles in the knowledge base, ids unique."""
    names = sorted(p.name for p in (ROOT / "eval").glob("*.jsonl"))
    assert {"gold.jsonl", "heldout.jsonl", "gold_related.jsonl", "fresh3.jsonl", "fresh_related.jsonl"} <= set(names)
    for name in names:
        items = load_gold(ROOT / "eval" / name, kb)
        assert len({i.id for i in items}) == len(items), name


# --- adding and removing ---------------------------------------------------------------------------

LAW = ("中华人民共和国示例促进法\n\n2010年1月1日 第十一届全国人民代表大会常务委员会第十次会议通过\n\n"
       "第一章 总则\n\n第一条 为了示例，制定本法。\n\n第二条 国家支持示例产业发展。\n\n"
       "第三条 本法自2010年3月1日起施行。\n")


@pytest.fixture
def corpus_dir(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    shutil.copy(CORPUS_DIR / f"{PRIMARY}.md", d)
    return d


def snapshot(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_add_a_law_then_a_later_version_supersedes_it_and_remove(corpus_dir, tmp_path):
    src = tmp_path / "example-law-2010.md"
    src.write_text(LAW, encoding="utf-8")
    added = add_regulation(corpus_dir, src, short="示例促进法")
    assert added.to_json()["articles"] == 3 and added.regulation.label_law == "示例促进法"
    kb = load_kb(corpus_dir)
    assert kb.primary.id == slug(f"{PRIMARY}.md") and kb.get("example-law-2010").status == "current"
    newer = tmp_path / "example-law-2020.md"
    newer.write_text(LAW.replace("2010年1月1日", "2020年1月1日").replace("第十次会议通过", "第十次会议修订"),
                     encoding="utf-8")
    added = add_regulation(corpus_dir, newer, short="示例促进法")
    assert added.superseded == ["example-law-2010"]
    kb = load_kb(corpus_dir)
    assert kb.get("example-law-2010").status == "superseded" and kb.get("example-law-2020").status == "current"
    assert kb.resolve("示例促进法第二条").regulation == "example-law-2020"
    assert (corpus_dir / "example-law-2010.md").is_file()  # the earlier file stays, browsable
    remove_regulation(corpus_dir, "example-law-2010")
    assert not (corpus_dir / "example-law-2010.md").exists() and load_kb(corpus_dir).get("example-law-2010") is None


def test_a_law_added_later_reads_alike_from_a_pdf_text_copy_and_a_docx(corpus_dir):
    """eval/added-law: a law the shipped knowledge base does not hold, as a PDF's text copied out (hard line
    breaks, page numbers, the title as a running header, Kangxi radicals) and as a .docx (目录, full-width
    spaces, article numbers in runs of their own). Both give the same 36 articles; added, the law takes its
    question set (eval/added-law/esign.jsonl)."""
    from chatbot import corpus
    from chatbot.formats import read_document

    added_law = ROOT / "eval" / "added-law"
    parsed = [corpus.parse(read_document(added_law / f"电子签名法.{ext}"), primary=False) for ext in ("txt", "docx")]
    assert [(c.label, c.text) for c in parsed[0].clauses] == [(c.label, c.text) for c in parsed[1].clauses]
    assert len(parsed[0].articles) == 36 and "⼀" not in parsed[0].article(1).clauses[0].text
    added = add_regulation(corpus_dir, added_law / "电子签名法.txt").to_json()
    assert added["articles"] == 36 and added["warnings"] == [] and added["version"] == "2019-04-23"
    items = load_gold(added_law / "esign.jsonl", load_kb(corpus_dir))
    assert len(items) == 36 and {i.regulation for i in items if i.in_scope} == {added["id"]}


def test_a_rule_comes_with_its_exception_and_a_thing_it_excludes_is_answered_no(corpus_dir, tmp_path):
    """离婚协议能用电子签名签吗: retrieval finds 第三条第二款 (electronic signatures may not be denied effect); the
    paragraph after it, 前款规定不适用下列文书：（一）涉及婚姻…, joins the evidence, and since it names what is
    asked (离婚: the law's word is 婚姻), the answer cites it and a model's 「能。」 becomes 「不能。」."""
    from chatbot.index import build

    add_regulation(corpus_dir, ROOT / "eval" / "added-law" / "电子签名法.txt", rebuild=None)
    kb = load_kb(corpus_dir)
    idx = build(kb, tmp_path / "index", None, log=lambda m: None)
    rule, exception = kb.resolve("电子签名法第三条第二款"), kb.resolve("电子签名法第三条第三款")
    llm = FakeLLM(f"能。{rule.text}【电子签名法第三条第二款】")
    bot = Assistant(Settings(backend="extractive"), Retriever(idx, None), llm, min_relevance=0.0)
    q = "离婚协议能不能用电子签名、数据电文的形式签？"
    r = bot.retriever.search(q, k=3)
    assert r.hits[0].clause == rule and exception not in [h.clause for h in r.hits] and exception in bot._context(r)
    ans = bot.ask(q, top_k=3)
    assert ans.text.startswith("不能。") and exception in ans.citations
    # a question naming nothing the exception leaves out is answered from the rule alone
    ans = bot.ask("买卖合同能不能用电子签名、数据电文的形式签？", top_k=3)
    assert ans.text.startswith("能。") and exception not in ans.citations


def test_a_failed_add_changes_nothing(corpus_dir, tmp_path):
    before = snapshot(corpus_dir)
    notlaw = tmp_path / "notes.md"
    notlaw.write_text("# 会议纪要\n\n今天讨论了很多事情。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no articles"):
        add_regulation(corpus_dir, notlaw)
    assert snapshot(corpus_dir) == before
    src = tmp_path / "example-law-2010.md"
    src.write_text(LAW, encoding="utf-8")

    def broken_rebuild(kb):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        add_regulation(corpus_dir, src, rebuild=broken_rebuild)
    assert snapshot(corpus_dir) == before
    with pytest.raises(KnowledgeBaseError, match="primary"):
        add_regulation(corpus_dir, src)
        remove_regulation(corpus_dir, PRIMARY)


def test_corpus_add_list_remove_from_the_command_line(corpus_dir, tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("中华人民共和国示例促进法")
    doc.add_paragraph("2010年1月1日 第十一届全国人民代表大会常务委员会第十次会议通过")
    p = doc.add_paragraph()
    p.add_run("第一条")  # the article number in a run of its own, as Word often stores it
    p.add_run("\u3000为了示例，制定本法。")
    doc.add_paragraph("第二条 国家支持示例产业发展。")
    doc.add_paragraph("第四条 本法自2010年3月1日起施行。")
    path = tmp_path / "示例促进法.docx"
    doc.save(path)
    env = {"CHATBOT_CORPUS_DIR": str(corpus_dir), "CHATBOT_EMBED_MODEL": "none",
           "CHATBOT_INDEX_DIR": str(tmp_path / "index")}
    out = json.loads(run("corpus", "add", str(path), "--short", "示例促进法", "--json", env=env).stdout)
    assert (out["id"], out["title"], out["articles"]) == ("示例促进法", "中华人民共和国示例促进法", 3)
    assert out["warnings"] == ["articles missing before 第四条: 第三条"]
    assert (corpus_dir / "示例促进法.docx").is_file() and (tmp_path / "index" / "manifest.json").is_file()
    rows = [json.loads(x) for x in run("corpus", "list", "--json", env=env).stdout.splitlines()]
    assert [r["id"] for r in rows] == [PRIMARY, "示例促进法"]
    assert {"id", "title", "short", "version", "status", "articles"} <= set(rows[1])
    got = json.loads(run("retrieve", "示例促进法第二条", "--json", env=env).stdout)
    assert got["hits"][0]["label"] == "示例促进法第二条" and got["hits"][0]["regulation"] == "示例促进法"
    p = run("corpus", "add", str(tmp_path / "missing.pdf"), env=env, check=False)
    assert p.returncode == 2 and "no file" in p.stderr
    run("corpus", "remove", "示例促进法", env=env)
    assert [json.loads(x)["id"] for x in run("corpus", "list", "--json", env=env).stdout.splitlines()] == [PRIMARY]


def test_a_question_about_what_changed_gets_both_versions(kb_retriever):
    r = kb_retriever.search("款项支付条例修订后，大型企业的付款期限有什么变化？", k=5)
    assert {h.clause.regulation for h in r.hits} >= {"sme-payment-regulations-2025", "sme-payment-regulations-2020"}
    assert any(h.clause.label.startswith("2020年版款项支付条例") for h in r.hits)


def test_answers_about_payment_cite_the_2025_text(kb_retriever):
    assistant = make(kb_retriever)
    for question in ("大型企业从中小企业采购货物，最迟多少天内要付款？", "款项支付条例对保证金有什么规定？",
                     "机关事业单位拖欠中小企业款项，中小企业可以向哪里投诉？"):
        ans = assistant.ask(question)
        laws = {c.regulation for c in ans.citations}
        assert "sme-payment-regulations-2025" in laws and "sme-payment-regulations-2020" not in laws, question
        assert "2020年版" not in ans.text


@pytest.mark.parametrize("question,ids", [
    ("2020版和2025版比，大型企业付款期限的规定有什么变化？", {"sme-payment-regulations-2025", "sme-payment-regulations-2020"}),
    # an old text named, and whether the current one still says so: both
    ("2020年那版条例里拿审计结果当结算依据可以吗？现在新版还这样吗？",
     {"sme-payment-regulations-2025", "sme-payment-regulations-2020"}),
    ("2020版款项支付条例对付款期限怎么规定？", {"sme-payment-regulations-2020"}),
    ("2020年那版款项支付条例只说合理约定付款期限。2025年修订以后，有没有规定具体的付款天数？",
     {"sme-payment-regulations-2025", "sme-payment-regulations-2020"}),
])
def test_versions_named_by_year_alone(kb, question, ids):
    scope = kb.scope(question)
    assert scope.versions and set(scope.ids) == ids


@pytest.mark.parametrize("question", ["国家标准和行业标准有什么区别？", "以前的货款拖了半年不给怎么办？",
                                      "之前签的合同约定了付款期限，有变化吗？", "版权和专利有什么区别？"])
def test_everyday_words_are_not_a_question_about_versions(kb, question):
    scope = kb.scope(question)
    assert not scope.versions and "sme-payment-regulations-2020" not in scope.ids


def test_a_law_without_dates_is_added_with_a_warning(corpus_dir, tmp_path):
    src = tmp_path / "undated.txt"
    src.write_text("示例管理办法\n第一条 为了示例，制定本办法。\n第二条 本办法由市政府负责解释。\n", encoding="utf-8")
    added = add_regulation(corpus_dir, src)
    assert added.regulation.title == "示例管理办法" and added.regulation.status == "current"
    assert any("--version" in w for w in added.to_json()["warnings"])


def test_name_index_finds_what_a_scan_of_every_law_finds(kb):
    """`mention_spans` tries only the candidates of `NameIndex`; with 2,000 more (made-up) laws the
    answers are those of trying every regulation, and a name still picks its own law."""
    import random
    import re
    from dataclasses import replace

    from chatbot.kb import THIS_REGULATION, KnowledgeBase, NameIndex, _named_length

    def scan(base, question):
        out = []
        for m in re.finditer(r"法|条例|规定|办法", question):
            window = question[max(0, m.start() - 16):m.end()]
            scored = [(_named_length(window, r), r.id) for r in base.regulations]
            best = max((n for (n, _), _ in scored), default=0)
            if best:
                size = next(s for (n, s), _ in scored if n == best)
                out.append((m.end() - size, m.end(), [i for (n, _), i in scored if n == best]))
            elif t := THIS_REGULATION.search(window[-6:]):
                out.append((m.end() - len(t.group(0)), m.end(), [base.primary.id]))
        return out

    rng = random.Random(7)
    chars = sorted(set("".join(r.title for r in kb.regulations)))
    fake = [replace(kb.regulations[1], id=f"made-up-{i}", short="",
                    title="".join(rng.choice(chars) for _ in range(rng.randint(4, 12))) + rng.choice(NameIndex.ENDINGS))
            for i in range(2000)]
    big = KnowledgeBase(kb.regulations + fake)
    questions = ["科技进步法怎么规定科研人员的待遇？", "根据本条例第十条，技术改造有什么支持？", "依照公司法和标准化法",
                 "2020年版款项支付条例第八条", "产品质量法第四十九条规定的罚款是多少", "违反本法规定怎么办",
                 "中华人民共和国中小企业促进法第十条", "这个条例和促进科技成果转化法有什么关系"]
    for q in questions:
        assert [(a, b, [r.id for r in regs]) for a, b, regs in big.mention_spans(q)] == scan(big, q), q
    assert [r.id for r in big.mentioned("中小企业促进法第十条讲什么")] == ["sme-promotion-law-2017"]
    # candidates: titles ending in 法 that hold both 促 and 进; not the 标准化法 or the 产品质量法
    ids = [r.id for r in NameIndex(kb.regulations).candidates("依据中小企业促进法")]
    assert ids == ["sme-promotion-law-2017", "sci-tech-achievements-transformation-law-2015"]


def test_a_law_name_is_its_own_characters_only(kb):
    """An abbreviated name is the longest tail whose characters are the title's, in order: it never takes
    the words before it, nor crosses punctuation (碳中和，国家 stayed in the question it was cut from)."""
    q = "推动碳达峰碳中和，国家科技进步法和江西先进制造业条例各怎么说？"
    assert kb.without_names(q) == "推动碳达峰碳中和，国家和江西先进制造业条例各怎么说？"
    assert kb.without_names("依据中小企业促进法第十条") == "依据第十条"
    assert kb.without_names("中华人民共和国标准化法第十条") == "第十条"
    assert [r.id for r in kb.mentioned(q)] == ["sci-tech-progress-law-2021", PRIMARY]


def test_bm25_by_law_rescales_each_term_by_the_laws_own_idf(kb_index):
    """`bm25_scores_by_law`: the whole-index scores equal bm25s', and each clause's own-law score is the
    whole score with idf(term) replaced by the term's idf within the clause's law. Checked for one term
    from document frequencies counted here by tokenizing the clause texts (not from the index's matrix)."""
    import math

    import numpy as np

    _, idx, _ = kb_index
    term = "款项"  # in most clauses of the payment regulations, rare elsewhere
    whole, own = idx.bm25_scores_by_law(term, expand=False)
    assert np.allclose(whole, idx.bm25_scores(term, expand=False), atol=1e-5)
    has = np.array([term in idx.tokenizer(c.search_text) for c in idx.clauses])
    laws = np.array([c.regulation for c in idx.clauses])
    n, df = len(has), int(has.sum())
    checked = set()
    for i in np.flatnonzero(has):
        law = laws[i]
        size, df_law = int((laws == law).sum()), int((has & (laws == law)).sum())
        ratio = math.log1p((size - df_law + 0.5) / (df_law + 0.5)) / math.log1p((n - df + 0.5) / (df + 0.5))
        assert own[i] == pytest.approx(whole[i] * ratio, rel=1e-4)
        checked.add(law)
    assert "sme-payment-regulations-2025" in checked and len(checked) >= 2
    # within the payment regulation 款项 says little: its own-law scores are far below the whole-index ones
    pay = np.flatnonzero(has & (laws == "sme-payment-regulations-2025"))
    assert (own[pay] < 0.5 * whole[pay]).all()


def test_per_law_fusion_orders_each_law_as_if_alone():
    """Within each law the fused scores are proportional to fusing that law's scores alone (normalized
    within it, its own-law BM25), and each law's best clause keeps its score from fusing all laws."""
    import numpy as np

    from chatbot.retrieve import linear_fusion, per_law_fusion

    rng = np.random.default_rng(3)
    codes = np.repeat([0, 1, 2], [7, 5, 9])
    d, b = rng.uniform(0.1, 0.7, 21), rng.uniform(0, 9, 21) * (rng.uniform(size=21) > 0.3)
    own = b * rng.uniform(0.2, 1.0, 21)
    out = per_law_fusion(d, b, 0.6, codes, own)
    whole = linear_fusion(d, b, 0.6)
    for law in range(3):
        m = codes == law
        alone = linear_fusion(d[m], own[m], 0.6)
        assert np.allclose(out[m] / out[m].max(), alone / alone.max())
        assert out[m].max() == pytest.approx(whole[m].max())


def test_rare_terms_order_each_law_as_if_alone_and_compare_laws_over_all():
    """A word rare in law 0 (one clause) but used by law 1 too: inside law 0 it lifts its clause as law 0
    alone would (`rare_own`), and law 0's best score is still its score over all laws, where the word is
    not rare (`rare` is 0), so the word does not lift law 0 against law 1."""
    import numpy as np

    from chatbot.retrieve import linear_fusion, per_law_fusion

    codes = np.array([0, 0, 0, 1, 1])
    d = np.array([0.60, 0.58, 0.20, 0.55, 0.30])
    b = np.array([2.0, 1.0, 0.0, 3.0, 0.0])
    rare_own = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
    out = per_law_fusion(d, b, 0.8, codes, rare=np.zeros(5), rare_own=rare_own, rare_weight=0.2)
    plain = per_law_fusion(d, b, 0.8, codes)
    m = codes == 0
    alone = linear_fusion(d[m], b[m], 0.8)
    alone = alone + 0.2 * alone.max() * rare_own[m]
    assert np.allclose(out[m] / out[m].max(), alone / alone.max())
    assert np.argmax(out[m]) == 1 and np.argmax(plain[m]) == 0  # the word decides inside law 0
    assert out[m].max() == pytest.approx(plain[m].max()) and np.allclose(out[~m], plain[~m])
    # a word rare over all laws lifts its law's best against the others, as the lift does for one law
    lifted = per_law_fusion(d, b, 0.8, codes, rare=rare_own, rare_own=rare_own, rare_weight=0.2)
    whole = linear_fusion(d, b, 0.8)
    assert lifted[m].max() == pytest.approx(max((whole + 0.2 * whole.max() * rare_own)[m]))


def test_laws_are_compared_with_one_weight_for_all():
    """Law 0 weighs dense 0.7 and law 1 0.9 inside themselves; compared through one weight (0.8), a law
    whose best clause BM25 does not match is not capped at its own dense weight against the other's."""
    import numpy as np

    from chatbot.retrieve import linear_fusion, per_law_fusion

    codes = np.array([0, 0, 1, 1])
    d = np.array([0.45, 0.10, 0.45, 0.30])  # the two laws' best clauses are equally close to the question
    b = np.array([0.0, 0.0, 0.0, 1.0])      # only a weak word match, in law 1's second clause
    w = np.where(codes == 0, 0.7, 0.9)
    own_weights = per_law_fusion(d, b, w, codes)
    assert own_weights[:2].max() == pytest.approx(0.7) and own_weights[2:].max() == pytest.approx(0.9)
    even = per_law_fusion(d, b, w, codes, across=0.8)
    assert even[:2].max() == pytest.approx(0.8) and even[2:].max() == pytest.approx(0.8)
    for law in (0, 1):  # inside each law the order stays what its own weight gives
        m = codes == law
        alone = linear_fusion(d[m], b[m], w[m])
        assert np.allclose(even[m] / even[m].max(), alone / alone.max())


@pytest.mark.parametrize("law, question, refs", [
    (PRIMARY, "外省企业在江西投资建厂，也适用这个条例吗？", [2]),
    (PRIMARY, "我在浙江开厂，这个江西的条例对我有约束吗", [2]),
    (PRIMARY, "我们公司注册在浙江，这个条例跟我们有关系吗？", [2]),
    (PRIMARY, "小微企业适用哪些税收优惠？", []),
    (PRIMARY, "这个条例只管江西境内的事吗？", [2]),
    (PRIMARY, "外省的工厂也归这条例管吗？", [2]),
    (PRIMARY, "江西那个条例对我们赣州这个基地的项目适不适用？", [2]),
    (PRIMARY, "工信局都管哪些事？", []),  # what a department does, not whom the law applies to
    (PRIMARY, "厂里用电用水用气太贵了，条例管不管？", []),  # whether it deals with a matter, not whom it binds
    ("product-quality-law-2018", "产品质量法适用于哪些产品？", [2]),
    ("sme-payment-regulations-2025", "款项支付条例适用于哪些付款主体？", [2]),
    ("sme-promotion-law-2017", "中小企业促进法适用于哪些企业？", []),  # no article says whom it applies to
])
def test_a_question_whom_a_law_applies_to_looks_up_the_article_saying_so(kb, law, question, refs):
    from chatbot.retrieve import date_refs

    assert date_refs(question, kb.get(law)) == refs


def test_a_law_placing_itself_in_the_country_answers_whom_it_applies_to():
    """No 本法适用于 and no 遵守本法: the article saying 在中华人民共和国领域内，从事……的单位……依照本法规定 is the one;
    「管的是哪些人 是不是只管工厂」 asks it."""
    from chatbot import corpus
    from chatbot.retrieve import date_refs

    law = corpus.parse("中华人民共和国示例生产促进法\n\n第一条 为了促进示例生产，制定本法。\n\n"
                       "第二条 本法所称示例生产，是指不断采取改进设计的措施。\n\n"
                       "第三条 在中华人民共和国领域内，从事生产和服务活动的单位依照本法规定，组织、实施示例生产。\n\n"
                       "第四条 国家鼓励示例生产。\n", primary=False)
    assert date_refs("示例生产法管的是哪些人 是不是只管工厂 我们开酒店的跟这个没关系吧", law) == [3]
    assert date_refs("示例生产有哪些鼓励措施", law) == []


def test_a_question_about_liability_prefers_the_liability_chapter(kb_index, monkeypatch):
    import chatbot.retrieve as retrieve

    _, idx, _ = kb_index
    flagged = {(c.regulation, c.article) for c, f in zip(idx.clauses, idx.liability_mask) if f}
    assert ("product-quality-law-2018", 49) in flagged and ("sme-payment-regulations-2025", 31) in flagged
    assert not any(law == PRIMARY for law, _ in flagged)  # the primary regulation has no such chapter
    question = "款项支付条例里，机关拖着不付中小企业的钱，负责人要担什么责任？"
    with_bonus = {h.clause.id: h.score for h in Retriever(idx, None).search(question, k=40).hits}
    monkeypatch.setattr(retrieve, "LIABILITY_BONUS", 0.0)
    without = {h.clause.id: h.score for h in Retriever(idx, None).search(question, k=40).hits}
    liable = {c.id for c, f in zip(idx.clauses, idx.liability_mask) if f}
    both = set(with_bonus) & set(without)
    assert any(i in liable for i in both)
    for i in both:
        assert with_bonus[i] == pytest.approx(without[i] * (1.1 if i in liable else 1.0), rel=1e-6)


def test_a_question_in_traditional_characters_is_read_in_simplified(kb_retriever):
    from chatbot.tokens import simplified

    assert simplified("這個條例什麼時候開始施行？") == "这个条例什么时候开始施行？"
    assert simplified("工厂做技术改造") == "工厂做技术改造"
    t = kb_retriever.search("這個先進製造業條例什麼時候開始施行？", k=3)
    s = kb_retriever.search("这个先进制造业条例什么时候开始施行？", k=3)
    assert [h.clause.id for h in t.hits] == [h.clause.id for h in s.hits] and t.hits[0].clause.article == 26


def test_an_answer_to_a_figure_question_resting_on_no_figure_is_a_refusal(kb_retriever):
    """加计扣除比例是多少: the evidence may hold figures of other clauses, but the answer's own clause writes no
    ratio, so the answer says the laws do not set it and points to the clause, instead of a non-answer."""
    q = "中小企业促进法规定的研发费用加计扣除比例是多少？"
    reply = "国家完善中小企业研究开发费用加计扣除政策，支持中小企业技术创新。【中小企业促进法第三十二条第三款】"
    r = kb_retriever.search(q, k=5)
    assert any(h.clause.label == "中小企业促进法第三十二条第三款" for h in r.hits)
    ans = make(kb_retriever, FakeLLM(reply)).ask(q)
    assert ans.refused and "收录的法规没有规定具体金额" in ans.text and "中小企业促进法第三十二条第三款" in ans.text
    q = "大型企业从中小企业采购货物，合同没约定的话最长多少天内得付款？"
    reply = "大型企业应当自货物交付之日起60日内支付款项。【款项支付条例第九条第二款】"
    ans = make(kb_retriever, FakeLLM(reply)).ask(q)
    assert not ans.refused and "60日" in ans.text


def test_a_rate_or_sum_stated_that_no_clause_writes_is_refused(kb_retriever):
    """是不是按15%交: the laws grant tax relief but write no rate, so the model is not asked; a percentage the
    evidence does write (中小企业促进法: 预留…百分之三十以上) lets the question through."""
    from chatbot.scope import stated_figure

    assert stated_figure("补贴是不是3万元")[0] == "这一金额" and stated_figure("是不是6月1日施行") is None
    llm = FakeLLM("是。国家对科技型中小企业给予税收优惠。【科学技术进步法第四十三条】")
    ans = make(kb_retriever, llm).ask("高新技术企业的企业所得税是不是按15%交")
    assert ans.refused and "收录的法规没有规定这一比例或税率" in ans.text and llm.prompts == []
    reply = "是。预留给中小企业的比例应当占预算总额的百分之三十以上。【中小企业促进法第四十条第二款】"
    ans = make(kb_retriever, FakeLLM(reply)).ask("政府采购预留给中小企业的份额是不是要占百分之三十以上？")
    assert not ans.refused


def test_a_rare_term_is_rare_within_its_own_law(kb_index):
    """仪器 is in one clause of the primary regulation and in five of the science and technology progress
    law: counted within each law it is rare in the primary's clause, as with that regulation indexed
    alone, and in none of the law that uses it often."""
    import numpy as np

    _, idx, _ = kb_index
    scores = idx.rare_term_scores("仪器", by_law=True)
    lifted = [idx.clauses[i] for i in np.flatnonzero(scores)]
    assert [(c.regulation, c.label) for c in lifted] == [
        ("jiangxi-advanced-manufacturing-promotion-regulations-2024", "第九条第三款")]
    assert scores[np.flatnonzero(scores)].tolist() == [1.0]
    assert not idx.rare_term_scores("仪器").any()  # over all clauses it is no rare word
    used = [c for c in idx.clauses if "仪器" in c.search_text]
    assert len(used) == 6 and sum(c.regulation == "sci-tech-progress-law-2021" for c in used) == 5


def test_hybrid_search_ranks_the_primary_by_its_own_rare_words(kb_index, monkeypatch):
    """The rare-term lift handed to the per-law fusion: inside the primary regulation the words rare in it
    (仪器 in 第九条第三款), inside the other laws those rare over all clauses (仪器 is in five of the science
    law's clauses: no lift there); between laws, those rare over all clauses."""
    import numpy as np

    import chatbot.retrieve as retrieve

    _, idx, embedder = kb_index
    seen = {}

    def spy(*args, **kwargs):
        seen["rare"], seen["rare_own"] = args[6], args[7]
        return real(*args, **kwargs)

    real = retrieve.per_law_fusion
    monkeypatch.setattr(retrieve, "per_law_fusion", spy)
    Retriever(idx, embedder).search("大型科研仪器可以共享吗", k=3)
    q = "大型科研仪器可以共享吗"
    searched = idx.law_mask(idx.regulation.scope(q).ids)  # the current laws (not the 2020 payment text)
    mine = idx.law_mask([PRIMARY])[searched]
    whole, own = idx.rare_term_scores(q)[searched], idx.rare_term_scores(q, by_law=True)[searched]
    assert np.array_equal(seen["rare"], whole)
    assert np.array_equal(seen["rare_own"][mine], own[mine]) and np.array_equal(seen["rare_own"][~mine], whole[~mine])
    clauses = [c for c, keep in zip(idx.clauses, searched) if keep]
    lifted = [clauses[i].label for i in np.flatnonzero(seen["rare_own"] > 0)]
    assert "第九条第三款" in lifted and not any(lbl.startswith("科学技术进步法") for lbl in lifted)


def test_another_laws_clause_is_evidence_only_with_words_of_the_question(kb_retriever):
    """The best hit is the primary's 第二十四条; 产品质量法第六十九条 scores close by meaning alone (no BM25 match) and
    stays out of the evidence, 产品质量法第五十七条第一款 with BM25 rank 2 goes in. Asked about the state and the
    province (国家和省里), every close clause goes in."""
    from chatbot.retrieve import Hit, Retrieval

    kb = kb_retriever.index.regulation
    a24 = kb.resolve("第二十四条")
    a24 = a24 if hasattr(a24, "text") else a24.clauses[0]
    p69, p57 = kb.resolve("产品质量法第六十九条"), kb.resolve("产品质量法第五十七条第一款")
    p69 = p69 if hasattr(p69, "text") else p69.clauses[0]
    hits = [Hit(a24, 0.95, dense_rank=2), Hit(p69, 0.93, dense_rank=1), Hit(p57, 0.92, dense_rank=3, bm25_rank=2)]
    scope = kb.scope("改革试点没搞成，会不会挨处分？")
    assistant = make(kb_retriever)
    r = Retrieval("改革试点没搞成，会不会挨处分？", hits, scope=scope)
    assert assistant._context(r) == [a24, p57]
    r = Retrieval("改革试点没搞成，国家和省里分别怎么规定？", hits, scope=scope)
    assert assistant._context(r) == [a24, p69, p57]
    # a clause far from the question by meaning and not among BM25's first three is no evidence, whatever its
    # law: 「有啥前提条件」 brings 第二十二条第二款's 符合条件的 at dense rank 145
    a22 = next(c for c in kb.primary.clauses if c.article == 22 and c.paragraph == 2)
    far = [hits[0], Hit(a22, 0.94, dense_rank=145, bm25_rank=10), Hit(a22, 0.93, dense_rank=145, bm25_rank=2)]
    assert assistant._context(Retrieval("没搞成会不会挨处分？有啥前提条件", far[:2], scope=scope)) == [a24]
    assert assistant._context(Retrieval("没搞成会不会挨处分？有啥前提条件", far[::2], scope=scope)) == [a24, a22]


def test_an_everyday_matter_no_law_names_is_refused_in_its_own_word(kb_retriever):
    """醉驾被查会怎么处罚: the product quality law sets penalties, but no law of the knowledge base names
    醉驾; the model is not asked (it answered 「不会。」 from 产品质量法's 阻碍执法)."""
    llm = FakeLLM("不会。拒绝、阻碍未使用暴力、威胁方法的，由公安机关依照治安管理处罚法的规定处罚。【产品质量法第六十九条】")
    ans = make(kb_retriever, llm).ask("醉驾被查会怎么处罚，会坐牢吗？")
    assert ans.refused and "收录的法规都没有涉及「醉驾」" in ans.text and llm.prompts == []


def test_an_english_topic_word_is_not_refused_when_the_laws_cover_it_in_chinese(kb_retriever):
    reply = "有。国家实行有利于小型微型企业发展的税收政策。【中小企业促进法第十一条】"
    ans = make(kb_retriever, FakeLLM(reply)).ask("我们是一家 tech startup，按中小企业促进法有没有 tax incentive？")
    assert not ans.refused


def test_a_question_asking_when_the_law_takes_effect_is_no_time_limit_question(kb_retriever):
    """几月几号开始施行？中间隔了多长时间: the dates are in the law; 多长时间 is reckoned from them."""
    reply = "本条例自2024年6月1日起施行。【第二十六条】"
    ans = make(kb_retriever, FakeLLM(reply)).ask("条例3月26号通过，几月几号开始施行？中间隔了多长时间？")
    assert not ans.refused and "2024年6月1日" in ans.text


def test_an_output_of_labels_alone_answers_a_which_article_question_with_the_clause(kb_retriever):
    """链长制是第几条讲的 -> 「【第八条第一款】」: the label is the answer, the clause's own words follow."""
    ans = make(kb_retriever, FakeLLM("【第八条第一款】")).ask("链长制是第几条讲的")
    assert not ans.refused and not ans.fallback
    assert ans.text.startswith("第八条第一款。本省建立省、设区的市联动的先进制造业重点产业链链长制")
    assert [c.label for c in ans.citations] == ["第八条第一款"]
    ans = make(kb_retriever, FakeLLM("第八条第一款")).ask("链长制是怎么回事？")  # not asked which: no lead
    assert ans.text.startswith("本省建立省、设区的市联动") and not ans.fallback


def test_a_part_is_sure_of_the_clause_both_retrievers_rank_first_within_its_law(kb_retriever, kb):
    """二是我们企业想发公司债: within the primary regulation both retrievers put 第二十一条第二款 first (over all
    laws another law's clause may come first by meaning); 第二十一条第一款 is first in neither."""
    assistant = make(kb_retriever)
    part = "二是我们企业想发公司债，条例支持吗"
    art = kb.primary.article(21)
    assert assistant._first_in_its_law(part, art.clauses[1], None)
    assert not assistant._first_in_its_law(part, art.clauses[0], None)


@pytest.mark.parametrize("dense_rank,completed", [(1, True), (2, False)])
def test_an_answer_leaving_out_the_clause_both_retrievers_put_first_is_completed_with_it(
        kb_retriever, monkeypatch, dense_rank, completed):
    """行业协会能不能参与政策咨询: when BM25 and meaning both rank 第七条第二款 first and the model answers from
    第一款 alone, 第二款 is added in its own words; when only one retriever puts it first, nothing is added."""
    search = kb_retriever.search

    def ranked(question, *args, **kwargs):
        r = search(question, *args, **kwargs)
        if question.startswith("我们是个市级行业协会"):
            top = next(h for h in r.hits if h.clause.label == "第七条第二款")
            rest = [h for h in r.hits if h is not top]
            r = replace(r, hits=[replace(top, bm25_rank=1, dense_rank=dense_rank)] + rest)
        return r

    monkeypatch.setattr(kb_retriever, "search", ranked)
    reply = "能。本省建立制造业强省专家咨询委员会，为制定先进制造业发展规划提供智力支持。【第七条第一款】"
    ans = make(kb_retriever, FakeLLM(reply)).ask("我们是个市级行业协会，能不能参与先进制造业方面的政策咨询？")
    labels = [c.label for c in ans.citations]
    assert labels == (["第七条第一款", "第七条第二款"] if completed else ["第七条第一款"])
    assert ("行业协会" in ans.text) == completed


def test_a_bare_answer_word_with_a_label_is_no_label_alone(kb_retriever):
    """「是。【第四条第三款】」 answers the yes/no question: the answer word stays."""
    ans = make(kb_retriever, FakeLLM("是。【第四条第三款】")).ask("统计主管部门对先进制造业的统计监测信息，是否应当定期发布？")
    assert ans.text.startswith("是。") and [c.label for c in ans.citations] == ["第四条第三款"]


def test_a_question_saying_tiaoli_keeps_the_evidence_to_the_primary_when_its_clause_is_first(kb_retriever):
    """条例对银行和保险机构分别提了什么要求: 条例 with no name, the primary's 第二十一条 first: other laws' clauses
    on 金融机构 are no evidence; without 条例 they are."""
    assistant = make(kb_retriever)
    q = "条例对银行等金融机构和对保险机构分别提了什么要求，有啥不同？"
    r = kb_retriever.search(q, k=5)
    assert r.hits[0].clause.regulation == PRIMARY
    assert {c.regulation for c in assistant._context(r)} == {PRIMARY}
    other = kb_retriever.search("对银行等金融机构和对保险机构分别提了什么要求，有啥不同？", k=5)
    assert {c.regulation for c in assistant._context(other)} - {PRIMARY}


def test_a_figure_asked_for_and_left_out_is_added_from_the_cited_clause(kb_retriever):
    """隔多少年要复审一次, answered with the clause's sentence on 复审 alone: its 复审周期一般不超过五年 is added."""
    from chatbot.citations import figure_sentence

    clause = next(c for c in kb_retriever.index.clauses
                  if c.regulation == "standardization-law-2017" and c.article == 29 and c.paragraph == 2)
    assert figure_sentence("隔多少年要复审一次", [clause]).text == "标准的复审周期一般不超过五年。"
    assert figure_sentence("谁来监督", [clause]) is None  # no sentence with a figure shares a word with it
    reply = "标准化行政主管部门根据反馈和评估情况对其制定的标准进行复审。【标准化法第二十九条第二款】"
    ans = make(kb_retriever, FakeLLM(reply)).ask("一项标准发布后，隔多少年要复审一次？")
    assert "标准的复审周期一般不超过五年。【标准化法第二十九条第二款】" in ans.text


def test_a_comparison_of_two_versions_answered_from_one_is_completed_with_the_other(kb_retriever):
    """2020版和2025版比…有什么变化, answered from the 2020 text alone: the 2025 text's best clause is added, so the
    answer says what each version says; a question about one law only gets nothing added."""
    q = "2020版和2025版比，大型企业付款期限的规定有什么变化？"
    r = kb_retriever.search(q, k=5)
    assert set(r.scope.ids) == {"sme-payment-regulations-2025", "sme-payment-regulations-2020"}
    old = next(h.clause for h in r.hits if h.clause.regulation == "sme-payment-regulations-2020")
    new = next(h.clause for h in r.hits if h.clause.regulation == "sme-payment-regulations-2025")
    reply = f"{old.text}【2020年版款项支付条例第{old.label.split('第', 1)[1]}】"
    ans = make(kb_retriever, FakeLLM(reply)).ask(q)
    assert ans.citations[0] == old and new in ans.citations
    one = make(kb_retriever, FakeLLM(reply.replace("2020年版", ""))).ask("款项支付条例对大型企业的付款期限怎么规定？")
    assert {c.regulation for c in one.citations} == {"sme-payment-regulations-2025"}
    # 促进法 fits two laws but names one: nothing of the other is added
    q = "促进法里提到涉企行政事业性收费目录清单，这个清单对我们小企业实际有什么用？"
    assert len(kb_retriever.search(q, k=5).scope.ids) == 2
    reply = "国家建立和实施涉企行政事业性收费目录清单制度。【中小企业促进法第五十五条第一款】"
    assert {c.regulation for c in make(kb_retriever, FakeLLM(reply)).ask(q).citations} == {"sme-promotion-law-2017"}


def test_a_leading_yes_is_dropped_when_the_question_has_no_answer_words(kb_retriever):
    """设区的市不用再自己定规划了吧 confirms a negation: 「是的，设区的市应当……制定」 reads either way, so the answer
    starts with the clause; a plain yes/no question has its answer word first, once (not 「是。是的，」)."""
    reply = "是的，设区的市人民政府应当根据省先进制造业发展规划，结合实际制定本行政区域先进制造业发展规划。【第五条第一款】"
    ans = make(kb_retriever, FakeLLM(reply)).ask("设区的市不用再自己定先进制造业发展规划了吧，直接照省里的执行就行？")
    assert ans.text.startswith("设区的市人民政府应当根据省先进制造业发展规划")
    ans = make(kb_retriever, FakeLLM(reply)).ask("设区的市要自己定先进制造业发展规划吗？")
    assert ans.text.startswith("是。设区的市人民政府")


def test_an_everyday_matter_no_retrieved_clause_names_is_refused_though_a_far_law_names_it(kb_retriever, kb):
    """电子发票丢了还能报销吗: 科学技术进步法第六十四条 names 经费报销 (a researcher's burden); when retrieval does not
    bring it up, the question is refused in its own word; when it does, the clause may answer."""
    from chatbot.retrieve import Hit, Retrieval

    q = "电子发票丢了还能报销吗？"
    law = "sci-tech-progress-law-2021"
    a64 = next(c for c in kb_retriever.index.clauses if c.regulation == law and c.article == 64)
    other = next(c for c in kb_retriever.index.clauses if c.regulation == "sme-payment-regulations-2025" and c.article == 11)
    assistant = make(kb_retriever)
    far = Retrieval(q, [Hit(other, 1.0, dense_rank=1, bm25_rank=1)], scope=kb.scope(q))
    assert assistant._refusal_reason(q, far) == "收录的法规都没有涉及「报销」"
    near = Retrieval(q, [Hit(other, 1.0, dense_rank=1, bm25_rank=1), Hit(a64, 0.8, dense_rank=79, bm25_rank=5)],
                     scope=kb.scope(q))
    assert assistant._refusal_reason(q, near) == ""
