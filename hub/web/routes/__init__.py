"""The workspace's pages, one module each."""
