"""Sample-organisation generator: vendor-shaped exports plus planted ground truth."""

from sampleorg.build import Summary, generate

__all__ = ["Summary", "generate"]
