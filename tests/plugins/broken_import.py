"""A test-only plugin that fails at import time."""
raise ImportError("this plugin cannot be imported")
