"""Icons, style sheets and other files FaceDeck may ship (never model weights)."""
