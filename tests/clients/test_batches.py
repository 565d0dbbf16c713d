"""Batches (``/api/batches/``) through the client and the CLI, against the real service.

Written against the agreed contract: POST ``/api/batches/`` answers 202 with
``{"id","url","status","created_at","finished_at","job_count","counts",
"page_count","pages_done","metadata","jobs":[...]}``; ``?wait=N`` long-polls;
``/cancel/``, DELETE, ``/export/?format=`` streams a zip; a batch with a bad document
is refused whole, naming the item (``image[i]`` / ``items[i]``) in ``field``.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from onlineocr_client import Batch, ConflictError, InvalidDocumentError, NotFoundError
from onlineocr_client.cli import main

from tests.clients.conftest import write_page
from tests.imaging import cer, render_text, text_pdf

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_batch_of_files_runs_to_done_and_exports_a_zip(client, celery_worker, tmp_path):
    pages = [
        write_page(tmp_path, f"{name}.png", [f"Batch page {name}"])
        for name in ("one", "two", "three")
    ]
    batch = client.batch([path for path, _ in pages], languages="eng", metadata={"run": 1}, psm=3)
    assert isinstance(batch, Batch)
    assert batch.status in ("pending", "processing") and batch.job_count == 3
    assert [j.filename for j in batch.jobs] == ["one.png", "two.png", "three.png"]
    assert batch.metadata == {"run": 1}
    seen: list[Batch] = []
    done = client.wait_batch(batch.id, timeout=60, on_progress=seen.append)
    assert done.status == "done" and seen[-1].status == "done"
    assert done.counts.done == 3 and done.counts.failed == 0 and done.counts.pending == 0
    assert done.page_count == 3 and done.pages_done == 3
    assert done.finished_at is not None
    for (_, rendered), item in zip(pages, done.jobs, strict=True):
        assert item.status == "done"
        assert cer(rendered.text, client.get(item.id).text) < 0.05

    archive = client.export_batch(batch.id, "txt", tmp_path / "batch.zip")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert len(names) == 3
        texts = sorted(zf.read(name).decode() for name in names)
    assert texts == sorted(client.get(item.id).text for item in done.jobs)
    assert batch.id in [b.id for b in client.batches(page_size=1)]
    assert client.get_batch(batch.id).status == "done"


def test_a_json_batch_of_bytes_and_urls_with_metadata(client, celery_worker, httpserver, settings):
    settings.OCR_URL_ALLOW_PRIVATE = True
    fetched = render_text(["Fetched for the batch"])
    httpserver.expect_request("/page.png").respond_with_data(
        fetched.png(), content_type="image/png"
    )
    inline = render_text(["Sent inline in the batch"])
    batch = client.batch(
        [
            {"document": inline.png(), "filename": "inline.png", "metadata": {"n": 1}},
            httpserver.url_for("/page.png"),
        ],
        metadata={"source": "test"},
    )
    assert batch.job_count == 2 and batch.metadata == {"source": "test"}
    done = client.wait_batch(batch.id, timeout=60)
    assert done.status == "done"
    first, second = (client.get(item.id) for item in done.jobs)
    assert first.filename == "inline.png" and first.metadata == {"n": 1}
    assert cer(inline.text, first.text) < 0.05
    assert cer(fetched.text, second.text) < 0.05


def test_a_batch_with_a_bad_document_is_refused_naming_it(client, tmp_path):
    good, _ = write_page(tmp_path, "good.png", ["Good page"])
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all\n" * 20)
    with pytest.raises(InvalidDocumentError) as exc:
        client.batch([good, bad])
    assert exc.value.code == "unsupported_format" and exc.value.status == 415
    assert exc.value.field == "image[1]"
    with pytest.raises(InvalidDocumentError) as exc:
        client.batch([render_text(["ok"]).png(), b"not an image either"])
    assert exc.value.field == "items[1]"
    assert list(client.batches()) == []  # nothing was stored


def test_batches_are_idempotent_and_their_jobs_are_in_history(client, celery_worker):
    png = render_text(["Once only"]).png()
    first = client.batch([png, png], idempotency_key="nightly-2026-01-02")
    again = client.batch([png, png], idempotency_key="nightly-2026-01-02")
    assert again.id == first.id
    assert sorted(j.id for j in client.history(batch=first.id)) == sorted(j.id for j in first.jobs)
    client.wait_batch(first.id, timeout=60)
    with pytest.raises(ConflictError) as exc:
        client.cancel_batch(first.id)
    assert exc.value.code == "already_finished"


def test_cancel_and_delete_a_batch(client, celery_worker):
    batch = client.batch([io.BytesIO(text_pdf(6)), io.BytesIO(text_pdf(6))])
    canceled = client.cancel_batch(batch.id)
    assert canceled.status == "canceled"
    assert canceled.counts.canceled >= 1
    client.delete_batch(batch.id)
    with pytest.raises(NotFoundError):
        client.get_batch(batch.id)
    for item in batch.jobs:
        with pytest.raises(NotFoundError):
            client.get(item.id)


def test_the_cli_sends_batches(live_server, api_key, client, celery_worker, tmp_path, capsys):
    a, rendered_a = write_page(tmp_path, "first.png", ["First of the batch"])
    b, rendered_b = write_page(tmp_path, "second.png", ["Second of the batch"])
    out_dir = tmp_path / "out"
    argv = ["--url", live_server.url, "--api-key", api_key, "ocr", str(a), str(b)]
    code = main([*argv, "-o", str(out_dir), "--batch"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert cer(rendered_a.text, (out_dir / "first.txt").read_text()) < 0.05
    assert cer(rendered_b.text, (out_dir / "second.txt").read_text()) < 0.05
    assert "2 done, 0 skipped, 0 failed" in err
    assert client.get_batch(next(client.batches()).id).job_count == 2

    # more files than --batch-size: several batches, one after another; done ones skipped
    c, _ = write_page(tmp_path, "third.png", ["Third of the batch"])
    d, _ = write_page(tmp_path, "fourth.png", ["Fourth of the batch"])
    e, _ = write_page(tmp_path, "fifth.png", ["Fifth of the batch"])
    more = [str(c), str(d), str(e)]
    code = main([*argv, *more, "-o", str(out_dir), "--batch", "--batch-size", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "3 done, 2 skipped, 0 failed" in err
    assert [b.job_count for b in client.batches()] == [1, 2, 2]


def test_the_cli_names_the_file_that_made_a_batch_refused(live_server, api_key, tmp_path, capsys):
    good, _ = write_page(tmp_path, "fine.png", ["Fine"])
    bad = tmp_path / "junk.png"
    bad.write_bytes(b"junk\n" * 50)
    argv = ["--url", live_server.url, "--api-key", api_key, "ocr", str(good), str(bad)]
    code = main([*argv, "-o", str(tmp_path / "out"), "--batch"])
    _, err = capsys.readouterr()
    assert code == 1
    lines = {line.split("\t")[1]: line for line in err.splitlines() if line.startswith("failed")}
    assert "unsupported_format" in lines[str(bad)]
    assert "batch_refused" in lines[str(good)] and "junk.png" in lines[str(good)]
    assert not list((tmp_path / "out").iterdir())
