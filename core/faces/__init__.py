"""Faces: the model wrappers (detect, recognise, swap, landmarks, restore), alignment,
masks, paste-back and selection."""
