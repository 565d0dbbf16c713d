"""History and batch list filters: status, engine, batch and a creation date range."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import F
from django_filters.fields import IsoDateTimeField
from rest_framework.filters import OrderingFilter

from app.models import Batch, Job, JobStatus


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC before it reaches the database.

    ISO 8601 allows any ``+hh:mm`` offset and Python keeps offsets up to 24 h,
    but PostgreSQL refuses offsets past 15:59 (a 500 on ``+20:34``); in UTC
    every database takes it. A value that leaves the calendar in UTC (year 1
    with a positive offset) is refused: 400 ``invalid``, not a 500.
    """

    def to_python(self, value):
        result = super().to_python(value)
        if result is None or result.tzinfo is None:
            return result
        try:
            return result.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError(
                "The date-time is out of range once in UTC.", code="invalid"
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """:class:`django_filters.IsoDateTimeFilter` with :class:`UtcIsoDateTimeField`."""

    field_class = UtcIsoDateTimeField


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    engine = django_filters.CharFilter()
    batch = django_filters.UUIDFilter(field_name="batch_id", help_text="Jobs of one batch.")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ["status", "engine", "batch", "created_after", "created_before"]


class NullsLastOrderingFilter(OrderingFilter):
    """``?ordering=`` with empty values (e.g. the duration of an unfinished job) always
    last, on every database (PostgreSQL would put them first in descending order)."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        exprs = [
            F(name[1:]).desc(nulls_last=True)
            if name.startswith("-")
            else F(name).asc(nulls_last=True)
            for name in ordering
        ]
        return queryset.order_by(*exprs)


class BatchFilter(django_filters.FilterSet):
    """``GET /api/batches/``: status, engine, a creation date range, as history, and
    ``search`` in the names of a batch's documents."""

    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    engine = django_filters.CharFilter()
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Batches with a document whose name contains this."
    )

    class Meta:
        model = Batch
        fields = ["status", "engine", "created_after", "created_before", "search"]

    def filter_search(self, queryset, name, value):
        # A subquery, not a join: a join on the jobs would multiply the per-batch counts.
        if not value:
            return queryset
        matching = Job.objects.filter(filename__icontains=value).values("batch_id")
        return queryset.filter(pk__in=matching)
