"""Published text: the one jinja2 environment over ``prompts/``, and what makes text safe to
publish on GitHub."""
