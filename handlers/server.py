"""HTTP mode: POST /slack/events for bolt, GET /healthz for the operator. One process is
served by waitress (threaded, so concurrent requests do not wait for each other); several
by gunicorn, a pre-fork server with threaded workers, so that work bound to the CPU (scores,
charts) in one worker does not hold up the others behind Python's interpreter lock."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from bot.core import queued_work
from bot.core.context import AppContext
from bot.core.leases import contender_id
from bot.surveys.invitations import LINK_PATH as SURVEY_PATH
from storage.db import schema_state

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def health(ctx: AppContext) -> tuple[int, dict[str, Any]]:
    report: dict[str, Any] = {"status": "ok", "database": "ok", "dialect": ctx.engine.dialect.name}
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        state = schema_state(ctx.engine)
        report["schema"] = {"current": state.current, "head": state.head,
                            "state": "current" if state.up_to_date else "out_of_date"}
        if not state.up_to_date:
            report["status"] = "degraded"
    except Exception as error:  # the point of a health check is to report, not raise
        report.update(status="error", database=f"error: {type(error).__name__}")
    return (200 if report["status"] == "ok" else 503), report


MAX_BODY = 1_000_000  # bytes; Slack's payloads are far smaller


def verified(environ: dict[str, Any], signing_secret: str) -> bool:
    """Whether a request to /slack/events is signed with the signing secret and fresh (five
    minutes), checked before bolt sees it: a malformed signature or time stamp is simply not
    verified, so nothing runs and nothing is sent for it. The body is put back for bolt."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    if not 0 <= length <= MAX_BODY:
        return False
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    if not timestamp.isascii() or not timestamp.isdigit() or not signature:
        return False
    try:
        return SignatureVerifier(signing_secret).is_valid(body.decode("utf-8"), timestamp, signature)
    except (ValueError, UnicodeDecodeError):
        return False


def make_wsgi(ctx: AppContext, app: App, later: Executor | None = None) -> WSGIApp:
    """Slack's events; WeCom's callback when WeCom is configured (its messages handled by
    `later` after the answer) and the pages its buttons open; the survey pages personal
    links open; and the health check."""
    from handlers.web.survey import make_survey_pages

    slack = SlackRequestHandler(app, path="/slack/events")
    survey_pages = make_survey_pages(ctx)
    wecom = None
    wecom_pages = None
    if ctx.settings.wecom_configured and later is not None:
        from handlers.wecom.callback import PATH, make_callback
        from handlers.wecom.messenger import WeComMessenger
        from handlers.wecom.pages import PATHS, make_pages

        wecom = (PATH, make_callback(ctx, later))
        through = getattr(ctx.messenger, "wecom", None) or WeComMessenger(ctx.settings, ctx.session, ctx.now)
        wecom_pages = (PATHS, make_pages(ctx, through.user_of_code, later))

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if wecom is not None and path == wecom[0]:
            return wecom[1](environ, start_response)
        if wecom_pages is not None and path in wecom_pages[0]:
            return wecom_pages[1](environ, start_response)
        if path.startswith(SURVEY_PATH):
            return survey_pages(environ, start_response)
        if path == "/slack/events" and not verified(environ, ctx.settings.slack_signing_secret):
            body = b'{"error": "invalid request signature"}'
            start_response("401 Unauthorized", [("Content-Type", "application/json"),
                                                ("Content-Length", str(len(body)))])
            return [body]
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            status, report = health(ctx)
            body = json.dumps(report).encode()
            start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return wsgi


