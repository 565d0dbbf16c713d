"""The embedded broker: kombu's filesystem transport, with atomic message files.

kombu 5.7's filesystem transport creates a message file and then writes it;
a consumer polling the folder can move and read the file in between, get an
empty payload, fail to decode it and stop the worker, and the message is lost
(seen with bench/throughput.py at 10-50 ms polling). Here each message is
written to ``put-<uuid>.partial`` (a name no consumer picks up: kombu takes any
file whose name contains ``.<queue>.msg``) and then renamed to
``<name>.msg`` with :func:`os.replace`, which is atomic on POSIX file systems,
so a consumer only ever sees complete messages. The exchange tables (queue
bindings) are replaced atomically the same way.

Importing this module registers the transport for ``filesystem://`` URLs.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    """Filesystem channel whose ``_put`` publishes a message file atomically."""

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Not ``<name>.tmp``: kombu's ``_get`` picks files whose name merely *contains*
        # ``.<queue>.msg``, so it could move a file still being written.
        partial = os.path.join(self.data_folder_out, f"put-{uuid.uuid4().hex}.partial")
        try:
            with open(partial, "wb") as fh:
                fh.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        """Add a binding to the exchange table atomically (kombu rewrites it in place,
        so a process declaring the same queue at the same moment could read an empty
        or half-written table and route messages nowhere)."""
        table_file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with open(table_file.with_name(table_file.name + ".lock"), "ab") as guard:
            filesystem.lock(guard, filesystem.LOCK_EX)
            try:
                table = self.get_table(exchange)
                if binding not in table:
                    table.insert(0, binding)
                    partial = table_file.with_name(f"{table_file.name}.{uuid.uuid4().hex}.tmp")
                    partial.write_bytes(str_to_bytes(dumps(table)))
                    os.replace(partial, table_file)
            except OSError as exc:
                raise ChannelError(f"Cannot update {table_file}") from exc
            finally:
                filesystem.unlock(guard)


class Transport(filesystem.Transport):
    """kombu's filesystem transport with :class:`Channel`."""

    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = "onlineocr.broker:Transport"
