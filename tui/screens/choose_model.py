"""Which modal asks for a model when a pane is added.

The model picker (`tui.screens.model_picker.ModelPickerScreen`: discovered models, fit
in memory, `hf:` downloads) when it is installed, else a plain reference prompt. Both
dismiss with a model reference string, or None.
"""

from __future__ import annotations

from textual.screen import ModalScreen

from tui.screens.text_prompt import TextPromptScreen

MODEL_REF_HINT = "a .gguf path, demo:smollm2-135m, demo:gemma3-270m or hf:OWNER/REPO:QUANT"


def choose_model_screen() -> ModalScreen[str | None]:
    """The modal that picks the model for a new pane."""
    try:
        from tui.screens.model_picker import ModelPickerScreen
    except ImportError:
        return TextPromptScreen(
            "Add a pane: model reference", placeholder=MODEL_REF_HINT, hint=MODEL_REF_HINT
        )
    return ModelPickerScreen()
