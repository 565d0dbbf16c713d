"""Compatibility APIs: foreign OCR APIs served from our own jobs.

One package per API (``azure/``, ...), each with its URLs, views, authentication, the
translation of its request into a :class:`app.services.JobRequest` and of our result
schema into its answer. No OCR and no ORM rules of their own: they call the same
services and selectors as ``app/api/`` (../shared/DESIGN.md, "Where new things go").
"""
