"""A Ray cluster started by this process (the Ray Data job's, Ray Serve's): stopped whole when its work ends."""


def shutdown_started_here(wait: float = 10.0) -> None:
    """`ray.shutdown()`, then stop what it left of the cluster's daemons, agents and workers (on a busy machine
    Ray's agents can outlive it): terminated, and killed after `wait` seconds; even when the shutdown fails."""
    import psutil  # Ray ships it (ray/thirdparty_files, on the path once ray is imported)
    import ray

    started_here = psutil.Process().children(recursive=True)
    try:
        ray.shutdown()
    finally:
        alive = [p for p in started_here if p.is_running()]
        for process in alive:
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
        _, left = psutil.wait_procs(alive, timeout=wait)
        for process in left:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
