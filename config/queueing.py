"""Publishing Celery tasks by name: the modules that queue work never import the tasks
modules, which import them; and an app below (suppliers) can queue a task of an app
above (tracing) without importing it."""

from __future__ import annotations

from celery import current_app


def publish_task(name: str, **options) -> None:
    """Publish the task `name` with apply_async's `options`, without importing its module.
    Where the task is registered (the worker; any process that loaded the tasks module)
    through the task itself, exactly as its apply_async; elsewhere by name, with the
    app's settings (default queue, serializer, publish retry policy, ignore_result),
    which is all the task would add: no task here sets a queue, route, priority or
    expiry of its own (the same message, checked on Redis).
    In eager mode (tests, development) this process runs the tasks, so it first loads the
    task modules a worker loads when it starts."""
    app = current_app
    task = app.tasks.get(name)
    if task is None and app.conf.task_always_eager:
        app.autodiscover_tasks(force=True)  # each installed app's tasks module
        task = app.tasks.get(name)
    if task is not None:
        task.apply_async(**options)
    else:
        # What apply_async adds for a task that leaves it to the settings.
        options.setdefault("ignore_result", app.conf.task_ignore_result)
        app.send_task(name, **options)
