"""Compatibility APIs: foreign OCR APIs served from our own jobs.

One package per API (``azure/``, ...), each with its URLs, views, authentication, the
translation of its request into a :class:`app.services.JobRequest` and of our result
schema into its answer. No OCR and no ORM rules of their own: they call the same
services and selectors as ``app/api/`` (../shared/DESIGN.md, "Where new things go").

Shared by every API: :mod:`.auth` (our API keys presented the API's way),
:mod:`.body` (request bodies read within a limit in bytes) and :mod:`.views` (the
view decorator and catch-all 404 view, made from the API's ``ErrorShape``).
"""
