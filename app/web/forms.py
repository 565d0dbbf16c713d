"""Forms of the browser pages: registration, the history and batch filters, "Run again",
API keys."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.utils import dateformat, timezone

from app.models import Batch, Job, JobStatus

#: Codes of the browser forms' own validation errors (Django's ``ValidationError.code``,
#: read back with ``form.has_error``). They stay on the page: the API's error codes are
#: app/errors.py's table, which these are not part of.
INVERTED_RANGE = "inverted_range"
TOO_MANY = "too_many"


class RegisterForm(UserCreationForm):
    """Sign-up: user name, e-mail and password twice (Django's password validators)."""

    email = forms.EmailField(required=True, help_text="Used only to reach you about your account.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


def _human_date(day: date) -> str:
    """A date as the list shows dates ("3 Jan 2026")."""
    return dateformat.format(day, "j M Y")


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

    def clean(self) -> dict[str, Any]:
        """An inverted date range is an error on "To", and neither date applies: the
        list is not silently empty, the form says what is wrong (and how to fix it)."""
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            data.pop("date_from")
            self.add_error(
                "date_to",
                forms.ValidationError(
                    "“To” (%(end)s) is before “From” (%(start)s): "
                    "swap the dates, or clear one of them.",
                    code=INVERTED_RANGE,
                    params={"start": _human_date(start), "end": _human_date(end)},
                ),
            )
        return data

    def apply(self, rows: QuerySet) -> QuerySet:
        """``rows`` narrowed by the filters that are valid (an invalid one is left out
        and its error shown; all of ``rows`` if none is set)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
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

    #: Fields that narrow the list (not, e.g., the sort order).
    FILTER_FIELDS: tuple[str, ...] = ("q", "status", "date_from", "date_to")

    @property
    def is_filtered(self) -> bool:
        """Whether a valid filter narrows the list (the empty state says "no match"
        instead of "none", the count "match your filters")."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) for name in self.FILTER_FIELDS)

    @property
    def has_input(self) -> bool:
        """Whether any filter was given at all, valid or not (offer "Reset")."""
        return self.is_bound and any(self.data.get(name) for name in self.FILTER_FIELDS)

    @property
    def swapped_dates_query(self) -> str:
        """The query string with "From" and "To" swapped, for an inverted range ("" if
        the range is not inverted)."""
        if not self.has_error("date_to", INVERTED_RANGE):
            return ""
        query = self.data.copy()
        query["date_from"], query["date_to"] = self.data["date_to"], self.data["date_from"]
        query.pop("page", None)
        return query.urlencode()


#: History's sort orders (``?ordering=``, the names of the API's ``ordering``), as the
#: phone layout's menu lists them; the first is the default.
HISTORY_ORDERINGS = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("filename", "Name, A to Z"),
    ("-filename", "Name, Z to A"),
    ("status", "Status, A to Z"),
    ("-status", "Status, Z to A"),
    ("-page_count", "Most pages first"),
    ("page_count", "Fewest pages first"),
    ("-duration", "Slowest first"),
    ("duration", "Fastest first"),
]
#: Sortable columns whose first click sorts descending (largest or newest first).
_DESCENDING_FIRST = ("created_at", "page_count", "duration")


class HistoryFilterForm(_ListFilterForm):
    """History's filters: search over name and text, status, engine, creation date
    range; and the sort order (``ordering``, a column, ``-`` for descending).

    ``engines``: (name, label) of the engines the user's jobs used, offered by the
    engine filter.
    """

    engine = forms.ChoiceField(required=False, label="Engine")
    ordering = forms.ChoiceField(required=False, label="Sort by", choices=HISTORY_ORDERINGS)

    FILTER_FIELDS = ("q", "status", "engine", "date_from", "date_to")
    field_order = ("q", "status", "engine", "date_from", "date_to", "ordering")

    def __init__(self, *args: Any, engines: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["engine"].choices = [("", "Any engine"), *(engines or [])]

    def _search(self, rows: QuerySet[Job], text: str) -> QuerySet[Job]:
        return rows.filter(Q(filename__icontains=text) | Q(text__icontains=text))

    def apply(self, rows: QuerySet[Job]) -> QuerySet[Job]:
        """The filtered jobs (:meth:`_ListFilterForm.apply`), of ``engine`` if one is
        chosen, in the chosen order; empty values (the duration of an unfinished job)
        sort last either way, as in the API; newest first among equals."""
        rows = super().apply(rows)
        engine = getattr(self, "cleaned_data", {}).get("engine")
        if engine:
            rows = rows.filter(engine=engine)
        ordering = self.sort_order
        name = ordering.lstrip("-")
        first = (
            F(name).desc(nulls_last=True) if ordering[0] == "-" else F(name).asc(nulls_last=True)
        )
        return rows.order_by(first, "-created_at", "-pk")

    @property
    def sort_order(self) -> str:
        """The valid sort order asked for, else the default (newest first)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("ordering") or HISTORY_ORDERINGS[0][0]

    def sort_links(self, query: QueryDict) -> dict[str, dict[str, str]]:
        """Per sortable column (``filename``, ``status``, ``page_count``, ``duration``,
        ``created_at``): ``url``, the query string (from ``query``, back to page 1)
        that sorts by it, the other way round if it already is; ``sort``, the
        ``aria-sort`` value ("ascending", "descending", or "" when not sorted by it)."""
        current = self.sort_order
        links = {}
        for name in ("filename", "status", "page_count", "duration", "created_at"):
            if current == name:
                sort, target = "ascending", f"-{name}"
            elif current == f"-{name}":
                sort, target = "descending", name
            else:
                sort, target = "", f"-{name}" if name in _DESCENDING_FIRST else name
            linked = query.copy()
            linked.pop("page", None)
            linked["ordering"] = target
            links[name] = {"url": "?" + linked.urlencode(), "sort": sort}
        return links


class BulkDeleteForm(forms.Form):
    """History's "Delete selected": the ids of the chosen jobs (``ids``, repeated), the
    query string of the list to go back to (``next``) and ``confirm`` once the person
    said yes. Ids that are not UUIDs are dropped here; whose jobs they are is the
    view's to check."""

    #: At most this many jobs at once (a history page shows 20).
    MAX_IDS = 100

    next = forms.CharField(required=False, max_length=2000)
    confirm = forms.CharField(required=False)

    def __init__(self, data: QueryDict, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.ids: list[uuid.UUID] = []
        for value in data.getlist("ids"):
            try:
                job_id = uuid.UUID(str(value))
            except ValueError:
                continue
            if job_id not in self.ids:
                self.ids.append(job_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if len(self.ids) > self.MAX_IDS:
            raise forms.ValidationError(
                "At most %(max)d jobs can be deleted at once.",
                code=TOO_MANY,
                params={"max": self.MAX_IDS},
            )
        return data

    @property
    def confirmed(self) -> bool:
        """Whether the person confirmed (the dialog or the confirmation page)."""
        return self.cleaned_data.get("confirm") == "yes"

    @property
    def back_query(self) -> str:
        """``next`` re-encoded as a query string of history's own parameters only."""
        given = QueryDict(self.cleaned_data.get("next", "").lstrip("?"))
        back = QueryDict(mutable=True)
        for name in (*HistoryFilterForm.base_fields, "page"):
            if given.get(name):
                back[name] = given[name]
        return back.urlencode()


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
