"""OneID: identity resolution and personal-data protection (silver).

- `run_identity(lake)`: the nightly job, bronze -> silver/identity_map, members,
  pii_vault, identity_audit (see docs/ONEID.md).

`bakehouse resolve` (a CSV of person records in, person ids out) is its own package,
`bakehouse.resolve`.
"""

__all__ = ["run_identity"]


def __getattr__(name: str):
    # run_identity pulls in the Spark stack; importing the package must not pay for it.
    if name == "run_identity":
        from transforms.identity.pipeline import run_identity

        return run_identity
    raise AttributeError(name)
