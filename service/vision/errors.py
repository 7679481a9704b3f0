"""Errors of the vision engine's own files, which the service turns into "emotion recognition unavailable"."""

from __future__ import annotations


class ModelError(RuntimeError):
    """The model, its card or a face cascade is missing, unreadable, or breaks its contract."""
