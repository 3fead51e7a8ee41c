"""`agegender serve --engine ray`: the same app on Ray Serve, N replicas (or autoscaling), each one Estimator.

Each replica builds the app with `create_app` when it starts (`serve.ingress` with a late-bound app) and runs
its model on as many threads as the CPUs it asks for. Ray's usage statistics stay off; a cluster started here
is shut down with the service, leaving no Ray process behind.
"""

import dataclasses
import logging
import os
import signal
import sys
import time

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def deployment(settings, args):
    """The Serve application: replicas of the app, as many as asked or autoscaled between the bounds."""
    from ray import serve

    from .app import create_app

    @serve.ingress()
    class AgeGender:
        def __init__(self, replica_settings):
            self.settings = replica_settings

        def __serve_build_asgi_app__(self):
            return create_app(settings=self.settings)

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
    return replica.bind(dataclasses.replace(settings, workers=threads))


def serve_on_ray(settings, args) -> int:
    """Run until interrupted (Ctrl-C or SIGTERM), then remove the app and stop a cluster started here."""
    import ray
    from ray import serve

    quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "include_dashboard": False}
    if args.address:
        ray.init(address=args.address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    else:
        ray.init(num_cpus=os.cpu_count(), **quiet)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
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
        serve.shutdown()
        ray.shutdown()
    return 0
