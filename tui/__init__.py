"""The Textual workbench and the `llmbench` command line."""
