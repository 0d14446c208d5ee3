"""The workbench's screens and modals."""
