"""Remote execution: the RunPod-protocol client, the serverless worker and the server.

Imports ``facedeck.core`` only; never Qt and never ``facedeck.desktop``.
"""
