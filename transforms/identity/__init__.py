"""OneID: identity resolution and personal-data protection (silver).

- `run_identity(lake)`: the nightly job, bronze -> silver/identity_map, members,
  pii_vault, identity_audit (see docs/ONEID.md).
- `resolve_file(input_csv, output_csv)`: the same method on a CSV of people records,
  for `bakehouse resolve`.
"""

from transforms.identity.resolve import ResolveSummary, resolve_file

__all__ = ["ResolveSummary", "resolve_file", "run_identity"]


def __getattr__(name: str):
    # run_identity pulls in the Spark stack; resolve_file must not pay for it.
    if name == "run_identity":
        from transforms.identity.pipeline import run_identity

        return run_identity
    raise AttributeError(name)
