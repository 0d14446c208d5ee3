"""The workbench's widgets, one public widget per module."""
