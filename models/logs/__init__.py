"""CI log analysis: redaction, excerpts, parameter masking, template mining, fingerprints."""

from models.logs.clusters import Assignment, Cluster, FailureItem, assign_clusters
from models.logs.excerpt import Excerpt, ExcerptLine, excerpt, excerpt_file, excerpt_many
from models.logs.fingerprint import FINGERPRINT_VERSION, fingerprint, fingerprint_for_job
from models.logs.normalise import mask, mask_series
from models.logs.redact import redact
from models.logs.templates import TemplateStore, mine_templates, template_id

__all__ = [
    "FINGERPRINT_VERSION",
    "Assignment",
    "Cluster",
    "Excerpt",
    "ExcerptLine",
    "FailureItem",
    "TemplateStore",
    "assign_clusters",
    "excerpt",
    "excerpt_file",
    "excerpt_many",
    "fingerprint",
    "fingerprint_for_job",
    "mask",
    "mask_series",
    "mine_templates",
    "redact",
    "template_id",
]
