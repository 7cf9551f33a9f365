"""The service layer for codes: every change to a code, and to the unit states codes decide.

Each public function takes keyword-only arguments and the acting user (or `cms.actors.SYSTEM`),
checks the actor's rights and the rules (`codes.rules`), locks the rows it changes
(`codes.services.locks`), writes the audit entries in the same transaction, and raises
`cms.errors.DomainError` on refusal. Bulk functions are all or nothing: they check every row and,
when any is refused, raise with the complete list and change nothing.

By concern: `batches` (creating codes), `sharing` (share, recall, revoke), `attaching` (attach,
release), `redemption` (end customers), `expiry` (the clock's jobs), `mail` (codes sent by e-mail
and reserved for their recipient, notice mails), `notices`, `accounts` (account changes that reach
codes).
"""

from .accounts import account_move_customer
from .attaching import Released, code_attach, code_release, codes_attach, codes_release
from .batches import batch_fill, batch_generate, batches_resume_stalled
from .expiry import ExpiryRun, codes_archive_expired, codes_expire_due
from .mail import (
    code_reservation_cancel,
    codes_mail_build,
    codes_reservation_cancel,
    codes_send_by_email,
    notices_mail_due,
)
from .notices import notice_create, notice_delete, notice_update, notices_mark_seen
from .redemption import RedeemPreview, code_redeem, redeem_preview, redeem_refusal_record
from .sharing import code_recall, code_revoke, code_share, codes_recall, codes_revoke, codes_share

__all__ = [
    "ExpiryRun", "RedeemPreview", "Released", "account_move_customer", "batch_fill", "batch_generate",
    "batches_resume_stalled", "code_attach", "code_recall", "code_redeem", "code_release",
    "code_reservation_cancel", "code_revoke", "code_share", "codes_archive_expired", "codes_attach",
    "codes_expire_due", "codes_mail_build", "codes_recall", "codes_release", "codes_reservation_cancel",
    "codes_revoke", "codes_send_by_email", "codes_share", "notice_create", "notice_delete", "notice_update",
    "notices_mail_due", "notices_mark_seen", "redeem_preview", "redeem_refusal_record",
]
