"""`llmbench serve`: the workbench in a browser, through textual-serve.

Each browser tab gets its own workbench process (textual-serve starts the command below
per connection), with the same --profile / --model options as plain `llmbench`. The server
listens on 127.0.0.1 by default: a GPU box is reached with `ssh -L 8000:127.0.0.1:8000`.
Anyone who can reach the port can run models and read answers, and there is no
authentication, so another --host prints a warning first.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys

import click

from tui.commands.workbench_options import workbench_options

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

NO_AUTH_WARNING = (
    "warning: llmbench serve has no authentication: anyone who can reach {host}:{port} "
    "can run models on this machine and read every answer. Prefer the default "
    "127.0.0.1 and `ssh -L {port}:127.0.0.1:{port} HOST`."
)


def is_loopback(host: str) -> bool:
    """Whether `host` only listens for this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def workbench_command(
    profile: str | None, models: tuple[str, ...], no_history: bool, python: str | None = None
) -> str:
    """The shell command textual-serve runs for each browser connection."""
    parts = [python or sys.executable, "-m", "tui.cli"]
    if profile:
        parts += ["--profile", profile]
    for ref in models:
        parts += ["--model", ref]
    if no_history:
        parts.append("--no-history")
    return shlex.join(parts)


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--port",
    type=click.IntRange(min=1, max=65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="The port to listen on.",
)
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    metavar="ADDRESS",
    help="The address to listen on. Anything but loopback exposes the workbench, "
    "without authentication, to whoever can reach it.",
)
@workbench_options
def serve(
    port: int, host: str, profile: str | None, models: tuple[str, ...], no_history: bool
) -> None:
    """Serve the workbench to a web browser (each tab runs its own workbench).

    \b
    Examples:
      llmbench serve                      then open http://127.0.0.1:8000
      ssh -L 8000:127.0.0.1:8000 gpu-box  to reach a remote box's workbench safely
    """
    from tui.launch import LaunchError, startup_profile

    try:
        startup_profile(profile, list(models))
    except LaunchError as error:
        click.echo(f"llmbench serve: {error}", err=True)
        sys.exit(2)
    try:
        from textual_serve.server import Server
    except ImportError:
        click.echo(
            "llmbench serve: textual-serve is not installed: pip install 'textual-serve>=1.1'",
            err=True,
        )
        sys.exit(2)
    if not is_loopback(host):
        click.echo(NO_AUTH_WARNING.format(host=host, port=port), err=True)
    command = workbench_command(profile, models, no_history)
    server = Server(command, host=host, port=port, title="llmbench")
    click.echo(f"llmbench serve: open http://{_url_host(host)}:{port} (Ctrl+C stops)", err=True)
    try:
        server.serve()
    except OSError as error:
        click.echo(f"llmbench serve: cannot listen on {host}:{port}: {error.strerror}", err=True)
        sys.exit(1)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
