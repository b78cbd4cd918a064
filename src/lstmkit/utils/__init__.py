"""Small helpers shared by every layer: atomic file writes."""

from lstmkit.utils.files import atomic_path, atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_path"]
