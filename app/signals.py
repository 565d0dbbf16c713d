"""Signals of the job and batch lifecycle (docs/architecture.md, "The life of a job").

:data:`job_finished` is sent once per job end, after the transaction that wrote
the end commits (``services.job_end``: done, failed, canceled, crash, timeout).
A second attempt to end the same job changes nothing and sends nothing.

Receivers get, as keyword arguments (``sender`` is :class:`app.models.Job`):

- ``job_id`` (``uuid.UUID``): the job that ended;
- ``status`` (``str``): ``"done"``, ``"failed"`` or ``"canceled"``;
- ``error_code`` (``str``): the failed job's stable code (docs/errors.md), ``""`` otherwise.

Receivers run in the process that ended the job (a worker, or the web process for a
cancel), after its transaction. The signal is sent with ``send_robust``: an exception
in a receiver is logged (ERROR, with its traceback) and never undoes the end or stops
the other receivers.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after commit, once per job end; kwargs ``job_id``, ``status``, ``error_code``.
job_finished = Signal()

#: Sent after commit, once per batch end (``services.batches``: done, failed, canceled);
#: kwargs ``batch_id`` (``uuid.UUID``) and ``status`` (``str``).
batch_finished = Signal()
