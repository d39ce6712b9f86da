import pytest

from chatbot.scope import gaps, out_of_scope


@pytest.mark.parametrize("question,kind", [
    ("技术改造补助的具体金额是多少？", "amount"),
    ("峰时电价一度多少钱？", "amount"),
    ("违反本条例要罚多少钱？", "penalty"),
    ("技改补助要准备哪些申报材料？", "procedure"),
    ("高新技术企业认定需要满足什么条件？", "procedure"),
    ("各条产业链的链长分别是哪位领导？", "person"),
    ("先进制造业企业所得税税率是多少？", "tax_labor"),
    ("个人所得税专项附加扣除怎么填报？", "tax_labor"),
    ("广东省对先进制造业有哪些扶持政策？", "other_region"),
    ("江西省食品安全条例对小作坊有什么规定？", "other_law"),
    ("《中华人民共和国劳动法》怎么规定加班？", "other_law"),
    ("员工被辞退时经济补偿金怎么计算？", "other_topic"),
    ("发明专利的保护期是多少年？", "other_topic"),
    ("明天南昌天气怎么样？", "unrelated"),
    ("江西省工信厅现在的厅长是谁？", "person"),
    ("企业自己评职称，得达到多大规模、多少研发人员才有资格？", "procedure"),
    ("引进的高层次人才买房，能补几十万吗？", "amount"),
    ("引进来的高层次人才在南昌买房，能拿到多少购房补贴？", "amount"),  # 多少 … 补贴, apart
    ("按投资额算能补多少钱？", "amount"),  # 按 … but the figure is what is asked
    ("小规模纳税人现在增值税征收率是多少？", "tax_labor"),
    ("研发费用占销售收入的比例最低要达到多少？", "amount"),
    ("卖伪劣产品会被判几年有期徒刑？", "penalty"),
    ("逾期不报会被列入经营异常名录吗？", "other_topic"),
    ("环评审批法定要在多少个工作日内办完？", "amount"),
    ("申请职称自主评审，专业技术人员要有多少？", "amount"),
    ("申报材料怎么准备？", "procedure"),
    ("三包是不是7天退货15天换货 保修期多长", "amount"),
    ("抽查不合格 几天内能申请复检 找谁复检 检验费要我们出吗", "amount"),  # 几天内能 asks how many days
    ("向法院申请支付令要交多少诉讼费？", "amount"),
])
def test_what_the_regulation_does_not_set(question, kind):
    gap = out_of_scope(question)
    assert gap is not None and gap.kind == kind


@pytest.mark.parametrize("question", [
    "工厂做技术改造，政府能给什么支持？", "条例什么时候开始施行？", "我们公司注册在浙江，这个条例跟我们有关系吗？",
    "我们厂想开发工业旅游项目，条例支持吗？", "先行先试失败要想不被追责，得满足哪些条件？",
    "引进的高层次人才，孩子上学、租房能得到什么服务？", "办项目手续太多了，条例有没有说要简化？",
    "我们想去海外申请专利、参与制定国际标准，条例支持吗？", "外地老板来江西投资制造业，条例欢迎吗？",
    "有些企业拿了地好几年都不开工，地就那么荒着，条例怎么处理？",  # 好几年 says how long, asks no figure
    "用电分高峰低谷不同价钱这事，条例里提了吗？",  # whether prices are mentioned, not what they are
    "外省的工厂也归这条例管吗？",  # whom this regulation binds, not another region's rules
    "政府会不会按每亩地一年能产出多少钱来给我们厂打分排名？",  # the figure is the yardstick, not asked for
    "我开了十几年陶瓷厂，想上智能化生产线，政府能不能给点钱？",  # 十几年 tells, asks no figure
    "想把老厂房改造成工业旅游景点，条例支持吗？",  # a 工业旅游 site, not sightseeing
    "条例是不是24年1月1号就施行了 我们要写进申报材料里别写错了",  # 申报材料 is why it is asked, not what
    "想跟骨干签个协议，离职以后几年内不许泄露技术，法律上有依据吗",  # 几年 is "a few years" here
])
def test_answerable_questions_pass(question):
    assert out_of_scope(question) is None


def test_gold_sets(regulation):
    from chatbot.gold import load_gold
    from conftest import ROOT

    for name in ("gold.jsonl", "heldout.jsonl"):
        gold = load_gold(ROOT / "eval" / name, len(regulation.articles))
        assert all(out_of_scope(g.question) for g in gold if not g.in_scope), name
        assert not [g.question for g in gold if g.in_scope and out_of_scope(g.question)], name


