"""Ele.me orders: UTF-8 CSV; 商品信息 is a quoted JSON array kept raw for silver."""
