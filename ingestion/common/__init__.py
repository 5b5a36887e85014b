"""What every feed shares: finding, decoding, parsing, typing and landing files."""
