"""UltraOCR v2 (Nuveo), every call of its official SDKs, on our jobs.

Served under ``/compat/ultraocr/`` so that a client of the SDKs (nuveo/ultraocr-sdk-
python, -go, -js, -java, -csharp) whose ``base_url`` and ``auth_base_url`` are both
``http://<host>/compat/ultraocr/v2`` works unchanged. Modules: ``urls``, ``views``,
``auth`` (``POST /token`` and the Bearer tokens it signs), ``ids`` (KSUIDs that carry
our UUIDs), ``signed`` (the signed upload and download URLs), ``submission`` (the
request -> job options, metadata and document), ``results`` (our result schema ->
UltraOCR's shapes), ``errors`` (UltraOCR's ``{"message"}`` error shape). The wire
contract: ../shared/COMPAT.md, "UltraOCR v2".
"""