class BackgroundServer:
    """waitress in a thread, on an ephemeral port if asked: for tests and the demo."""

    def __init__(self, wsgi: WSGIApp, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> None:
        # waitress reads its loop timeout as whole seconds: a fraction is 0, and its loop would
        # spin, holding the GIL from every other thread (a SQLite scan ran three times slower)
        self.server = waitress.create_server(wsgi, host=host, port=port, threads=threads, asyncore_loop_timeout=1)
        self.thread = threading.Thread(target=self._run, name="csatbot-http", daemon=True)
        self._stopping = False

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            if not self._stopping:  # closing the socket under select() is how waitress stops here
                raise

    @property
    def url(self) -> str:
        return f"http://{self.server.effective_host}:{self.server.effective_port}"

    def start(self) -> BackgroundServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self.server.close()
        self.thread.join(timeout=5)


def serve_forever(wsgi: WSGIApp, host: str, port: int, threads: int = 8) -> None:
    waitress.serve(wsgi, host=host, port=port, threads=threads, ident="csatbot")


def prefork_available() -> bool:
    """gunicorn runs where processes fork (Linux, macOS); elsewhere one threaded process serves."""
    import importlib.util
    import os

    return hasattr(os, "fork") and importlib.util.find_spec("gunicorn") is not None


class KeptProcess:
    """A process beside the workers (the scheduled jobs, the answers), forked by gunicorn's
    master (which has no threads of its own, so a fork is safe) and forked again when it
    dies; it runs at a lower priority than the workers, which acknowledge (at 10, a busy
    answer process gets a tenth of the processor a worker that has a request to ack gets)."""

    NICENESS = 10

    def __init__(self, run: Callable[[], None]) -> None:
        self.run = run  # blocks until SIGTERM, then stops what it started
        self.pid: int | None = None

    def alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            pid, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # gunicorn's master reaps every child: it has exited
            return False
        return pid == 0

    def ensure(self) -> None:
        if self.alive():
            return
        pid = os.fork()
        if pid:
            self.pid = pid
            return
        code = 0
        try:
            for number in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
                           signal.SIGWINCH, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU):
                signal.signal(number, signal.SIG_DFL)  # the master's handlers are not this process's
            signal.signal(signal.SIGTERM, lambda *_a: None)
            os.nice(self.NICENESS)
            self.run()
        except BaseException:  # noqa: BLE001 - the child reports and exits; the master forks another
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        assert self.pid is not None
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)


class AnswerQueue:
    """The work after each response, handed by the workers to answer processes: a worker
    then only acknowledges, and an ack never waits behind a score or a chart for the
    interpreter lock. What goes across is the request as Slack sent it (verified by the
    worker) and the name of the work; the answer process runs the same bolt app with
    bolt's own lazy-only dispatch (as its AWS Lambda adapter does). The work is kept in
    the database until it is done (bot.core.queued_work), and the queue only signals it,
    so that an answer process killed in the middle loses nothing: its claims run out and
    another process does the work again."""

    def __init__(self, size: int = 1000, sweep_seconds: float = 5.0) -> None:
        import multiprocessing

        self.queue: Any = multiprocessing.get_context("fork").Queue(maxsize=size)
        self.sweep_seconds = sweep_seconds

    def runner(self, app: App, ctx: AppContext) -> Callable[[], None]:
        """In a worker: the app's work after responses is kept and signalled to the answer
        processes (done here, in this process, when it cannot be kept). Keeping it is one
        thread's job, after the response: an ack never waits for a write (on SQLite it would
        wait behind every other writer). Gives how to stop: what waits is kept first."""
        import queue as queues

        from slack_bolt.lazy_listener import LazyListenerRunner

        listener_runner: Any = app._listener_runner  # bolt has no setter for it
        in_process = listener_runner.lazy_listener_runner
        signal_queue = self.queue
        waiting: queues.Queue[tuple[Callable[..., None], Any] | None] = queues.Queue()

        class ToAnswerProcesses(LazyListenerRunner):  # type: ignore[misc]
            logger = in_process.logger

            def start(self, function: Callable[..., None], request: Any) -> None:
                waiting.put((function, request))

        def keep() -> None:
            stopping = False
            while not stopping:
                batch = [waiting.get()]
                while len(batch) < 50:  # what came meanwhile is kept in the same transaction
                    try:
                        batch.append(waiting.get_nowait())
                    except queues.Empty:
                        break
                stopping = None in batch
                handed = [item for item in batch if item is not None]
                if not handed:
                    continue
                try:
                    ids = queued_work.queue(ctx.factory, [(request.lazy_function_name, request.raw_body,
                                                           dict(request.headers)) for _f, request in handed],
                                            ctx.now())
                except Exception:  # the database is unreachable: answered here
                    log.exception("could not keep the work after a response")
                    for function, request in handed:
                        in_process.start(function, request)
                    continue
                for work_id in ids:
                    try:
                        signal_queue.put_nowait(work_id)
                    except Exception:  # full, or closed while stopping: kept, so an answer process finds it
                        pass

        keeper = threading.Thread(target=keep, name="csatbot-keep-work", daemon=True)
        keeper.start()
        listener_runner.lazy_listener_runner = ToAnswerProcesses()

        def stop() -> None:
            waiting.put(None)
            keeper.join(30)
        return stop

    def answer(self, app: App, ctx: AppContext, threads: int, stopping: threading.Event) -> None:
        """In an answer process: do the signalled work with `threads` threads, and every few
        seconds what was left behind, until `stopping` is set and nothing is left."""
        import queue as queues

        taker = contender_id()

        def run(work_id: int) -> None:
            work = queued_work.claim(ctx.factory, work_id, taker, ctx.now())
            if work is None:  # done already, or another process has it
                return
            try:
                do_work(app, work)
            finally:
                queued_work.done(ctx.factory, work.id, taker)

        def take() -> None:
            while True:
                try:
                    work_id = self.queue.get(timeout=0.5)
                except queues.Empty:
                    if stopping.is_set():  # stopping, and nothing is left to answer
                        return
                    continue
                _guarded(run, work_id)

        def sweep() -> None:
            while not stopping.wait(self.sweep_seconds):
                _guarded(lambda: [run(work_id) for work_id in queued_work.left_behind(ctx.factory, ctx.now())])

        takers = [threading.Thread(target=take, name=f"csatbot-answer-{n}", daemon=True) for n in range(threads)]
        takers.append(threading.Thread(target=sweep, name="csatbot-answer-sweep", daemon=True))
        for thread in takers:
            thread.start()
        for thread in takers:
            thread.join()


