"""The eHerkenning broker stand-in (test-only)."""
