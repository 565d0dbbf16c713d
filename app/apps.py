from django.apps import AppConfig


class OcrAppConfig(AppConfig):
    name = "app"
    label = "ocr"
    verbose_name = "OCR"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from app.signals import batch_finished, job_finished

        job_finished.connect(_batch_job_ended, dispatch_uid="ocr.batch_job_ended")
        job_finished.connect(_job_webhooks, dispatch_uid="ocr.job_webhooks")
        batch_finished.connect(_batch_webhooks, dispatch_uid="ocr.batch_webhooks")


def _batch_job_ended(sender, *, job_id, **kwargs) -> None:
    """A job ended: its batch (if any) tops its window up and may end
    (``services.batches.batch_job_ended``)."""
    from app.services.batches import batch_job_ended

    batch_job_ended(job_id=job_id)


def _job_webhooks(sender, *, job_id, status, **kwargs) -> None:
    """A job ended: its ``job.<status>`` webhook messages (``services.webhooks``)."""
    from app.services.webhooks import job_event

    job_event(job_id=job_id, status=status)


def _batch_webhooks(sender, *, batch_id, **kwargs) -> None:
    """A batch ended: its ``batch.done`` webhook messages (``services.webhooks``)."""
    from app.services.webhooks import batch_event

    batch_event(batch_id=batch_id)
