"""ERP masters and movements: BOM CSV, except the monthly store costs (GBK, yyyymm)."""
