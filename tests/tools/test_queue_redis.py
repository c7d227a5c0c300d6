"""The queue on its scale-out backend (RedisHuey, `queue_backend=redis`) against a real Redis:
events enqueued, worked, retried and dead-lettered exactly as on the SQLite default."""

from __future__ import annotations

from support.events import assessment, real_stderr_logging  # noqa: F401 - autouse fixture
from support.redis_server import redis_server
from test_queue import add, handler_dir, make_queue  # noqa: F401 - fixture


def test_redis_backend_works_retries_and_dead_letters(tmp_path, handler_dir) -> None:  # noqa: F811
    with redis_server(tmp_path) as url:
        queue = make_queue(
            tmp_path,
            {"triage": "support.queue_handlers:flaky"},
            queue_backend="redis",
            redis_url=url,
            queue_name="icims-agents-test",
        )
        assert type(queue.huey).__name__ == "RedisHuey"
        flaky = add(queue, assessment(10001))
        assert queue.work(until_idle=True, timeout=30) == 3  # two failures, then success
        assert queue.store.get(flaky).status == "done"
        queue.settings.events_handlers["triage"] = "support.queue_handlers:broken_until_fixed"
        broken = add(queue, assessment(10002))
        queue.work(until_idle=True, timeout=30)
        assert queue.store.get(broken).status == "dead"
        assert queue.backlog()["dead"] == 1
        queue.close()
