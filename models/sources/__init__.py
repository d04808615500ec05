"""Pure mappers from vendors' published API payloads to flat, typed warehouse records."""
