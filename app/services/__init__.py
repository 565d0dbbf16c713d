"""Services: the only writers of jobs, pages, page tasks and API keys.

Views and tasks stay thin and call these functions (keyword-only arguments,
named ``<entity>_<action>``). Reads live in :mod:`app.selectors`.

- :mod:`app.services.jobs`: submission, re-run, cancel, delete, and the one
  terminal transition every job end goes through (:func:`job_end`).
- :mod:`app.services.run`: running a job: the job task's start, the page tasks
  of the page fan-out, and the job's assembly when its last page lands.
- :mod:`app.services.keys`: API keys: making, authenticating, revoking.
- :mod:`app.services.uploads`: upload slots (an id and a signed URL before the file).
"""

from app.services.jobs import (
    JobRequest,
    check_engine_options,
    fetch_document,
    job_cancel,
    job_create,
    job_delete,
    job_end,
    job_enqueue,
    job_fail,
    job_options,
    job_rerun,
)
from app.services.keys import key_authenticate, key_create, key_revoke
from app.services.numbers import job_number
from app.services.run import job_start, page_process, page_time_limit_exceeded
from app.services.uploads import (
    metadata_object,
    metadata_value,
    upload_slot_create,
    upload_slot_use,
)

__all__ = [
    "JobRequest",
    "check_engine_options",
    "fetch_document",
    "job_cancel",
    "job_create",
    "job_delete",
    "job_end",
    "job_enqueue",
    "job_fail",
    "job_number",
    "job_options",
    "job_rerun",
    "job_start",
    "key_authenticate",
    "key_create",
    "key_revoke",
    "metadata_object",
    "metadata_value",
    "page_process",
    "page_time_limit_exceeded",
    "upload_slot_create",
    "upload_slot_use",
]
