"""One order model across channels: `silver/orders` and `silver/order_lines`.

One module per channel turns its bronze rows into the common shape
(`transforms.orders.model`); `transforms.orders.union` puts them together.
"""
