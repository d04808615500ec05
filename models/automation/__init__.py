"""Incident automation: failed production deploys become tickets and alerts, exactly once."""
