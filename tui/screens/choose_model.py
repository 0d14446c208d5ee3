"""The modal that asks for a model when a pane is added.

`tui.screens.model_picker.ModelPickerScreen`: discovered models, whether each fits in
memory, `hf:` downloads. It dismisses with a model reference string, or None. Tests
replace `choose_model_screen` to type a reference instead.
"""

from __future__ import annotations

from textual.screen import ModalScreen


def choose_model_screen() -> ModalScreen[str | None]:
    """The modal that picks the model for a new pane."""
    from tui.screens.model_picker import ModelPickerScreen

    return ModelPickerScreen()
