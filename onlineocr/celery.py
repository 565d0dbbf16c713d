"""The Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery, signals

import onlineocr.broker  # noqa: F401  (atomic filesystem:// messages, see the module)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onlineocr.settings")
# Tesseract's OpenMP threads slow down parallel jobs: one OCR per core instead.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

app = Celery("onlineocr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _close_old_connections(**kwargs) -> None:
    """Around each task, as Django does around each request: drop connections that
    are past ``CONN_MAX_AGE`` or broken, and health-check the others on first use."""
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_init.connect
def _persistent_db_connections(**kwargs) -> None:
    """Worker processes keep their database connections ``OCR_WORKER_CONN_MAX_AGE`` s.

    Opening a PostgreSQL connection costs several milliseconds per job. Set in
    the main worker process before its pool starts, so prefork children inherit
    it (the Django fix-up still closes the parent's connections in each child);
    ``CELERY_DB_REUSE_MAX`` (settings) keeps the fix-up from closing them after
    every task.
    """
    from django.conf import settings
    from django.db import connections

    max_age = settings.OCR_WORKER_CONN_MAX_AGE
    if max_age <= 0:
        return
    for alias in connections:
        config = connections.settings[alias]
        config["CONN_MAX_AGE"] = max_age
        config["CONN_HEALTH_CHECKS"] = True
    signals.task_prerun.connect(_close_old_connections, weak=False)
    signals.task_postrun.connect(_close_old_connections, weak=False)


@signals.worker_process_init.connect
def _cap_address_space(**kwargs) -> None:
    """Cap each prefork pool child's address space at ``OCR_WORKER_MAX_VIRTUAL_MB`` MB.

    ``setrlimit(RLIMIT_AS)`` (POSIX; on Linux it bounds the process's virtual
    memory): an allocation beyond it fails (Python raises ``MemoryError``; native
    code that cannot handle a failed allocation, such as pdfium's, ends the
    child), so one hostile document can never take the host's memory. The main
    worker process is not capped. 0 turns the cap off.
    """
    import resource

    from django.conf import settings

    limit_mb = settings.OCR_WORKER_MAX_VIRTUAL_MB
    if limit_mb > 0:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@signals.worker_process_shutdown.connect
def _log_child_exit(pid: int, exitcode: int, **kwargs) -> None:
    """An INFO line when a prefork pool child leaves, with its peak RSS in MB.

    Children are replaced after ``CELERY_WORKER_MAX_TASKS_PER_CHILD`` tasks or
    once their peak RSS (``ru_maxrss``, KiB on Linux, what billiard compares)
    passed ``CELERY_WORKER_MAX_MEMORY_PER_CHILD`` KiB (settings, from
    ``OCR_WORKER_MAX_TASKS`` / ``OCR_WORKER_MAX_MEMORY_MB``); billiard's own
    warning is not logged (its logger is off unless set up), so this says it.
    The child exits only after its task's result reached the main process, so
    an ``acks_late`` job is acknowledged, not redelivered; the replacement is
    forked from the main process, with its database settings
    (:func:`_persistent_db_connections`), and opens its own connection.
    """
    import logging
    import resource

    from django.conf import settings

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    limit_kib = getattr(settings, "CELERY_WORKER_MAX_MEMORY_PER_CHILD", None) or 0
    over = f" (over the {limit_kib // 1024} MB limit)" if limit_kib and peak_kib > limit_kib else ""
    logging.getLogger(__name__).info(
        "pool child %s exits (code %s): peak RSS %.0f MB%s", pid, exitcode, peak_kib / 1024, over
    )
