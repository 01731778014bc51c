"""The jinja2 templates of idealdiff (prompts, issue bodies, reports), shipped with the package."""
