"""FaceDeck test suite."""
