"""The portal's own records kept no longer than needed (GDPR Art. 5(1)(e)): the retention schedule and legal
holds, issue 13."""
