"""Chekin's OCR Web API (v1 and v2), answered by the local MRZ reader on our jobs.

Served under ``/compat/chekin/`` so that a client of ``https://api.chekin.io/api/v{1,2}``
works with its host replaced by ``http://<host>/compat/chekin``. Modules: ``urls``,
``views``, ``auth`` (``Authorization: Token <one of our API keys>``), ``submission``
(the picture -> a ``JobRequest`` for ``engine=mrz``), ``ids`` (v1 integer and v2 hex
scan ids), ``results`` (our MRZ result -> Chekin's scan object), ``errors`` (DRF's
error shape and our codes mapped to it). The wire contract: ../shared/COMPAT.md.
"""
