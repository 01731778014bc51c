"""The one review flow, source-agnostic: batch, code source, repository config, report data,
pipeline."""
