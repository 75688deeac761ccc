"""Small stand-in ONNX models with the real models' contracts (DESIGN.md section 7).

One module per model: ``detector`` (SCRFD, constant answers), ``color_key_detector`` (SCRFD
finding key-colour squares), ``recognizer`` (ArcFace), ``swapper`` (inswapper),
``landmarks`` (2d106det) and ``restorer`` (GFPGAN); ``model_set`` writes them all under the
real file names, ``graph`` is the ONNX builder they share and ``drawing`` paints the
key-colour faces. Every builder writes one file and returns a dataclass describing what the
model will answer, so tests can check numbers exactly. Import from the module itself, e.g.
``from tests.support.models.model_set import build_model_set``.
"""
