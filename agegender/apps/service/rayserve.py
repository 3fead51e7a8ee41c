"""`agegender serve --engine ray`: the same app on Ray Serve, N replicas (or autoscaling), each one Estimator.

Each replica builds the app with `create_app` when it starts (`serve.ingress` with a late-bound app) and runs
its model on as many threads as the CPUs it asks for. Video jobs live in one actor shared by the replicas (with
an Estimator of its own, asking for no CPU of the cluster), so that any replica answers for any job. Ray's usage
statistics stay off; a cluster started here is shut down with the service, leaving no Ray process behind.
"""

import dataclasses
import logging
import os
import signal
import sys
import time

from ..raycluster import shutdown_started_here, start_here

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


class VideoJobs:
    """The actor holding every replica's video jobs: `videos.Jobs` on one Estimator of its own."""

    def __init__(self, settings):
        from ...inference.estimator import Estimator
        from .videos import Jobs
        from .work import Workers

        workers = Workers([Estimator(**settings.options, threads=1)], 0, settings.timeout)
        self.jobs = Jobs(workers, settings.video_jobs, settings.video_ttl)

    async def call(self, method: str, *args):
        return await getattr(self.jobs, method)(*args)

    def count(self) -> int:
        return len(self.jobs)


class RemoteJobs:
    """`videos.Jobs`' interface in a replica, answered by the VideoJobs actor (errors raised as themselves)."""

    def __init__(self, actor):
        self.actor = actor

    async def _call(self, method: str, *args):
        from ray.exceptions import RayTaskError

        try:
            return await self.actor.call.remote(method, *args)
        except RayTaskError as exc:
            raise exc.cause from None

    async def add(self, *args) -> dict:
        return await self._call("add", *args)

    async def status(self, job_id: str) -> dict | None:
        return await self._call("status", job_id)

    async def drop(self, job_id: str) -> bool:
        return await self._call("drop", job_id)

    def __len__(self) -> int:
        import ray

        return ray.get(self.actor.count.remote(), timeout=5)

    def close(self) -> None:
        """The actor belongs to the command that started the service: it goes with it."""


def deployment(settings, args):
    """The Serve application: replicas of the app, as many as asked or autoscaled between the bounds."""
    import ray
    from ray import serve

    from .app import create_app

    @serve.ingress()
    class AgeGender:
        def __init__(self, replica_settings, jobs_actor):
            self.settings, self.jobs = replica_settings, RemoteJobs(jobs_actor)

        def __serve_build_asgi_app__(self):
            return create_app(settings=self.settings, jobs=self.jobs)

    threads = max(1, round(args.cpus_per_replica))
    scale = (
        {"autoscaling_config": {"min_replicas": args.min_replicas or 1,
                                "max_replicas": args.max_replicas or max(args.min_replicas or 1, args.replicas)}}
        if args.min_replicas or args.max_replicas
        else {"num_replicas": args.replicas}
    )
    replica = serve.deployment(
        AgeGender,
        name="agegender",
        ray_actor_options={"num_cpus": args.cpus_per_replica},
        max_ongoing_requests=threads + settings.queue,
        **scale,
    )
    jobs = ray.remote(num_cpus=0)(VideoJobs).remote(settings)
    return replica.bind(dataclasses.replace(settings, workers=threads), jobs)


def serve_on_ray(settings, args) -> int:
    """Run until interrupted (Ctrl-C or SIGTERM), then remove the app and stop a cluster started here."""
    import ray
    from ray import serve

    quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "include_dashboard": False}
    if args.address:
        ray.init(address=args.address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    else:
        daemons = start_here(num_cpus=os.cpu_count(), **quiet)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it even where started with it ignored
    try:
        serve.start(http_options={"host": args.host, "port": args.port}, logging_config={"log_level": "WARNING"})
        serve.run(deployment(settings, args), name="agegender", route_prefix="/")
        print(f"agegender serve (Ray Serve): http://{args.host}:{args.port} (interactive docs at /docs)",
              file=sys.stderr)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        if args.address:  # someone else's cluster: take the app off it
            serve.shutdown()
            ray.shutdown()
        else:  # ours: the whole cluster goes, Serve with it
            shutdown_started_here(daemons)
    return 0

