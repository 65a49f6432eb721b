"""The core: records, tokens, prices, errors, provider rules, config files. Imports nothing else of the package but ``plugins``."""
