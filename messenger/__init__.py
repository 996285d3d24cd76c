"""Provides the Matrix layer of Samverkan: sessions, provisioning, commands and storage."""
