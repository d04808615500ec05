"""Sample-organisation generator: vendor-shaped exports plus planted ground truth."""

from followthrough.generate.build import Summary, generate

__all__ = ["Summary", "generate"]
