"""Sample-organisation generator: vendor-shaped exports plus planted ground truth."""

from sampleorg.generator import Summary, generate

__all__ = ["Summary", "generate"]
