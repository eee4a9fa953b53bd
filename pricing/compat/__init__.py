"""Price files in other tools' formats (LiteLLM's cost map, models.dev's api.json), built from the read layer.

``files`` builds each file as a dict from ``pricing.selectors``; ``views`` serves them with as_of and
currency, conditional GETs from the price-change stamp, cached bytes and gzip.
"""
