"""Azure AI Document Intelligence, Analyze Document with ``prebuilt-read``, on our jobs.

Served under ``/compat/azure/`` so that a client of the REST API 2024-11-30 (what the
azure-ai-documentintelligence 1.0 SDKs speak; paperless-ngx's remote OCR) whose
endpoint is ``http://<host>/compat/azure/`` works unchanged. Modules: ``urls``,
``views``, ``auth`` (``Ocp-Apim-Subscription-Key`` = one of our API keys),
``submission`` (the request -> a ``JobRequest``), ``results`` (our result schema ->
``analyzeResult``), ``text`` (``content`` and its spans), ``errors`` (Azure's error
shape and our codes mapped to it). The wire contract: ../shared/COMPAT.md.
"""
