"""Follow-through analytics: pure polars/numpy functions over warehouse extracts."""
