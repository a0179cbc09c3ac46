"""`opsbot serve`: the Slack front end around a built App, in Socket Mode (an app-level token is set)
or HTTP mode (Events API behind uvicorn)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError

from opsbot.core.reply import Reply
from opsbot.frontends import alert_webhook
from opsbot.frontends.slack import http_server
from opsbot.frontends.slack.alert_poster import SlackPoster
from opsbot.frontends.slack.bolt_app import build_bolt_app
from opsbot.frontends.slack.client import web_client
from opsbot.frontends.slack.frontend import SlackFrontend, with_votes
from opsbot.frontends.slack.ops_routes import ops_routes
from opsbot.frontends.slack.outbound import Where
from opsbot.incidents import IncidentDesk
from opsbot.pipeline.outcomes import Outcome
from opsbot.scheduler import Scheduler

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0  # on SIGTERM, how long running requests may take before they count as interrupted


class SlackSetupError(Exception):
    """The Slack settings cannot work (missing or refused token, no signing secret for HTTP mode)."""


class SlackService:
    def __init__(
        self, app, *, workers: int | None = None, max_pending: int | None = None, progress_interval: float = 1.0
    ):
        self.config = app.config.slack
        self.app_config = app.config
        if not self.config.bot_token:
            raise SlackSetupError("no bot token: set SLACK_BOT_TOKEN (xoxb-…) or slack.bot_token in the config")
        self.store = app.store
        self.metrics = app.pipeline.metrics
        self.client = web_client(self.config, metrics=self.metrics)
        self.frontend = SlackFrontend(
            app, self.client, workers=workers, max_pending=max_pending, progress_interval=progress_interval
        )
        try:
            self.bolt = build_bolt_app(self.frontend, self.client, self.config.signing_secret)  # calls auth.test
        except BoltError as e:
            self.frontend.close()
            raise SlackSetupError(f"Slack refused the bot token: {e}") from None
        except Exception as e:
            self.frontend.close()
            raise SlackSetupError(f"cannot reach Slack's Web API at {self.client.base_url}: {e}") from None
        # Alerts from Alertmanager (POST /alertmanager), handled on the same work queue.
        self.incidents = IncidentDesk(
            app.config, app.rules, app.store, app.pipeline, SlackPoster(self.frontend.out, with_votes)
        )
        self.frontend.incidents = self.incidents
        self._http: tuple | None = None  # Socket Mode's HTTP server and its thread
        self._socket: SocketModeHandler | None = None
        self._watch(app)
        self._stop = threading.Event()
        threading.Thread(target=self._housekeeping, name="opsbot-slack-sweep", daemon=True).start()
        # Scheduled digests, posted by this front end. Every replica runs one; the store's slot claim
        # makes sure each digest is posted once.
        self.scheduler: Scheduler | None = None
        app.pipeline.outcome_listeners.append(self._outcome)
        if app.config.digests:
            self.scheduler = Scheduler(app.pipeline, self.frontend.out.post).start()

    def _outcome(self, event: Outcome) -> None:
        """An outcome check's result, in the thread of the request that made the change."""
        place = self.store.request_place(event.request_id) if event.request_id else None
        if place is None or place[2] != "slack":
            return
        channel, thread, _frontend = place
        self.frontend.out.answer(
            Reply(text=event.text, kind="info"), Where(channel=channel, thread_ts=thread, user_id="")
        )

    def _watch(self, app) -> None:
        """Figures /metrics reads when scraped: the work queue here, pending approvals in the store."""
        work, store, now = self.frontend.work, app.store, app.pipeline.now
        self.metrics.watch_gauge(
            "opsbot_work_queue_depth", "Jobs waiting or running in the work queue.", lambda: work.pending
        )
        self.metrics.watch_gauge(
            "opsbot_work_queue_capacity", "Jobs the work queue holds at most.", lambda: work.max_pending
        )
        self.metrics.watch_counter(
            "opsbot_work_queue_rejections",
            "Requests turned away because the work queue was full.",
            lambda: work.rejected,
        )
        self.metrics.watch_gauge(
            "opsbot_approvals_pending", "Approval requests waiting for a decision (all replicas).",
            lambda: store.count_pending_approvals(now()),
        )  # fmt: skip

    def ops_routes(self) -> list:
        return ops_routes(self.metrics, self.store.schema_problem)

    def _housekeeping(self, every: float = 900.0) -> None:
        while not self._stop.wait(every):
            try:
                self.frontend.sweep()
            except Exception:
                log.warning("forgetting old Slack event keys failed", exc_info=True)

    @property
    def mode(self) -> str:
        return "socket" if self.config.app_token else "http"

    # ---- HTTP mode ------------------------------------------------------------------------------

    def asgi(self):
        if not self.config.signing_secret:
            raise SlackSetupError(
                "HTTP mode needs the signing secret: set SLACK_SIGNING_SECRET or "
                "slack.signing_secret (or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return self._asgi(self.bolt, "http", self.config.signing_secret)

    def accept_alerts(self, notification) -> bool:
        """Queue a notification from Alertmanager; False when the queue is full (the sender retries)."""
        return self.frontend.work.submit(self.incidents.receive, notification)

    def alert_routes(self) -> list:
        return [alert_webhook.alertmanager_route(self.app_config.alertmanager.token, self.accept_alerts)]

    def _asgi(self, bolt, mode: str, signing_secret: str | None = None):
        """/health, POST /alertmanager, /metrics and /ready; with `bolt`, the Slack routes too."""
        work = self.frontend.work
        return http_server.asgi_app(
            bolt,
            health={"mode": mode, "workers": work.workers},
            status=lambda: {"pending": work.pending},
            extra=self.alert_routes() + self.ops_routes(),
            signing_secret=signing_secret,
        )

    def start_side_http(self, host: str, port: int) -> None:
        """Socket Mode's HTTP port: no Slack routes."""
        self._http = http_server.run_in_thread(self._asgi(None, "socket"), host, port)

    def serve_http(self, host: str, port: int) -> None:
        http_server.run(self.asgi(), host, port)

    # ---- Socket Mode ----------------------------------------------------------------------------

    def connect_socket_mode(self) -> SocketModeHandler:
        """Open the Socket Mode connection (apps.connections.open, then the WebSocket); returns at once."""
        if not self.config.app_token:
            raise SlackSetupError("Socket Mode needs the app-level token: set SLACK_APP_TOKEN (xapp-…)")
        self._socket = SocketModeHandler(
            self.bolt,
            app_token=self.config.app_token,
            web_client=self.client,
            concurrency=max(4, self.frontend.work.workers),
        )
        self._socket.connect()
        return self._socket

    def serve_socket_mode(self) -> None:
        self.connect_socket_mode()
        log.info("opsbot Slack Socket Mode: connected")
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)

    def drain(self, bound: float) -> bool:
        """Stop taking work and let what runs finish, for at most `bound` seconds. Past it, the
        executions still running here are recorded as interrupted (their outcome is unknown) and
        False is returned: the caller exits without waiting for them."""
        if self._socket is not None:  # no new events from Slack
            try:
                self._socket.close()
            except Exception:
                log.warning("closing the Socket Mode connection failed", exc_info=True)
            self._socket = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        work = self.frontend.work
        work.stop_accepting()
        if work.pending:
            log.info("stopping: waiting up to %.0f s for %d running request(s)", bound, work.pending)
        if work.wait_idle(bound):
            return True
        from opsbot.store.liveness import current_owner

        reason = f"opsbot was stopped and this did not finish within {bound:.0f} s; its outcome is unknown"
        ids = [
            i
            for i in self.store.running_executions(current_owner())
            if self.store.mark_execution_interrupted(i, reason)
        ]
        log.warning(
            "stopping: %d execution(s) still running after %.0f s recorded as interrupted: %s",
            len(ids),
            bound,
            ", ".join(ids) or "none",
        )
        return False

    def close(self) -> None:
        self._stop.set()
        if self._http is not None:
            server, thread = self._http
            server.should_exit = True
            thread.join(15)
            self._http = None
        self.incidents.close()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._socket is not None:
            try:
                self._socket.close()
            except Exception:
                log.warning("closing the Socket Mode connection failed", exc_info=True)
            self._socket = None
        self.frontend.close()


