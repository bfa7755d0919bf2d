"""Carrying out erasure, rectification, restriction and objection in every data system (GDPR Art. 16-18,
21), issue 13."""
