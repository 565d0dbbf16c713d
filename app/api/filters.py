"""History filters: status, engine and a creation date range."""

import django_filters
from django.db.models import F
from rest_framework.filters import OrderingFilter

from app.models import Job, JobStatus


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    engine = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ["status", "engine", "created_after", "created_before"]


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
