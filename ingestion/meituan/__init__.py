"""Meituan delivery: the one XLSX feed (sheet 订单明细, a title line above the header).

Items stay as Meituan's raw item string (`法式长棍*2,牛角包*1`); silver parses them.
"""
