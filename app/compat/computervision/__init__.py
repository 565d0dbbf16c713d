"""computervision.com.vn document OCR (v2, "Văn bản"/Textual) on our jobs.

Served under ``/compat/computervision/`` so that a client of
``https://cloud.computervision.com.vn/api/v2/ocr/document/general`` works with its
host replaced by ``http://<host>/compat/computervision``. Modules: ``urls``,
``views``, ``auth`` (HTTP Basic ``api_key:api_secret`` = our user name or key prefix
and the full API key), ``submission`` (the request -> a ``JobRequest``), ``results``
(our result schema -> ``data``), ``errors`` (the ``errorCode`` table and our codes
mapped to it). The wire contract: /work/shared/COMPAT.md; the provider's page:
https://docs.computervision.com.vn/en/v2/ocr/textual.
"""
