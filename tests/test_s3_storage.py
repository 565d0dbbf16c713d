"""Uploads in an S3-compatible bucket: a real server (moto's server mode) on loopback,
a real worker process reading the upload from the bucket, no shared media folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.test import override_settings

from tests.conftest import start_worker, wait_for_job
from tests.imaging import cer, render_text, text_pdf

pytestmark = [pytest.mark.worker, pytest.mark.slow]
MOTO = Path(sys.executable).parent / "moto_server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[str]:
    if not MOTO.exists():
        pytest.skip("moto[server] is not installed")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc = subprocess.Popen(
        [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A fresh bucket on the S3 server and the settings that point at it: returns
    (``env`` for workers, ``STORAGES`` for this process, a boto3 client, the queue)."""
    import boto3

    name, queue = f"ocr-{uuid.uuid4().hex[:8]}", f"s3-{uuid.uuid4().hex[:8]}"
    env = {
        "OCR_STORAGE": "s3",
        "OCR_S3_BUCKET": name,
        "OCR_S3_ENDPOINT_URL": s3_server,
        "OCR_S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    from onlineocr.settings import s3_storage_options

    storages = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_storage_options()},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return env, storages, client, queue


def test_a_worker_reads_the_upload_from_the_bucket_and_deleting_the_job_empties_it(
    bucket, transactional_db, auth_client, tmp_path
):
    env, storages, client, queue = bucket
    name = env["OCR_S3_BUCKET"]
    # The worker gets its own empty media folder: the file can only come from the bucket.
    empty_media = tmp_path / "no-shared-disk"
    empty_media.mkdir()
    worker_log = tmp_path / "worker.log"
    worker = start_worker(
        worker_log,
        concurrency=1,
        queue=queue,
        env_extra={**env, "OCR_MEDIA_ROOT": str(empty_media)},
    )
    try:
        png = render_text(["Stored in a bucket"]).png()
        with override_settings(STORAGES=storages, OCR_QUEUE=queue, OCR_PROVIDER_QUEUE=queue):
            r = auth_client.post("/api/ocr/", {"image": _upload(png)})
            assert r.status_code == 202, r.content
            job = wait_for_job(r.json()["id"], timeout=60)
            assert job.status == "done", (job.error_code, job.error_message, worker.output())
            assert "bucket" in job.text.lower()
            key = job.file.name
            assert client.get_object(Bucket=name, Key=key)["Body"].read() == png
            assert list(empty_media.iterdir()) == []
            assert auth_client.delete(f"/api/ocr/{job.id}/").status_code == 204
        assert client.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0
    finally:
        worker.stop()
        shutil.rmtree(empty_media, ignore_errors=True)


def test_the_pages_of_one_job_run_on_two_hosts_that_share_no_disk(
    bucket, transactional_db, auth_client, tmp_path
):
    """Page fan-out with OCR_STORAGE=s3: two workers, each with an empty media folder of its
    own (two hosts), read the pages of one PDF from the bucket; every page once."""
    from app.models import PageTask

    env, storages, _, queue = bucket
    env = {**env, "OCR_PAGE_WINDOW": "2"}
    workers, folders = [], []
    try:
        for host in ("a", "b"):
            media = tmp_path / f"host-{host}"
            media.mkdir()
            folders.append(media)
            workers.append(
                start_worker(
                    tmp_path / f"worker-{host}.log",
                    concurrency=1,
                    queue=queue,
                    env_extra={**env, "OCR_MEDIA_ROOT": str(media)},
                )
            )
        pdf = text_pdf(4, "read from the bucket by two hosts.")
        with override_settings(STORAGES=storages, OCR_QUEUE=queue, OCR_PROVIDER_QUEUE=queue):
            r = auth_client.post("/api/ocr/", {"image": _upload(pdf, "four.pdf")})
            assert r.status_code == 202, r.content
            job = wait_for_job(r.json()["id"], timeout=120)
            outputs = "\n".join(w.output()[-3000:] for w in workers)
            assert job.status == "done", (job.error_code, job.error_message, outputs)
            pages = auth_client.get(f"/api/ocr/{job.id}/pages/").json()
        assert [p["number"] for p in pages] == [1, 2, 3, 4]
        for number, page in enumerate(pages, 1):
            expected = f"Page {number} of a document\nread from the bucket by two hosts."
            assert cer(expected, page["text"]) < 0.1, page["text"]
        hosts = set(PageTask.objects.filter(job=job).values_list("worker", flat=True))
        assert len(hosts) == 2, hosts  # both hosts read pages of the one job
        assert all(list(folder.iterdir()) == [] for folder in folders)
    finally:
        for worker in workers:
            worker.stop()


def _upload(data: bytes, name: str = "bucket.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    kind = "application/pdf" if name.endswith(".pdf") else "image/png"
    return SimpleUploadedFile(name, data, content_type=kind)
