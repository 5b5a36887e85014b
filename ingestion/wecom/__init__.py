"""WeCom contacts: JSON lines; `tags` kept as JSON text. A 0-byte file is a quiet day."""
