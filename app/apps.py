from django.apps import AppConfig


class OcrAppConfig(AppConfig):
    name = "app"
    label = "ocr"
    verbose_name = "OCR"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from app.signals import job_finished

        job_finished.connect(_batch_job_ended, dispatch_uid="ocr.batch_job_ended")


def _batch_job_ended(sender, *, job_id, **kwargs) -> None:
    """A job ended: its batch (if any) tops its window up and may end
    (``services.batches.batch_job_ended``)."""
    from app.services.batches import batch_job_ended

    batch_job_ended(job_id=job_id)
