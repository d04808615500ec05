"""From failed CI jobs to recurring failure clusters (excerpt, fingerprint, cluster)."""
