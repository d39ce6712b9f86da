"""Is a question one the regulation can answer? Rules for what this regulation demonstrably does not hold.

The regulation is a promotion law: it sets duties and kinds of support, but no amounts, rates, penalties,
application procedures or eligibility criteria, and it covers Jiangxi only. Retrieval always finds the
nearest clause, and a near-topic question (技改补助的具体金额是多少) scores as high as an answerable one,
so relevance scores alone cannot tell them apart. These checks name what is asked for; the answer then
says plainly that the regulation does not set it, and points to the nearest clauses.

    out_of_scope("技术改造补助的具体金额是多少？") -> Gap("amount", "具体金额、比例或标准")
    out_of_scope("技术改造有什么支持？") -> None

What it leaves to others: relevance thresholds (chatbot.answer) and the model's own judgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tokens import words

_PROVINCES = ("北京|上海|天津|重庆|河北|山西|内蒙古|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|山东|河南|湖北|湖南|广东|"
              "广西|海南|四川|贵州|云南|西藏|陕西|甘肃|青海|宁夏|新疆|香港|澳门|台湾|深圳|广州|杭州|苏州|南京|武汉|"
              "长沙|合肥|成都|西安|厦门|宁波|青岛|外省|其他省|别的省|国家层面|全国")

RULES: list[tuple[str, str, re.Pattern]] = [  # most specific first: 罚多少钱 is a penalty, not an amount
    ("penalty", "罚款、处罚等法律责任",
     re.compile(r"罚款|罚多少|处罚|罚则|法律责任|吊销|拘留|判刑|坐牢|有期徒刑|判几年|违反(?:了)?(?:本|这个|这部|该)?条例|"
                r"\bfines?\b|\bpenalt")),
    ("person", "具体人员或职务人选",
     re.compile(r"哪位领导|哪几位领导|领导是谁|分别是谁|叫什么名字|(?:厅长|局长|处长|部长|省长|市长|县长|主任|书记|负责人)是谁")),
    ("other_law", "其他法律法规",
     re.compile(r"《(?![^》]*先进制造业促进)[^》]{2,30}》|"
                r"(?<![本该这部个])(?:[\u4e00-\u9fff]{2,10}?)(?:安全|环境保护|劳动|公司|税收|合同|专利|商标)(?:法|条例)")),
    ("other_region", "其他地区的政策",
     # (外省的工厂也归这条例管吗 asks whom this regulation binds, not about another region's rules)
     re.compile(rf"(?:{_PROVINCES})(?:省|市|地区|那边|这边)?[^，。？！,?!]{{0,16}}(?:政策|(?<![这本该个部])(?:条例|规定|办法)|补贴|扶持)")),
    ("tax_labor", "税收、工资、社保等其他法律法规的事项",
     re.compile(r"个人所得税|企业所得税|所得税|增值税|契税|个税|加计扣除|税收优惠|税收减免|减税|免税|退税|最低工资|工资标准|加班费|"
                r"养老保险|公积金|劳动合同|劳动法|专项附加扣除|社保缴费|\btax(?:es)?\b|\bwages?\b|\bsalar")),
    ("other_topic", "劳动用工、公司登记、破产、著作权等其他法律的事项",
     re.compile(r"经济补偿金?|辞退|解雇|开除员工|试用期|工伤|劳动仲裁|注册资本|破产|著作权|版权登记|保护期|"
                r"无理由退货|出口退税|官费|商标注册|离婚|继承|交通事故|民间借贷|房产税|印花税|经营异常")),
    ("procedure", "申请流程、申报材料、办理窗口或认定条件",
     # (申报材料 asked about, not 要写进申报材料里 as the reason for asking)
     re.compile(r"申报材料(?:(?=[^，。？！,?!\s]{0,6}(?:哪些|什么|啥|怎么|如何|[吗呢？?]))|$)|(?:哪些|什么|啥)申报材料|哪些材料|什么材料|准备.{0,6}材料|交哪些|流程是什么|什么流程|哪些流程|走哪些|"
                r"具体步骤|哪些步骤|需要哪些手续|要哪些手续|怎么办理|如何办理|哪个窗口|哪个处室|哪个系统|"
                r"在哪.{0,3}(?:申报|申请|办理|递交)|(?:认定|申请|申报)[^，。？、,?]{0,18}(?:条件|门槛)|认定标准|怎么认定|"
                r"如何认定|才算|才有资格|才够格|什么资格|多大规模|怎么补报|如何补报|怎么投诉|如何投诉|投诉电话|举报电话|"
                r"注册公司|营业执照|什么时候发放|何时发放|多久到账")),
    ("amount", "具体金额、比例、期限、价格或标准",
     re.compile(r"多少钱|多少万|几万|几[十百千]万(?=吗|呢|？|\?)|多少人|多少名|[是为]多少(?![年天日钱万元人名个])|达到多少|征收率|"
                r"(?:最低|最高|至少|最多|最少)[^，。？！,?!]{0,6}多少|"
                r"多少元|金额|数额|额度|上限|百分之几|百分之多少|百分比|比例是多少|比例多少|缴费比例|[交缴付]多少|多少[^，。？！,?!]{0,4}费(?!用途)|"
                r"税率|费率|价格|价钱|出让价|一度电|一度多少|能补多少|补多少|奖多少|拿多少|领多少|给多少|"
                r"标准是多少|多少[^，。？！,?!]{0,4}(?:补贴|奖励|奖金|补助)|拿到多少|领到多少|安家费|几点到几点|哪个时段|时段.{0,4}划分|净利润至少|多长时间|多久|(?<![有这那])多长(?![远大])|"
                r"多少年|多少天|多少日|多少个?(?:工作日|月|小时)|几个月|(?<![好这那前近头十])几年|(?<![好这那前近头十])几[天日]|"  # 好几年, 十几年: a while
                r"(?:要|得|需|需要)有多少|"
                r"几个工作日|办结时限|多少以[上下内]|\d[%％]还是|还是[^，。？！,?!]{0,3}\d+(?:\.\d+)?[%％]|"  # 按1%还是3%
                r"\btax rate|\bhow much\b")),
    # everyday matters of other laws, named by words no shipped law uses: a question about them is refused
    # when no law in scope uses the word either (`Gap.holds_for`), whichever law's clause comes first
    ("other_matter", "其他法律的事项",
     re.compile(r"醉驾|酒驾|驾照|驾驶证|违章|房东|押金|物业费|限购|房贷|拆迁|彩礼|抚养费|赡养|结婚|签证|护照|身份证|"
                r"抢注|域名|外商投资|负面清单|消防|职业病|(?:医疗|失业|生育)保险金?|产假|年假|婚假|竞业限制|劳务派遣|"
                r"股权转让|公司章程|借条|欠条|高利贷|网贷|信用卡|食品(?:经营|生产)许可证?|安全生产许可证?|排污|学区|"
                r"养老金|欠薪|律师|公证|遗嘱|车险|车祸|医疗纠纷|宠物|噪音|报销|危险废物|危废|转移联单|碳排放权|碳配额|"
                r"排放配额|碳市场|碳交易|信用修复|行政复议|行政诉讼")),
    ("unrelated", "与本条例无关的事项",
     re.compile(r"天气|气温|下雨|(?<!工业)旅游|(?<!旅游)景点|怎么走|航班|火车票|高铁票|菜谱|彩票|股价|股市|星座|电影|房价|"
                r"\bweather\b|\bhotel")),
]


# kinds named by a topic word (劳动合同, 罚款, 《公司法》) rather than by how the question asks (多少钱, 怎么办理):
# in a knowledge base of several laws, such a gap holds for all of them when no clause in scope uses the word
TOPIC_KINDS = ("penalty", "person", "other_law", "other_region", "tax_labor", "other_topic", "other_matter",
               "unrelated")
# an English topic word is looked for in the laws by its Chinese (tax benefit: 税, as in 税收优惠)
ENGLISH_TOPICS = {"tax": "税", "taxes": "税", "wage": "工资", "wages": "工资", "salar": "工资", "fine": "罚",
                  "fines": "罚", "penalt": "罚"}


@dataclass(frozen=True)
class Gap:
    kind: str      # amount, penalty, procedure, person, tax_labor, other_topic, other_matter, other_region,
    #                other_law, unrelated
    what: str      # what the regulation does not set, for the refusal message
    match: str = ""  # the words of the question that the rule matched

    @property
    def topic(self) -> str:
        """The word a clause would use for it: 罚 for 罚多少 / 处罚 / 罚则, 税 for tax, else the words matched."""
        if self.kind == "penalty" and "罚" in self.match:
            return "罚"
        return ENGLISH_TOPICS.get(self.match.lower().strip(), self.match)

    @property
    def words(self) -> tuple[str, ...]:
        """The topic and the words a clause granting the same relief uses (减税 -> 税收优惠, 减免 …), or the
        law's own word for an everyday matter (离婚 -> 婚姻)."""
        return (self.topic,) + (TAX_RELIEF if self.topic in TAX_RELIEF else ()) + LAW_WORDS.get(self.topic, ())

    def holds_for(self, texts) -> bool:
        """Whether a topic gap holds for clauses with these texts: none of them uses its word (`words`)."""
        return self.kind in TOPIC_KINDS and bool(self.topic) and not any(w in t for t in texts for w in self.words)


