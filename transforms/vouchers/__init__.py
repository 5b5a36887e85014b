"""Douyin vouchers from sale to redemption."""