@pytest.mark.parametrize("question, figure", [
    ("企业研发费用加计扣除比例是多少？", "比例是多少"),
    ("发明专利的保护期是多少年？", "多少年"),
    ("合同没约定的话多少天内得付款？", "多少天"),
    ("这笔款拖几年就算超期了？", "几年"),
    ("补贴几个月能到账？", "几个月"),
    ("加计扣除的比例现在是百分之多少？", "百分之多少"),
    ("确认缺陷后应当在几日内备案？", "几日"),
    ("月销售额多少以下可以免征？", "多少以下"),
    ("小规模纳税人增值税是按1%还是3%征收？", "1%还是"),
    ("政府机关欠中小企业多少钱没付，老百姓从哪里能看到？", None),   # asks where
    ("单位给科研人员发成果转化奖励，方式和数额由谁说了算？", None),  # names an amount, asks who
    ("我们想买高校的一项技术，高校的成交价格是怎么确定的？", None),  # asks how
])
def test_asks_figure_only_when_a_figure_is_what_is_asked(question, figure):
    from chatbot.scope import asks_figure

    gap = asks_figure(question)
    assert (gap.match if gap else None) == figure


def test_a_penalty_topic_is_covered_by_any_clause_about_fines():
    gap = out_of_scope("检验机构出具虚假检验报告，对单位和责任人各罚多少？")
    assert gap.kind == "penalty" and gap.topic == "罚"
    assert not gap.holds_for(["……处五万元以上十万元以下的罚款"]) and gap.holds_for(["国家鼓励采用推荐性标准"])


def test_tax_relief_is_covered_by_a_clause_granting_it_in_the_laws_words():
    """减税 asked: a clause on 税收优惠和收费减免 is about it (退伍军人创办小企业), one on 标准 is not."""
    gap = out_of_scope("退伍回来想开个小加工厂，国家有没有啥减税减费的照顾？")
    assert gap.kind == "tax_labor" and gap.match == "减税"
    assert not gap.holds_for(["……按照国家规定享受税收优惠和收费减免。"]) and gap.holds_for(["国家鼓励采用推荐性标准"])


def test_an_english_topic_word_is_looked_for_in_the_laws_chinese():
    """tax benefit: the laws write 税收优惠, never "tax", so the gap is judged by 税."""
    gap = out_of_scope("我们是科技型 SME，有哪些 tax benefit 可以享受？")
    assert gap.kind == "tax_labor" and gap.topic == "税"
    assert not gap.holds_for(["……依法享受税收优惠。"]) and gap.holds_for(["国家鼓励采用推荐性标准"])


def test_every_gap_of_a_question_is_found_and_an_everyday_matter_is_its_own_word():
    """醉驾被查会怎么处罚: a penalty (the laws set some) and 醉驾 (none of them names it)."""
    found = [(g.kind, g.topic) for g in gaps("醉驾被查会怎么处罚，会坐牢吗？")]
    assert found == [("penalty", "罚"), ("other_matter", "醉驾")]
    assert [(g.kind, g.topic) for g in gaps("房东到期不退押金，我可以直接从房租里扣吗？")] == [("other_matter", "房东")]
    assert list(gaps("技术改造有什么支持？")) == []


def test_an_everyday_matter_is_covered_by_a_law_using_its_own_word_for_it():
    """离婚协议能不能用电子签名签: a law added later writes 涉及婚姻、收养、继承等人身关系的, not 离婚; 电子发票能报销吗
    names a matter no law names (报销)."""
    gap = out_of_scope("我和老公想协议离婚，离婚协议能不能直接在网上用电子签名签了？")
    assert gap.kind == "other_topic" and gap.topic == "离婚"
    assert not gap.holds_for(["（一）涉及婚姻、收养、继承等人身关系的；"]) and gap.holds_for(["国家鼓励采用推荐性标准"])
    assert [(g.kind, g.topic) for g in gaps("电子发票丢了还能报销吗？")] == [("other_matter", "报销")]


def test_a_figure_given_to_reckon_with_is_no_claim():
    from chatbot.scope import stated_figure

    assert stated_figure("一笔50万元的货款逾期100天，合同没约定逾期利息，利息怎么算？") is None
    assert stated_figure("净收入100万元，完成人至少能拿到多少？") is None
    assert stated_figure("补贴是不是3万元")[0] == "这一金额"
    assert stated_figure("技术改造是不是按设备投资额的20%给补助？")[0] == "这一比例或税率"