# relief from taxes and fees, in the words of a question (减税) or of a law (税收优惠, 收费减免)
TAX_RELIEF = ("减税", "免税", "税收减免", "税收优惠", "税费减免", "收费减免", "减免")
# the word a law uses for an everyday matter: a law added later on 婚姻 covers 离婚 questions in part at least
# (电子签名法第三条: 涉及婚姻、收养、继承等人身关系的 documents may not be signed electronically)
LAW_WORDS = {"离婚": ("婚姻",), "结婚": ("婚姻",), "彩礼": ("婚姻",), "婚假": ("婚姻",), "遗嘱": ("继承",),
             "抚养费": ("抚养",), "欠薪": ("工资", "劳动报酬"), "辞退": ("解除劳动合同",), "解雇": ("解除劳动合同",),
             "开除员工": ("解除劳动合同",), "车祸": ("交通事故",),
             "排污": ("污染物排放", "排放污染物", "排放")}


# an amount named, not asked for (方式和数额由谁说了算, 成交价格是怎么确定的), and questions asking something else
AMOUNT_NOUNS = frozenset(("金额", "数额", "额度", "上限", "价格", "价钱", "出让价"))
OTHER_WH = re.compile(r"谁|哪里|哪儿|从哪|怎么|如何|怎样")


# a figure that is the yardstick of something else, not what is asked (按每亩地能产出多少钱来打分排名)
CRITERION = re.compile(r"(?:按照?|根据|依据|依照)([^，。？！,?!]{0,16})$")
RANKED_BY = re.compile(r"^[^，。？！,?!]{0,8}?(?:打分|排名|排序|评价|评分|考核|衡量|分档|分级)")


