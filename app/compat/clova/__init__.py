"""NAVER CLOVA OCR General (V2), served from our jobs and the local engines.

Mounted at ``/compat/clova/`` so that a client whose invoke URL is
``http://<host>/compat/clova`` posts to ``.../general`` unchanged, with one of our API
keys as ``X-OCR-SECRET``. Modules: ``urls``, ``views``, ``auth`` (the secret),
``submission`` (the JSON or multipart call -> a ``JobRequest``), ``results`` (our
result schema -> CLOVA's ``images[].fields``), ``errors`` (CLOVA's error shape and our
codes mapped to it). The wire contract: ../shared/COMPAT.md, "NAVER CLOVA OCR".
"""
