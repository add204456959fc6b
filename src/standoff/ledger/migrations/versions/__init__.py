"""One module per schema revision (`schema.REVISIONS` lists them)."""
