"""Media files: image and video reading and writing, formats, atomic outputs, synthetic-media metadata."""