def do_work(app: App, work: queued_work.Work) -> None:
    """The work after a response, as bolt's lazy-only dispatch runs it."""
    from slack_bolt.request import BoltRequest

    headers = dict(work.headers, **{"x-slack-bolt-lazy-only": ["1"], "x-slack-bolt-lazy-function-name": [work.name]})
    app.dispatch(BoltRequest(body=work.body, headers=headers))


def _guarded(step: Callable[..., Any], *args: Any) -> None:
    """A listener's own failure is told by its guard, and the database's by the log: a
    taker thread never dies of either."""
    try:
        step(*args)
    except Exception:
        traceback.print_exc()


def serve_prefork(start_worker: Callable[[], tuple[WSGIApp, Callable[[], None]]], host: str, port: int,
                  workers: int, threads: int = 8, beside: Sequence[Callable[[], None]] = ()) -> None:
    """gunicorn with `workers` processes of `threads` threads each. `start_worker` runs in each
    worker after the fork (its own database connections, its own threads after the response)
    and gives its WSGI app and how to stop it; each of `beside` runs in a process of its own
    that the master keeps alive (see KeptProcess)."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    stops: list[Callable[[], None]] = []
    kept = [KeptProcess(run) for run in beside]

    class KeepingProcesses(Arbiter):  # type: ignore[misc]
        def manage_workers(self) -> None:
            super().manage_workers()
            for process in kept:
                process.ensure()

        def stop(self, graceful: bool = True) -> None:
            super().stop(graceful)  # the workers first: what they handed over is still answered
            for process in kept:
                process.stop()

    class Prefork(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "preload_app": False, "timeout": 60,
                               "graceful_timeout": 20, "accesslog": None, "proc_name": "csatbot",
                               "worker_exit": lambda _server, _worker: [stop() for stop in stops]}.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 25+: no socket in the home folder
                self.cfg.set("control_socket_disable", True)

        def load(self) -> WSGIApp:
            wsgi, stop = start_worker()
            stops.append(stop)
            return wsgi

        def run(self) -> None:
            KeepingProcesses(self).run()

    Prefork().run()
