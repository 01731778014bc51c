"""The GitHub adapter only: the githubkit client and the webhook payload models."""
