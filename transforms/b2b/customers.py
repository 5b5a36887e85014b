"""`silver/b2b_customers`: the latest ERP snapshot, contact details protected.

The contact person's name is masked (`刘*`) and the phone is kept only as a keyed
pseudonym plus a masked display form: analysts can see that two accounts share a
contact without seeing who it is.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakehouse.pii import mask_name_col, mask_phone_col, normalize_phone_col
from transforms.common import identity as ids
from transforms.common.columns import MONEY, conform
from transforms.masters.stores import latest_snapshot, one_row_per_code

CUSTOMER_TYPES = {
    "KA": "key_account",
    "经销商": "dealer",
    "团购": "group_buy",
    "便利店": "convenience_store",
    "车销": "van_sales",
}

B2B_CUSTOMERS_SCHEMA = T.StructType(
    [
        T.StructField("customer_code", T.StringType(), False),
        T.StructField("customer_name", T.StringType()),
        T.StructField("customer_type", T.StringType()),
        T.StructField("source_customer_type", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("credit_limit", MONEY),
        T.StructField("payment_terms_days", T.IntegerType()),
        T.StructField("contact_name_masked", T.StringType()),
        T.StructField("contact_phone_pseudonym", T.StringType()),
        T.StructField("contact_phone_masked", T.StringType()),
        T.StructField("created_on", T.DateType()),
        T.StructField("snapshot_date", T.DateType()),
    ]
)


def build_b2b_customers(erp_b2b_customers: DataFrame, key: bytes) -> DataFrame:
    snapshot = one_row_per_code(
        latest_snapshot(erp_b2b_customers).where(F.trim("customer_code") != ""), "customer_code"
    )
    kind = F.trim("customer_type")
    digits = F.regexp_replace("contact_phone", r"\D", "")
    # Mobiles are normalised like every phone key; landlines keep their digits.
    phone_key = F.coalesce(normalize_phone_col("contact_phone"), F.nullif(digits, F.lit("")))
    customers = snapshot.select(
        F.trim("customer_code").alias("customer_code"),
        "customer_name",
        F.coalesce(
            *[F.when(kind == k, F.lit(v)) for k, v in CUSTOMER_TYPES.items()], F.lit("other")
        ).alias("customer_type"),
        kind.alias("source_customer_type"),
        "region",
        "credit_limit",
        "payment_terms_days",
        mask_name_col(F.trim("contact_name")).alias("contact_name_masked"),
        ids.pseudonym(key, ids.PHONE, phone_key).alias("contact_phone_pseudonym"),
        mask_phone_col(phone_key).alias("contact_phone_masked"),
        "created_on",
        F.col("business_date").alias("snapshot_date"),
    )
    return conform(customers, B2B_CUSTOMERS_SCHEMA)
