"""Account changes that reach codes: a customer moving to another reseller hands over the codes
its old branch put on its units."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import event_record
from cms.authentication import tokens_forget
from cms.errors import DomainError
from cms.models import Account, ApiToken
from cms.services import in_scope, require_admin
from units.models import Unit

from ..models import Code
from .locks import lock_codes, lock_units
from .sharing import move_holder


def account_move_customer(*, actor, customer: Account, new_parent: Account, now=None) -> Account:
    """Move a customer, with its units, below another reseller (or the provider) of the actor's
    part of the tree.

    Its units and the codes it holds move with it (the path changes, no row of theirs does), so
    every code keeps running. Invariant 4 says a code sits only on a unit inside its holder's
    subtree: a code on one of the customer's units that is held by an account of the old branch
    which does not also contain the new parent (typically the old reseller, which attached its
    own stock to the customer's units) would break it after the move. Such a code is handed to
    the customer itself -- the customer is the one using it, and the old branch loses sight of
    the customer anyway -- and that hand-over is written to the audit log as a `shared` entry
    (from the old holder to the customer, details `{"reason": "customer_moved"}`). Codes held
    by an account above both the old and the new parent (the provider, say) stay where they are.
    """
    now = now or timezone.now()
    scope = require_admin(actor)
    in_scope(scope, customer, strictly=True)
    in_scope(scope, new_parent)
    if not customer.is_customer:
        raise DomainError(_("Only a customer can be moved to another reseller."), code="validation_error")
    if new_parent.is_customer:
        raise DomainError(_("A customer has no accounts below it."), code="validation_error")
    if not new_parent.is_active:
        raise DomainError(_("%(account)s is disabled.") % {"account": new_parent.name}, code="validation_error")
    if customer.path[: -customer.steplen] == new_parent.path:
        raise DomainError(
            _("%(customer)s is already below %(parent)s.") % {"customer": customer.name, "parent": new_parent.name},
            code="validation_error",
        )
    with transaction.atomic():
        # Units before codes, each in primary-key order, like every code service.
        units = lock_units(Unit.objects.filter(owner=customer).values_list("pk", flat=True))
        codes = lock_codes(Code.objects.filter(unit_id__in=list(units)).values_list("pk", flat=True))
        customer = Account.objects.select_for_update().get(pk=customer.pk)
        old_parent = Account.objects.get(path=customer.path[: -customer.steplen])
        new_parent = Account.objects.get(pk=new_parent.pk)
        to_hand_over = [
            code
            for code in codes.values()
            if code.holder_id != customer.pk and not code.holder.contains(new_parent)
        ]
        tokens_forget(ApiToken.objects.filter(user__account__path__startswith=customer.path))
        Account.objects.move(customer, new_parent, pos="last-child")
        customer = Account.objects.get(pk=customer.pk)
        # From the old parent, so the branch it left still finds the move in its report.
        event_record(
            action=Action.ACCOUNT_MOVED, actor=actor, occurred_at=now, account=customer,
            from_account=old_parent, to_account=new_parent,
        )
        move_holder(
            to_hand_over, to=customer, action=Action.SHARED, actor=actor, now=now,
            details={"reason": "customer_moved", "new_parent": new_parent.pk},
        )
    return customer
