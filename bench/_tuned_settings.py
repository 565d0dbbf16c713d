"""Settings for a throughput experiment: ``onlineocr.settings`` plus persistent DB connections.

Not used by the service. ``bench/throughput.py --settings bench._tuned_settings``
runs the server and worker with it, to measure the effect of ``CONN_MAX_AGE``
(with health checks): with ``conn_max_age=0`` (the service's setting) every
Celery task and every request opens a new database connection.

(A faster polling interval of the embedded filesystem broker was tried too and
dropped: kombu's filesystem transport can read a message file between its
creation and its write, see README.md "Benchmarks".)
"""

from onlineocr.settings import *  # noqa: F403
from onlineocr.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 600
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
