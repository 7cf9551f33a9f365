from rest_framework import serializers

from cms.models import Account


class AccountRefSerializer(serializers.ModelSerializer):
    """An account as other resources point to it."""

    class Meta:
        model = Account
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class AccountSerializer(serializers.ModelSerializer):
    parent = serializers.IntegerField(
        source="parent_id", allow_null=True, read_only=True, help_text="The account above (null for the provider)."
    )

    class Meta:
        model = Account
        fields = ["id", "name", "kind", "parent", "depth", "time_zone", "is_active", "created_at"]
        read_only_fields = fields
