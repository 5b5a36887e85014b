"""Silver transforms: bronze rows -> conformed, pseudonymised, business-ready tables.

One folder per domain. Every transform is a pure function `DataFrame -> DataFrame`
with an explicit output schema; `transforms.build` is the only module that reads or
writes tables.
"""
