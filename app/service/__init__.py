"""The App as a service: webhook intake over HTTP, metrics, the ``/idealize`` command, the
worker loop."""
