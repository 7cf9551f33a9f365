from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cms.api.serializers import AccountRefSerializer
from codes.api.serializers import CodeBriefSerializer
from units.filtersets import STATE_CHOICES
from units.models import Unit

#: The states a unit shows, as the Units window names them.
UNIT_STATES = STATE_CHOICES


class UnitSerializer(serializers.ModelSerializer):
    owner = AccountRefSerializer(read_only=True)
    state = serializers.SerializerMethodField(help_text="active exactly when one of the unit's codes is running now.")
    covered_until = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="End of the last running or scheduled code."
    )

    class Meta:
        model = Unit
        fields = ["hardware_id", "name", "device_type", "owner", "state", "covered_until", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=UNIT_STATES))
    def get_state(self, unit) -> str:
        return "active" if unit.active_now else "deactivated"


class UnitDetailSerializer(serializers.ModelSerializer):
    """A unit with its cover: the call a tracking server makes before accepting data from the unit."""

    # The view sets `unit.cover` (codes.cover.unit_cover) before serializing.

    owner = AccountRefSerializer(read_only=True)
    state = serializers.SerializerMethodField(help_text="active exactly when one of the unit's codes is running now.")
    covered_until = serializers.DateTimeField(
        source="cover.covered_until", allow_null=True, help_text="End of the last running or scheduled code."
    )
    days_left = serializers.IntegerField(source="cover.days_left", help_text="Whole days of cover left.")
    running = CodeBriefSerializer(source="cover.running", allow_null=True, help_text="The code running now, if any.")
    scheduled = CodeBriefSerializer(source="cover.scheduled", many=True, help_text="Codes queued behind it, in order.")

    class Meta:
        model = Unit
        fields = [
            "hardware_id", "name", "device_type", "owner", "state", "covered_until", "days_left", "running",
            "scheduled", "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=UNIT_STATES))
    def get_state(self, unit) -> str:
        return "active" if unit.cover.is_active else "deactivated"
