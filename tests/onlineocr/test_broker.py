"""The embedded broker never hands out a half-written message."""

import contextlib
import threading
from time import monotonic

import pytest
from kombu import Connection, Exchange, Queue

import onlineocr.broker  # noqa: F401  (registers the transport)

pytestmark = [pytest.mark.django_db(databases=[]), pytest.mark.embedded]


def test_filesystem_url_uses_the_atomic_transport(tmp_path):
    with Connection(
        "filesystem://",
        transport_options={"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)},
    ) as c:
        assert type(c.transport).__module__ == "onlineocr.broker"


def test_a_fast_consumer_gets_every_message_whole(tmp_path):
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "polling_interval": 0.0005,
    }
    (tmp_path / "control").mkdir()
    count = 400
    queue = "atomic-test"
    received: list[dict] = []
    errors: list[BaseException] = []

    deadline = monotonic() + 170

    def consume() -> None:
        try:
            with Connection("filesystem://", transport_options=options) as conn:
                simple = conn.SimpleQueue(queue)
                while len(received) < count and monotonic() < deadline:
                    # A quiet spell is not a failure (CI once saw 20 s without a message
                    # on a loaded machine); a lost or torn message is, and shows below.
                    with contextlib.suppress(simple.Empty):
                        message = simple.get(timeout=5)
                        received.append(message.payload)
                        message.ack()
        except BaseException as exc:  # reported below
            errors.append(exc)

    consumer = threading.Thread(target=consume)
    consumer.start()
    big = "x" * 200_000  # large payloads widen the window of a non-atomic write
    # A plain producer, as the web process has (a SimpleQueue here would also register
    # a consumer in this process and take messages meant for the other thread).
    target = Queue(queue, Exchange(queue), routing_key=queue)
    with Connection("filesystem://", transport_options=options) as conn:
        producer = conn.Producer(serializer="json")
        for i in range(count):
            producer.publish(
                {"n": i, "pad": big}, exchange=target.exchange, routing_key=queue, declare=[target]
            )
    # Generous: on a loaded 2-core machine the consumer once had 364 of the 400 messages
    # at a 60 s deadline, with none left on disk (slow, not lost: it was still reading).
    consumer.join(timeout=180)
    assert not consumer.is_alive(), (len(received), len(list(tmp_path.glob("*.msg"))))
    assert not errors, (errors, len(received), len(list(tmp_path.glob("*.msg"))))
    assert len(received) == count, (len(received), len(list(tmp_path.glob("*.msg"))))
    assert sorted(m["n"] for m in received) == list(range(count))
    assert all(m["pad"] == big for m in received)
    assert not list(tmp_path.glob("*.partial"))