def setup_problem(slack, mode: str) -> str | None:
    """What is missing for `mode` ("socket" or "http"), as one sentence; None when nothing is."""
    if not slack.bot_token:
        return "no bot token: set SLACK_BOT_TOKEN (xoxb-…) or slack.bot_token in the config"
    if mode == "socket" and not slack.app_token:
        return "Socket Mode needs the app-level token: set SLACK_APP_TOKEN (xapp-…) or slack.app_token"
    if mode == "http" and not slack.signing_secret:
        return (
            "HTTP mode needs the signing secret: set SLACK_SIGNING_SECRET or slack.signing_secret "
            "(or set SLACK_APP_TOKEN for Socket Mode)"
        )
    return None


def serve(
    config,
    *,
    mode: str = "auto",
    host: str = "0.0.0.0",
    port: int | None = None,
    workers: int | None = None,
    parser: str | None = None,
    log_format: str = "text",
    verbose: bool = False,
    drain_timeout: float = DRAIN_SECONDS,
) -> int:
    """Run the Slack front end until stopped; the exit status for the CLI."""
    from opsbot.app import build_app
    from opsbot.logging_setup import setup

    setup(log_format, verbose)
    if mode == "auto":
        mode = "socket" if config.slack.app_token else "http"
    problem = setup_problem(config.slack, mode)
    if problem:  # before anything is built or any Slack server contacted
        print(f"opsbot serve: {problem}", file=sys.stderr)
        return 2
    # SIGTERM (docker stop, a Kubernetes rollout): the servers stop taking requests, then drain() lets
    # running work finish within the bound, and the exit status is 0. uvicorn handles the signal while it
    # serves and re-raises it afterwards: into this handler, which then has nothing left to do.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with build_app(config, parser) as app:
            try:
                service = SlackService(app, workers=workers)
            except SlackSetupError as e:
                print(f"opsbot serve: {e}", file=sys.stderr)
                return 2
            drained = True
            try:
                if mode == "socket":
                    service.start_side_http(host, port or config.slack.port)  # /health and POST /alertmanager
                    service.serve_socket_mode()
                else:
                    service.serve_http(host, port or config.slack.port)
            except SlackSetupError as e:
                print(f"opsbot serve: {e}", file=sys.stderr)
                return 2
            finally:
                drained = service.drain(drain_timeout)
                if drained:
                    service.close()
            if not drained:  # work still running is recorded as interrupted: do not wait for its threads
                log.info("opsbot stopped")
                logging.shutdown()
                os._exit(0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    log.info("opsbot stopped")
    return 0
