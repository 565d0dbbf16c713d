"""Python client and command line tool for the onlineocr OCR web service.

>>> from onlineocr_client import Client
>>> with Client("http://127.0.0.1:8000", api_key="...") as ocr:
...     job = ocr.ocr("scan.png", languages="eng+deu")
...     print(job.text)

See :class:`Client` for every call, :mod:`onlineocr_client.models` for the typed
results and :mod:`onlineocr_client.errors` for the exceptions.
"""

__version__ = "0.1.0"

from onlineocr_client.client import EXPORT_FORMATS, Client  # noqa: E402
from onlineocr_client.errors import (  # noqa: E402
    ApiConnectionError,
    AuthenticationError,
    ConflictError,
    InvalidDocumentError,
    InvalidRequestError,
    JobFailedError,
    NotFoundError,
    OnlineOcrError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WaitTimeout,
    WebhookVerificationError,
)
from onlineocr_client.models import (  # noqa: E402
    ApiKey,
    Batch,
    BatchCounts,
    BatchJob,
    Block,
    Document,
    Engine,
    Job,
    JobError,
    JobPage,
    Line,
    Page,
    Word,
)
from onlineocr_client.webhooks import verify_webhook  # noqa: E402

__all__ = [
    "EXPORT_FORMATS",
    "ApiConnectionError",
    "ApiKey",
    "AuthenticationError",
    "Batch",
    "BatchCounts",
    "BatchJob",
    "Block",
    "Client",
    "ConflictError",
    "Document",
    "Engine",
    "InvalidDocumentError",
    "InvalidRequestError",
    "Job",
    "JobError",
    "JobFailedError",
    "JobPage",
    "Line",
    "NotFoundError",
    "OnlineOcrError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "WaitTimeout",
    "WebhookVerificationError",
    "Word",
    "__version__",
    "verify_webhook",
]
