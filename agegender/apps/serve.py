"""`agegender serve`: the arguments, and the service run on uvicorn (or, with `--engine ray`, on Ray Serve)."""

import ipaddress
import sys
from pathlib import Path

from .options import add_estimator_arguments, estimator_options


def add_serve(sub) -> None:
    s = sub.add_parser(
        "serve",
        help="an HTTP service: faces in images and videos for other programs (docs at /docs)",
        description="FastAPI on uvicorn, listening on 127.0.0.1 unless told otherwise. Uploads are held in memory; "
        "nothing is sent anywhere. With --engine ray the same app runs on Ray Serve with N replicas.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--api-key-file", metavar="FILE", help="require `Authorization: Bearer KEY` with one of the keys "
                   "in this file (one a line; # comments); the health checks stay open")
    s.add_argument("--max-upload-mb", type=float, default=20, help="largest request in MB (default 20; 413 above)")
    s.add_argument("--workers", type=int, help="model threads, each with its own Estimator (default: one per core; "
                   "with --engine ray, --cpus-per-replica)")
    s.add_argument("--queue", type=int, default=16, help="requests waiting beyond those running (default 16); more "
                   "are answered 503 with Retry-After")
    s.add_argument("--timeout", type=float, default=30, help="seconds one request may take (default 30; then 503)")
    s.add_argument("--video-jobs", type=int, default=4, help="video jobs kept at once (default 4)")
    s.add_argument("--video-ttl", type=float, default=900, help="seconds a finished video job is kept (default 900)")
    add_estimator_arguments(s)
    g = s.add_argument_group("scale-out on Ray Serve (agegender.apps.service.rayserve)")
    g.add_argument("--engine", choices=["local", "ray"], default="local", help="where to run (default local)")
    g.add_argument("--address", help="Ray cluster address (e.g. auto); default: a local cluster sized to this machine")
    g.add_argument("--replicas", type=int, default=1, help="replicas, each one Estimator (default 1)")
    g.add_argument("--min-replicas", type=int, help="autoscale between --min-replicas and --max-replicas instead")
    g.add_argument("--max-replicas", type=int, help="the most replicas autoscaling starts")
    g.add_argument("--cpus-per-replica", type=float, default=1.0, help="CPUs each replica asks for and uses as "
                   "model threads (default 1)")
    s.set_defaults(func=serve_command)


def read_keys(path) -> tuple[str, ...]:
    lines = Path(path).read_text().splitlines()
    return tuple(k for k in (line.split("#")[0].strip() for line in lines) if k)


def is_local(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(args) -> int:
    try:
        keys = read_keys(args.api_key_file) if args.api_key_file else ()
    except OSError as exc:
        print(f"error: cannot read the API key file: {exc}", file=sys.stderr)
        return 2
    if args.api_key_file and not keys:
        print(f"error: no API key in {args.api_key_file}", file=sys.stderr)
        return 2
    if not keys and not is_local(args.host):
        print(f"warning: listening on {args.host} with no API key: anyone who can reach this computer can use the "
              "service (give keys with --api-key-file)", file=sys.stderr)
    try:
        import uvicorn

        from .service.app import Settings, create_app
    except ImportError as exc:
        print(f"error: agegender serve needs the [serve] extra (pip install 'agegender[serve]'): {exc}",
              file=sys.stderr)
        return 2
    settings = Settings(
        options=estimator_options(args),
        api_keys=keys,
        max_body=int(args.max_upload_mb * 1e6),
        queue=args.queue,
        timeout=args.timeout,
        video_jobs=args.video_jobs,
        video_ttl=args.video_ttl,
        **({"workers": args.workers} if args.workers else {}),
    )
    if args.engine == "ray":
        from .service.rayserve import serve_on_ray

        return serve_on_ray(settings, args)
    print(f"agegender serve: http://{args.host}:{args.port} (interactive docs at /docs)", file=sys.stderr)
    uvicorn.run(create_app(settings=settings), host=args.host, port=args.port, log_level="warning",
                server_header=False)
    return 0
