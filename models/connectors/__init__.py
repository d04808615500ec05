"""Live source connectors: vendor API clients that land pages in the export format."""
