"""What the App publishes: unification issues and pull requests."""
