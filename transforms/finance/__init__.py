"""Store operating costs from the ERP."""
