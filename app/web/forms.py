"""Forms of the browser pages: registration, the history and batch filters, "Run again",
API keys."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from app.models import Batch, Job, JobStatus


class RegisterForm(UserCreationForm):
    """Sign-up: user name, e-mail and password twice (Django's password validators)."""

    email = forms.EmailField(required=True, help_text="Used only to reach you about your account.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class _ListFilterForm(forms.Form):
    """Search text, status and a creation date range (inclusive), as the history and
    batch lists filter; :meth:`_search` says what the text looks in."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *JobStatus.choices], label="Status"
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def _search(self, rows: QuerySet, text: str) -> QuerySet:
        raise NotImplementedError

    def apply(self, rows: QuerySet) -> QuerySet:
        """``rows`` narrowed by the valid filters (all of ``rows`` if none are valid)."""
        if not self.is_valid():
            return rows
        data = self.cleaned_data
        if data.get("q"):
            rows = self._search(rows, data["q"])
        if data.get("status"):
            rows = rows.filter(status=data["status"])
        zone = timezone.get_current_timezone()
        if data.get("date_from"):
            start = datetime.combine(data["date_from"], time.min, tzinfo=zone)
            rows = rows.filter(created_at__gte=start)
        if data.get("date_to"):
            end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=zone)
            rows = rows.filter(created_at__lt=end)
        return rows

    @property
    def is_filtered(self) -> bool:
        """Whether any filter is set (the empty state says "no match" instead of "none")."""
        return self.is_valid() and any(self.cleaned_data.values())


class HistoryFilterForm(_ListFilterForm):
    """History's filters: search over name and text, status, creation date range."""

    def _search(self, rows: QuerySet[Job], text: str) -> QuerySet[Job]:
        return rows.filter(Q(filename__icontains=text) | Q(text__icontains=text))


class BatchFilterForm(_ListFilterForm):
    """The batch list's filters: a document's name, the batch's status, a creation date
    range. The name search goes through a subquery of jobs, so the batches' annotated
    counts (``selectors.batches_visible_to``) are not multiplied by a join."""

    def _search(self, rows: QuerySet[Batch], text: str) -> QuerySet[Batch]:
        named = Job.objects.filter(batch__isnull=False, filename__icontains=text)
        return rows.filter(pk__in=named.values("batch_id"))


#: The fields of the job page's "Run again" form (the API's ``JobRerunSerializer`` checks them).
RERUN_FIELDS = ("engine", "languages", "psm", "pages")


def rerun_request(post: QueryDict) -> QueryDict:
    """The "Run again" form as the submission serializer reads a form: one value per field.

    The language checkboxes (``languages`` given once per language) become one
    ``eng+deu`` value; fields the form did not send are left out (they keep the job's).
    """
    data = QueryDict(mutable=True)
    for name in RERUN_FIELDS:
        if name == "languages":
            codes = [code for code in post.getlist(name) if code]
            if codes:
                data[name] = "+".join(codes)
        elif name in post:
            data[name] = post[name]
    return data


class ApiKeyForm(forms.Form):
    """A new API key: its name and how long it lasts."""

    #: (value, label) of the expiry choices: days from now, "" for never.
    EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]

    name = forms.CharField(
        max_length=50,
        label="Name",
        help_text="What the key is for, e.g. “nightly scan import”.",
    )
    expires = forms.ChoiceField(
        choices=EXPIRY_CHOICES, required=False, label="Expires", initial="90"
    )

    def clean_name(self) -> str:
        from app.files import control_character

        name = self.cleaned_data["name"].strip()
        char = control_character(name)
        if char is not None:
            raise forms.ValidationError(f"A key name cannot contain control characters ({char!r}).")
        return name

    @property
    def expires_at(self) -> datetime | None:
        """When the key expires (from the cleaned form), or None for never."""
        days = self.cleaned_data.get("expires")
        return timezone.now() + timedelta(days=int(days)) if days else None
