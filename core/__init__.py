"""FaceDeck core engine.

Everything here is free of Qt, of the remote layer and of the desktop layer, so the
same engine serves the command line, the GUI, the serverless worker and the server.
"""
