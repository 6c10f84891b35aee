"""Rate limits: profiles as data, adaptive scoped buckets, and the retry policy."""

from __future__ import annotations

from bulkops.limits.bucket import AdaptiveBucket, AdaptiveTuning
from bulkops.limits.profiles import PROFILES, Limit, Profile, load_profile
from bulkops.limits.retry import NO_RETRY, RetryBudget, RetryPolicy
from bulkops.limits.scoped import ScopedLimiter, ScopeKey, spare_budget_only

__all__ = [
    "NO_RETRY",
    "PROFILES",
    "AdaptiveBucket",
    "AdaptiveTuning",
    "Limit",
    "Profile",
    "RetryBudget",
    "RetryPolicy",
    "ScopeKey",
    "ScopedLimiter",
    "load_profile",
    "spare_budget_only",
]
