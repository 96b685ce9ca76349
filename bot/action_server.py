"""The action server: rasa-sdk's app, closed to everyone but the Rasa server.

rasa-sdk's own `python -m rasa_sdk` listens on 0.0.0.0 and runs any action for
anyone who can reach the port: a stranger could change an escalation's callback
number or file an emergency for a made-up patient. This runs the same app with:
- the interface from ACTION_SERVER_INTERFACE (default 127.0.0.1);
- every request but GET /health needs `Authorization: Bearer <ACTION_SERVER_SECRET>`,
  the header endpoints.yml makes the Rasa server send; anything else gets 401 and
  no action runs. Without a secret the server refuses to start.

`python -m bot serve` generates a secret at start-up when none is set and gives
it to both servers, so running locally needs no configuration.
"""

from __future__ import annotations

import hmac
import logging
import sys
from typing import Optional, Sequence

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

OPEN_PATHS = ("/health",)


def authorised(header: str, secret: Optional[str]) -> bool:
    """Whether an Authorization header carries the shared secret (constant time)."""
    if not secret:
        return False
    return hmac.compare_digest(header.encode(), f"Bearer {secret}".encode())


def protect(app: Sanic, secret: Optional[str]) -> Sanic:
    """Refuse (401) every request but the health check that lacks the shared secret."""

    @app.middleware("request")
    async def require_secret(request: Request) -> Optional[HTTPResponse]:
        if request.method == "GET" and request.path in OPEN_PATHS:
            return None
        if authorised(request.headers.get("Authorization", ""), secret):
            return None
        logger.warning("action server: refused a call without the shared secret")
        return response.json({"error": "unauthorized"}, status=401)

    return app


def create_app(actions: str, secret: Optional[str], cors: object = None) -> Sanic:
    from rasa_sdk.endpoint import create_app as sdk_app

    return protect(sdk_app(actions, cors_origins=cors), secret)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.plugin import plugin_manager

    from bot.settings import get_settings

    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    settings = get_settings()
    if not settings.action_server_secret:
        logger.error(
            "ACTION_SERVER_SECRET is not set: the action server will not start open to anyone "
            "(`python -m bot serve` sets one for you)"
        )
        return 2
    app = create_app(args.actions, settings.action_server_secret, args.cors)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host = settings.action_server_interface
    logger.info("action server listening on http://%s:%s", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
