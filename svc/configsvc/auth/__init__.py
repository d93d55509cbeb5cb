"""Access control: tokens with per-application grants, checked on REST and on the live feed."""
