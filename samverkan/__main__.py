"""Provides ``python -m samverkan``."""

from samverkan.cli import main

raise SystemExit(main())
