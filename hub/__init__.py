"""The inter-agency referral hub for Albertslund Kommune's crime-prevention unit (DKE)."""

__version__ = "0.1.0"
