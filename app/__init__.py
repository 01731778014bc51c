"""idealdiff: everything that touches the outside world (CLI, git, GitHub, the model)."""
