"""CI log analysis: redaction, excerpts, parameter masking, template mining, fingerprints.

Names load on first use: clustering pulls in scipy, which a command that only excerpts
or lints should not wait for. Functions named like their module (`excerpt`, `fingerprint`,
`redact`) are imported from that module, since the package attribute is the module itself.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "Assignment": "clusters", "Cluster": "clusters", "FailureItem": "clusters",
    "assign_clusters": "clusters",
    "Excerpt": "excerpt", "ExcerptLine": "excerpt", "excerpt_file": "excerpt",
    "excerpt_many": "excerpt",
    "FINGERPRINT_VERSION": "fingerprint", "fingerprint_for_job": "fingerprint",
    "mask": "normalise", "mask_series": "normalise",
    "TemplateStore": "templates", "mine_templates": "templates", "template_id": "templates",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'models.logs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"models.logs.{home}"), name)
    globals()[name] = value
    return value
