"""POS (store tills): one GBK CSV per store per day; rows get a row-local amount check."""
