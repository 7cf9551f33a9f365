from rest_framework import serializers

from audit.models import Event


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True, help_text="Username, or system / anonymous.")
    code = serializers.SerializerMethodField()
    unit = serializers.SlugRelatedField(slug_field="hardware_id", read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id", "occurred_at", "action", "actor", "actor_account", "account", "from_account", "to_account",
            "code", "unit", "batch", "activated_at", "expires_at", "period_days", "client_address", "details",
        ]
        read_only_fields = fields

    def get_code(self, event) -> str | None:
        return event.code.display_text if event.code_id else None
