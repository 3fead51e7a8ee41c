"""The service against its own OpenAPI schema: generated requests to every endpoint (schemathesis), no 5xx and
no response outside the schema; the hostile corpus through `POST /v1/faces` with the server's memory watched."""

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agegender import VIDEO_EXTENSIONS
from tests.hostile_corpus import write_corpus
from tests.service_server import server

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
PER_ENDPOINT = 500


def _fuzz(url: str, session, strategy, examples: int, rounds_seed: int, sent: Counter, label: str) -> bool:
    """Up to `examples` generated requests, each answer checked; False if no request could be generated."""
    @seed(rounds_seed)
    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(case=strategy)
    def call(case):
        response = case.call(base_url=url, session=session, timeout=60)
        sent[label] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        call()
    except Unsatisfiable:  # no negative data for an endpoint without parameters
        return False
    return True


def test_generated_requests_to_every_endpoint_conform():
    """At least 500 generated requests per endpoint (positive and negative data; endpoints without parameters have
    few distinct requests, so rounds with new seeds repeat until 500 are sent), every answer within the schema."""
    # Video jobs of random bytes end at once; many are kept briefly so that the limit on jobs is not what answers.
    with server("--video-jobs", "100000", "--video-ttl", "1") as running:
        schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
        sent: Counter = Counter()
        session = requests.Session()
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            modes, round_ = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], 0
            while sent[label] < PER_ENDPOINT and round_ < 2 * PER_ENDPOINT:
                mode = modes[round_ % len(modes)]
                strategy = operation.as_strategy(generation_mode=mode)
                if not _fuzz(running.url, session, strategy, PER_ENDPOINT - sent[label], round_, sent, label):
                    modes.remove(mode)
                round_ += 1
        print(f"generated requests per endpoint: {dict(sent)}")
        assert len(sent) == 9 and min(sent.values()) >= PER_ENDPOINT, sent
        codes = {line.split('code="')[1][:3] for line in httpx.get(f"{running.url}/metrics").text.splitlines()
                 if line.startswith("agegender_requests_total{")}
        assert not any(code.startswith("5") for code in codes), codes


def _rss(process: psutil.Process) -> int:
    return process.memory_info().rss


def test_hostile_corpus_through_the_api(tmp_path):
    """Every file a 200 (faces or none) or a 4xx with a message; memory under 1 GB, back near idle afterwards."""
    expected = write_corpus(tmp_path)
    with server() as running:
        process = psutil.Process(running.process.pid)
        idle, peak, watching = _rss(process), [0], True

        def watch():
            while watching:
                peak[0] = max(peak[0], _rss(process))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        answers = {}
        try:
            for _ in range(3):
                for name in sorted(expected):
                    data = (tmp_path / name).read_bytes()
                    answers[name] = httpx.post(f"{running.url}/v1/faces", files={"file": (name, data)}, timeout=60)
        finally:
            watching = False
            watcher.join()
        time.sleep(1)
        after = _rss(process)
    for name, status in expected.items():
        answer, video = answers[name], Path(name).suffix in VIDEO_EXTENSIONS
        if status == "error" or video:  # a video is not an image: 415 here (videos go to /v1/videos)
            assert 400 <= answer.status_code < 500 and answer.json()["detail"].startswith(f"{name}: "), name
        else:
            assert answer.status_code == 200 and answer.json()["status"] == status, (name, answer.text)
    print(f"server memory: idle {idle / 1e6:.0f} MB, peak {peak[0] / 1e6:.0f} MB, after {after / 1e6:.0f} MB")
    assert peak[0] < 1e9 and after - idle < 100e6
