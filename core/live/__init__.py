"""Live mode: a frame source, the engine with its tracker, and frame sinks, in real time.

``types.py`` is the contract every part shares (sources, sinks, the loop's frames and
stats); ``loop.py`` runs it; ``sources.py`` and ``sinks`` modules provide the parts. No Qt
here: the window and ``facedeck --headless live`` drive the same loop.
"""
