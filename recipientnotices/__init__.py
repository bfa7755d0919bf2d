"""Telling recipients of a rectification, erasure or restriction (GDPR Art. 19), issue 13."""
