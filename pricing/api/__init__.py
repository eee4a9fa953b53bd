"""The public, read-only REST API: DRF views over ``pricing.selectors``."""
