"""A Ray cluster started by this process (the Ray Data job's, Ray Serve's): started, and stopped whole when its work
ends, without touching this process's other children."""


def start_here(**options) -> list:
    """`ray.init(**options)` for a new cluster on this machine; the processes it started (Ray's daemons)."""
    import psutil  # Ray ships it (ray/thirdparty_files: on the path once ray is imported, as the callers have)
    import ray

    before = {child.pid for child in psutil.Process().children()}
    ray.init(**options)
    return [child for child in psutil.Process().children() if child.pid not in before]


def shutdown_started_here(daemons: list, wait: float = 10.0) -> None:
    """`ray.shutdown()`, then stop what it left of `daemons` and what they started (agents, workers; on a busy
    machine Ray's agents can outlive it): terminated, and killed after `wait` seconds; even when the shutdown fails."""
    import psutil
    import ray

    processes = list(daemons)
    for daemon in daemons:
        try:
            processes += daemon.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    try:
        ray.shutdown()
    finally:
        alive = [p for p in processes if p.is_running()]
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
