from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cms.api.serializers import AccountRefSerializer
from cms.validators import one_line
from codes import text as code_text
from codes.models import Batch, Code, CodeState
from codes.rules import Reservation, code_state, reservation_of
from units.models import Unit

#: Most codes one bulk request may name.
MAX_BULK = 1000
#: Writes a time as every DateTimeField of the API does.
_moment = serializers.DateTimeField()


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["hardware_id", "name"]
        read_only_fields = fields


class CodeSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="display_text", read_only=True, help_text="The code, grouped for people.")
    state = serializers.SerializerMethodField(help_text="Derived from the code's fields and the clock.")
    holder = AccountRefSerializer(read_only=True)
    unit = UnitRefSerializer(read_only=True, allow_null=True)
    batch = serializers.PrimaryKeyRelatedField(read_only=True)
    usable_until = serializers.DateTimeField(
        read_only=True, allow_null=True,
        help_text="When the use-by day ends in the provider's time zone: a code never applied lapses then.",
    )

    reserved_for = serializers.SerializerMethodField(
        help_text="The address the code was e-mailed to, while it is kept for it: staff actions and automatic "
        "choices leave it alone until it is redeemed or the reservation is cancelled. Null when not reserved.",
    )
    reserved_at = serializers.SerializerMethodField(help_text="When the code was first e-mailed to that address.")

    class Meta:
        model = Code
        fields = [
            "code", "state", "period_days", "use_by", "usable_until", "holder", "unit", "batch",
            "activated_at", "expires_at", "revoked_at", "archived_at", "reserved_for", "reserved_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=CodeState.choices))
    def get_state(self, code: Code) -> str:
        # Lists annotate the state in SQL (codes.selectors.with_state); single codes compute it.
        return getattr(code, "state", None) or str(code_state(code))

    def _reservation(self, code: Code) -> Reservation | None:
        return reservation_of(code, state=self.get_state(code))

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_reserved_for(self, code: Code) -> str | None:
        reservation = self._reservation(code)
        return reservation.recipient if reservation else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_reserved_at(self, code: Code) -> str | None:
        reservation = self._reservation(code)
        return _moment.to_representation(reservation.since) if reservation else None


class CodeBriefSerializer(CodeSerializer):
    """A code as a unit shows it: no holder."""

    class Meta(CodeSerializer.Meta):
        fields = ["code", "state", "period_days", "activated_at", "expires_at"]
        read_only_fields = fields


class RedemptionSerializer(CodeSerializer):
    class Meta(CodeSerializer.Meta):
        fields = ["code", "state", "period_days", "unit", "activated_at", "expires_at"]
        read_only_fields = fields


class AttachSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=64, help_text="The unit's hardware id (IMEI or tracker id).")


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CodeListSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=MAX_BULK,
        help_text="Code texts, in any typing (case, dashes and spaces do not matter).",
    )


class ShareSerializer(CodeListSerializer):
    account = serializers.IntegerField(help_text="Id of the account below the holder that gets the codes.")


class RecallSerializer(CodeListSerializer):
    pass


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many codes changed.")


class RedeemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    unit = serializers.CharField(max_length=64, help_text="Hardware id of a unit your account owns.")


class BatchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Batch
        fields = [
            "id", "quantity", "generated_count", "period_days", "unit_price", "currency", "use_by", "note",
            "status", "created_by", "created_at",
        ]
        read_only_fields = fields


class BatchCreateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=settings.KEYLINE_MAX_BATCH)
    period_days = serializers.IntegerField(min_value=1, max_value=3660, help_text="Days each code keeps a unit active.")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, coerce_to_string=True)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3, help_text="ISO 4217, e.g. EUR.")
    use_by = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="", validators=[one_line])


def canonical(typed: str) -> str:
    return code_text.normalize(typed)
