"""Douyin vouchers sold and redeemed: UTF-8-with-BOM CSV, nothing source-specific."""
