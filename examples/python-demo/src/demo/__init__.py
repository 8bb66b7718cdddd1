"""A tiny inventory module the demo suite tests."""
