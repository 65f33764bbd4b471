"""The workbench keeps no records of its own: the 应用 launcher's tiles are the registered apps of
officeapp.integration (AppLink was folded into integration.App by its migration 0002)."""
