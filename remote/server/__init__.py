"""The self-hosted server (``facedeck --headless serve``): RunPod's v2 queue API over HTTP.

``records`` holds one job's state and its answers, ``jobs`` the queue and the engines that
run it, ``auth`` the bearer token, ``limits`` the request body, ``app`` the routes and
``serving`` the uvicorn process around them. FastAPI and uvicorn (the ``server`` extra)
are imported only by ``app`` and ``serving``.
"""
