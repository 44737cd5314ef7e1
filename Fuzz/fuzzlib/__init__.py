"""Charter's fuzz harness: seeds, mutators, case kinds and the sandboxed runner (standard library only)."""
