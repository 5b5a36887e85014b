"""Store stock movements from the ERP."""
