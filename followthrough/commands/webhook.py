"""`followthrough webhook`: receive GitHub deployment and Actions webhooks into the spool.

The receiver only verifies and spools (see models/automation/webhook.py); `automate --once` and
the `deploy_failure_sensor` drain the spool (`drain_spool` below): land the records as GitHub
exports, load them, and evaluate the incident tickets, all as the warehouse's one writer.
Exit status: 2 when there is no secret or the address is taken.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.automation.config import AutomationConfig
    from models.automation.spool import DrainResult, LogFetcher
    from models.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "webhook",
        help="receive GitHub deployment_status / workflow_run / workflow_job webhooks",
        description="Serve a GitHub webhook endpoint: verify X-Hub-Signature-256 with the "
        "secret in the variable [automation.webhook] secret_env names (default "
        "FOLLOWTHROUGH_WEBHOOK_SECRET), and spool each delivery to disk for "
        "`followthrough automate --once` or the deploy_failure_sensor to pick up.",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; put a TLS proxy in front)")
    p.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    p.add_argument("--spool", type=Path, default=None,
                   help="spool folder (default: [automation.webhook] spool, ./webhook-spool)")
    p.add_argument("--config", type=Path, default=None,
                   help="config file (default: $FOLLOWTHROUGH_CONFIG or ./followthrough.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.automation.config import load_automation
    from models.automation.spool import Spool
    from models.automation.webhook import Receiver

    cfg = load_automation(args.config)
    hook = cfg.webhook
    secret = hook.secret()
    if not secret:
        print(f"followthrough webhook: no secret: set ${hook.secret_env} to the secret entered "
              "in the GitHub webhook's settings", file=sys.stderr)
        return 2
    spool_dir = args.spool or cfg.spool_dir
    try:
        spool_dir.mkdir(parents=True, exist_ok=True)
        receiver = Receiver(Spool(spool_dir), secret, args.host, args.port, hook.max_body_bytes)
    except OSError as exc:
        print(f"followthrough webhook: cannot listen on {args.host}:{args.port} or use "
              f"{spool_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, stop)
    print(f"followthrough webhook: listening on {receiver.url}, spooling to {spool_dir}",
          flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.httpd.server_close()
    return 0


def github_log_fetcher(cfg: AutomationConfig) -> LogFetcher | None:
    """Failed jobs' logs from the GitHub API when `[sources.github]` is configured with a
    token, so a webhook-born ticket carries the excerpt; None otherwise (the excerpt then comes
    with the next scheduled fetch)."""
    from models.connectors.base import FetchResult
    from models.connectors.config import GitHubConfig, load_config
    from models.connectors.github import _Reader, headers
    from models.connectors.http import ApiClient, ApiError, RetryPolicy

    try:
        source = load_config(cfg.path).source("github") if cfg.path else None
    except ValueError:
        return None
    if not isinstance(source, GitHubConfig) or source.logs == "none":
        return None
    import os

    token = os.environ.get(source.token_env) if source.token_env else None
    if not token:
        return None

    def fetch(repo: str, day: str, job_id: int) -> str | None:
        policy = RetryPolicy(max_attempts=2, timeout_s=min(source.timeout_s, 15.0))
        try:
            with ApiClient("github", source.api_url, headers(token), policy=policy) as api:
                reader = _Reader(api, source, None, FetchResult("github"))  # type: ignore[arg-type]
                return reader.download_log(repo, job_id)
        except ApiError as exc:
            logging.getLogger("followthrough.webhook").warning(
                "%s job %s: log not fetched (%s); the next fetch retries", repo, job_id, exc)
            return None

    return fetch


def drain_spool(cfg: AutomationConfig, settings: Settings) -> DrainResult:
    """Land spooled deliveries into `settings.exports`, build, and clear them from the spool.

    Call before opening the warehouse: the build is the writer while it runs."""
    from models.automation.spool import DrainResult, Spool, drain

    if not Spool(cfg.spool_dir).pending():
        return DrainResult()  # the common tick: nothing delivered since the last one

    def load() -> None:
        from followthrough.commands.build import build

        build(settings)

    return drain(cfg.spool_dir, settings.exports, load, fetch_log=github_log_fetcher(cfg))
