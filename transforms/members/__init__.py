"""Silver member tables built from the CRM member record (mp_members)."""
