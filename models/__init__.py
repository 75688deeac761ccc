"""The model manifest: what FaceDeck downloads, from where, and which SHA-256 it must have.

This package holds data only, never model weights.
"""
