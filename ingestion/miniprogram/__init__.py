"""Mini-program orders and CRM members: JSON lines, amounts in fen as sent.

The contract's dotted paths (`member.member_id`) flatten the member object; `items`
and `coupon_ids` stay JSON text. Nothing else is special, so the shared JSON-lines
reader does it all.
"""
