from django.apps import AppConfig


class OcrAppConfig(AppConfig):
    name = "app"
    label = "ocr"
    verbose_name = "OCR"
    default_auto_field = "django.db.models.BigAutoField"
