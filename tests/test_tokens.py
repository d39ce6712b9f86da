import pytest

from chatbot.tokens import expand_query, tokenize


@pytest.mark.parametrize("term", ["链长制", "首席质量官", "亩产效益", "产教融合", "峰谷分时电价"])
def test_dictionary_terms_stay_whole(term):
    assert term in tokenize(f"请问{term}是怎么规定的？")
    assert term not in tokenize(f"请问{term}是怎么规定的？", user_dict=False)


def test_stop_words_and_punctuation_removed():
    toks = tokenize("请问，工厂做技术改造的话，政府能给什么支持？！")
    assert "技术改造" in toks and "工厂" in toks and "支持" in toks
    for gone in ("请问", "的", "什么", "，", "？", "！", "能"):
        assert gone not in toks
    # a question word is no term: 找谁 must not match 谁主管谁负责
    assert tokenize("老板让我自己去找厂家，我到底该找谁？") == ["老板", "自己", "去", "找", "厂家", "找"]


def test_full_width_and_case_are_normalized():
    assert tokenize("ＡＢＣ公司") == tokenize("abc公司")


def test_empty_and_punctuation_only():
    assert tokenize("") == []
    assert tokenize("？？！。") == []


def test_query_expansion_maps_everyday_words_to_the_regulation():
    assert "技术改造" in expand_query("技改有补贴吗")
    assert {"信息化", "主管部门"} <= set(expand_query("工信局管什么"))
    assert expand_query("完全无关的一句话") == []


def test_everyday_words_for_what_laws_say_in_legal_terms():
    assert {"从轻", "减轻", "处罚"} <= set(expand_query("进了一批假货，被查了能不能罚轻点"))
    assert {"擅自", "转让"} <= set(expand_query("自己参与搞出来的技术，私下卖给外面的公司行不行"))
    assert {"修理", "更换", "退货"} <= set(expand_query("电热水壶用了一个月就不加热了，该找谁"))


def test_latin_abbreviations_expand_only_as_words_of_their_own():
    assert "社会资本" in expand_query("想合伙搞个PE基金投工厂")
    assert "社会资本" in expand_query("找 VC 融资")
    assert expand_query("open type speed") == []  # "pe" inside English words is not PE


def test_everyday_names_of_the_regulations_institutions_expand_to_them():
    assert "首席质量官" in expand_query("企业里设个质量总监负总责")
    assert "国家标准" in expand_query("我们厂想去参与编国标、行标")
    assert "社会资本" in expand_query("想跟朋友合伙搞个私募基金投制造业")
    # 制定标准 is how every law says it, not a variant: the primary regulation's 品牌 line stays out
    assert "品牌" not in expand_query("同行利用制定标准来排挤别家产品")
