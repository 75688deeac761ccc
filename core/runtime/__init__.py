"""onnxruntime: the install check, execution providers and session creation."""
