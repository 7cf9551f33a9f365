"""Creating and editing units. Their active state is written only by `codes.services`."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cms.actors import require_writer
from cms.errors import DomainError, NotFound
from cms.models import Account
from cms.validators import typed_text

from .models import Unit, normalize_hardware_id
from .status_cache import status_forget


def unit_create(*, actor, owner: Account, name: str, hardware_id: str, device_type: str = "") -> Unit:
    """A new, deactivated unit owned by an account in the actor's part of the tree."""
    account = require_writer(actor)
    if not account.contains(owner):
        raise NotFound(_("No such account in your part of the network."))
    if owner.is_provider:
        raise DomainError(_("Units belong to a reseller or a customer, not to the provider."), code="validation_error")
    hardware_id = normalize_hardware_id(typed_text(hardware_id, label=_("Hardware id")))
    name, device_type = typed_text(name, label=_("Name")), typed_text(device_type, label=_("Device type"))
    if not hardware_id or not name:
        raise DomainError(_("A unit needs a name and a hardware id."), code="validation_error")
    provider_id = Account.objects.get(path=owner.provider_path).pk
    try:
        with transaction.atomic():
            return Unit.objects.create(
                provider_id=provider_id, owner=owner, name=name, hardware_id=hardware_id, device_type=device_type
            )
    except IntegrityError:
        raise DomainError(
            _("A unit with hardware id %(hardware_id)s already exists.") % {"hardware_id": hardware_id},
            code="validation_error",
        ) from None


def unit_update(*, actor, unit: Unit, name: str, device_type: str = "") -> Unit:
    account = require_writer(actor)
    with transaction.atomic():
        unit = Unit.objects.select_for_update().select_related("owner").get(pk=unit.pk)
        if not account.contains(unit.owner):
            raise NotFound()
        name = typed_text(name, label=_("Name"))
        if not name:
            raise DomainError(_("A unit needs a name."), code="validation_error")
        unit.name, unit.device_type = name, typed_text(device_type, label=_("Device type"))
        unit.save(update_fields=["name", "device_type"])
        status_forget([(unit.owner.path, unit.hardware_id)])
        return unit