def _criterion(question: str, m: re.Match) -> bool:
    """Whether a figure asked for (多少钱) is the measure something is done by: 按…多少钱来打分."""
    return bool(CRITERION.search(question[:m.start()]) and RANKED_BY.search(question[m.end():]))


# a clause that asks yes or no, with no figure in it: 法律上有依据吗
YES_NO_ASK = re.compile(r"[吗嗎么][？?。！!\s]*$|是否|有没有|能不能|可不可以|行不行|算不算|合不合法|合法吗")
CLAUSE = re.compile(r"[，,。；;！!？?\s]")


def _a_few(question: str, m: re.Match) -> bool:
    """Whether 几 in a figure word means "a few", not "how many": in a clause that asks nothing itself (no
    modal verb) before a clause that asks yes or no (离职以后几年内不许泄露技术，法律上有依据吗; not
    几天内能申请复检 找谁复检)."""
    if not m.group(0).startswith("几"):
        return False
    rest = CLAUSE.split(question[m.end():])
    after = [c for c in rest if c.strip()]
    own = CLAUSE.split(question[:m.start()])[-1] + m.group(0) + rest[0]
    return (len(after) > 1 and bool(YES_NO_ASK.search(after[-1])) and not re.search(r"多少|几", after[-1])
            and not re.search(r"能|可以|会|要|需|得|[吗呢么]", own))


