"""Serializer conventions of the public API."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


def _json_type_error(field: serializers.Field, value) -> str | Promise | None:
    """Why `value` has the wrong JSON type for `field`, or None. DRF coerces (1 → "1", "yes" → true, 1 → a UUID);
    the API takes each value only in the type its schema gives (DESIGN §6)."""
    if value is None:
        return None  # the field itself decides whether null is allowed
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return _("Must be true or false.")
    if isinstance(field, serializers.CharField | serializers.UUIDField) and not isinstance(value, str):
        return _("Must be a text.")
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for item in value:
            error = _json_type_error(field.child, item)
            if error is not None:
                return error
    return None


class StrictSerializer(serializers.Serializer):
    """A request body that refuses fields it does not know, so that a typo ("enddate") is an error, not a no-op, and
    values of the wrong JSON type (a number for a text, "yes" for true), which DRF would otherwise coerce."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
            wrong_types = {
                name: [error]
                for name, field in self.fields.items()
                if name in data and (error := _json_type_error(field, data[name])) is not None
            }
            if wrong_types:
                raise serializers.ValidationError(wrong_types)
        return super().to_internal_value(data)


class OrganisationReferenceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
