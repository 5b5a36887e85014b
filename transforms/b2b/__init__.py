"""B2B (wholesale) customers and order lines from the ERP."""