def asks_figure(question: str) -> Gap | None:
    """The "amount" gap when the question asks for a figure (多少钱, 比例是多少, 多少天) and nothing else: not
    when it only names an amount (数额由谁说了算) or also asks who, where or how (欠了多少钱，从哪里能看到)."""
    kind, what, pattern = next(rule for rule in RULES if rule[0] == "amount")
    asked = [m.group(0) for m in pattern.finditer(question)
             if m.group(0) not in AMOUNT_NOUNS and not _criterion(question, m) and not _a_few(question, m)]
    return Gap(kind, what, asked[0]) if asked and not OTHER_WH.search(question) else None


# a rate or a sum of money the question states (是不是按15%交, 补贴是不是3万元): answered only from a clause that
# writes a figure of that kind; a date stated (是不是5月就施行了) is answered by the date the law writes
STATED = (("这一比例或税率", re.compile(r"\d+(?:\.\d+)?\s*[%％]|百分之[零一二三四五六七八九十百点\d]+")),
          ("这一金额", re.compile(r"\d+(?:\.\d+)?\s*[万亿]?元|[一二两三四五六七八九十百千万亿]+元")))


def stated_figure(question: str) -> tuple[str, re.Pattern] | None:
    """(what, pattern) for a rate or sum of money the question states, or None.

    stated_figure("高新技术企业的企业所得税是不是按15%交")[0] -> "这一比例或税率";  ("是不是6月1日施行") -> None

    A figure given to reckon with is no claim: stated_figure("50万元的货款逾期100天，利息怎么算") -> None,
    and so for a question that asks a figure too (净收入100万元，完成人至少能拿到多少).
    """
    if OTHER_WH.search(question) or re.search(r"多少|几", question):
        return None
    return next(((what, p) for what, p in STATED if p.search(question)), None)


# 「用电分高峰低谷不同价钱这事，条例里提了吗」: whether the law mentions prices, not what a price is
MENTIONS_ASK = re.compile(r"提(?:了|到|过|没提|没有)|(?:说|讲)(?:了|过|到)|有没有(?:提|说|讲|规定)|涉及")


def out_of_scope(question: str) -> Gap | None:
    """The first kind of thing the question asks for that the regulation does not set, or None."""
    return next(gaps(question), None)


def _whole_words(question: str, matches):
    """The matches that are words of the question as jieba cuts it, or runs of them: 产假 is no word of
    生产假冒伪劣产品 (生产 / 假冒)."""
    ends, n = {0}, 0
    for w in words(question):
        n += len(w)
        ends.add(n)
    return (m for m in matches if m.start() in ends and m.end() in ends)


def gaps(question: str):
    """Every kind of thing the question asks for that the regulation does not set, most specific first
    (醉驾被查会怎么处罚: a penalty, which other laws set, and 醉驾, which none of them names)."""
    for kind, what, pattern in RULES:
        if kind == "amount" and MENTIONS_ASK.search(question) and not re.search(r"多少|几", question) and all(
                m.group(0) in AMOUNT_NOUNS for m in pattern.finditer(question)):
            continue
        found = list(pattern.finditer(question))
        if kind == "other_matter" and found:
            found = _whole_words(question, found)  # (jieba cuts the question only when a word matched)
        if m := next((m for m in found if kind != "amount" or not (_criterion(question, m) or _a_few(question, m))),
                     None):
            match = m.group(0).strip("《》")
            if kind == "other_law" and not m.group(0).startswith("《"):
                # 加班费按劳动法 -> 劳动法: the name starts after the words that lead to it
                match = re.sub(r"^.*(?:按照|按|依照|依据|根据|的|了|在|对|和|与)", "", match) or match
            yield Gap(kind, what, match)
