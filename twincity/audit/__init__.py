"""Browsing the audit trail. The trail itself is recorded by the kernel (twincity.core.audit) in every domain's
services; this app is where administrators search it."""
