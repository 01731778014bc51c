"""The command line's world: a git repository on disk, its history, the local review run,
``--apply``, the demo."""
