"""Loading a server pane's model: the timeouts in force, what the server lists, which model to
ask for, and the `ModelInfo` the pane shows.

Nothing is loaded on our side: "loading" asks the server what it offers (`/v1/models`) and,
for llama-server, its `/props` (context size, build). A 404 from the listing most likely
means a wrong base URL, and the message says so.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from engines.remote.client import ServerError, Timeouts
from engines.remote.server_access import ServerAccess
from engines.remote.server_listing import ServerModel, configured_timeouts, fetch_server_models
from engines.types import ModelInfo, ModelSettings


def resolved_timeouts(connect_s: float | None, read_s: float | None) -> Timeouts:
    """The pane's own timeouts; those left None from config.toml's `[remote]` table."""
    if read_s is not None and connect_s is not None:
        return Timeouts(connect_s, read_s)
    configured = configured_timeouts()
    return Timeouts(
        connect_s if connect_s is not None else configured.connect_s,
        read_s if read_s is not None else configured.read_s,
    )


def listed_models(access: ServerAccess, timeouts: Timeouts) -> list[ServerModel]:
    """What the server offers; a 404 most likely means a wrong base URL."""
    try:
        return fetch_server_models(access.base_url, access.api_key, timeouts)
    except ServerError as exc:
        if exc.status == 404:
            raise ServerError(
                f"{exc} (is the URL right? it usually ends in /v1, e.g. http://HOST:8080/v1)"
            ) from None
        raise


def choose_model(
    access: ServerAccess, model: str | None, models: list[ServerModel], warnings: list[str]
) -> tuple[str, ServerModel | None]:
    """The name to ask for and its listing: the model named, or the server's only one.

    Raises ServerError when there is no such model or the choice is not the server's to
    make; a name the server does not list but may still answer to adds to `warnings`."""
    names = [m.id for m in models]
    listed = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    base_url, host = access.base_url, access.host
    if model is None:
        if len(models) == 1:
            return models[0].id, models[0]
        if not models:
            raise ServerError(f"{base_url} offers no models")
        raise ServerError(
            f"{base_url} offers several models ({listed}); name one: openai:{base_url}#MODEL"
        )
    for listing in models:
        if listing.id == model:
            return model, listing
    if not models:
        warnings.append(f"{host} lists no models; asking it for {model!r}")
        return model, None
    if len(models) == 1:
        # llama-server and llama-cpp-python answer with their one model whatever the name.
        warnings.append(f"{host} lists only {names[0]!r}; asking it for {model!r}")
        return model, models[0]
    raise ServerError(f"{base_url} has no model {model!r}; it offers {listed}")


def served_model_info(
    base_url: str,
    name: str,
    settings: ModelSettings,
    model: ServerModel | None,
    props: dict,
    warnings: list[str],
    load_s: float,
) -> ModelInfo:
    """What the pane shows about the model `name` at `base_url`, from its listing and props."""
    from engines.models.references import quant_in_name

    file_name = PurePosixPath(name).name or name
    generation = props.get("default_generation_settings")
    n_ctx = (model.n_ctx if model else None) or _int(props.get("n_ctx"))
    if not n_ctx and isinstance(generation, dict):
        n_ctx = _int(generation.get("n_ctx"))
    return ModelInfo(
        path=f"openai:{base_url}#{name}",
        file_name=file_name,
        file_size=None,
        name=settings.label or file_name,
        architecture="",
        n_params=model.n_params if model else None,
        quantization=quant_in_name(file_name),
        n_ctx_train=model.n_ctx_train if model else None,
        n_ctx=n_ctx or 0,
        n_layers=None,
        has_chat_template=True,
        backend=f"remote ({base_url})",
        n_gpu_layers_requested=settings.n_gpu_layers,
        n_gpu_layers_offloaded=0,
        n_threads=None,
        llama_cpp_python_version="",
        llama_cpp_version=str(props.get("build_info") or ""),
        load_s=load_s,
        warnings=tuple(warnings),
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
