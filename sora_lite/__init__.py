"""sora-lite: an open, self-hostable text/image-to-video studio with sound, and the eval toolkit that keeps generators honest."""

__version__ = "0.1.0"
