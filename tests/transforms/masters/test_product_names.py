"""Product name matching: normalisation first, fuzzy with a threshold, never a guess."""

from transforms.masters.product_names import NameMatcher, normalise_name

CANDIDATES = [
    ("B1001", "法式长棍", False),
    ("B1002", "牛角包", False),
    ("C2001", "6英寸草莓蛋糕", False),
    ("C2003", "8英寸草莓蛋糕", False),
    ("C2002", "提拉米苏(切块)", True),
    ("C2002", "提拉米苏切块", False),
    ("D4001", "美式咖啡(热)", True),
]


def test_normalise_folds_width_brackets_spaces_and_marketing_tags():
    assert normalise_name("牛角包（新品）") == "牛角包"
    assert normalise_name("【招牌】肉松小贝") == "肉松小贝"
    assert normalise_name("提拉米苏（切块）") == normalise_name("提拉米苏(切块)") == "提拉米苏切块"
    assert normalise_name("６英寸 草莓蛋糕") == "6英寸草莓蛋糕"
    assert normalise_name("牛角包新品") == "牛角包"
    assert normalise_name("酸奶(热)") == normalise_name("酸奶（冰）") == "酸奶"


def test_match_methods_and_threshold():
    matcher = NameMatcher(CANDIDATES)
    assert matcher.match("提拉米苏(切块)").method == "exact"
    normalised = matcher.match("【全国门店通用】６英寸草莓蛋糕")
    assert (normalised.sku, normalised.method) == ("C2001", "normalised")
    fuzzy = matcher.match("法式长棍面包")
    assert (fuzzy.sku, fuzzy.method) == ("B1001", "fuzzy")
    assert fuzzy.score is not None and fuzzy.score >= 88
    # Close to two SKUs at once: ambiguous, so unmapped rather than a guess.
    assert matcher.match("草莓蛋糕").sku is None
    assert matcher.match("抹茶千层").method == "unmapped"
