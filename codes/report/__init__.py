"""The activation-code report: the audit log, filtered and exported, scoped to the user's branch."""
