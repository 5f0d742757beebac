"""Fixtures shared by the function tests: moto for AWS, and a clean environment per test."""

from __future__ import annotations

import pytest

from harness import Fakes, Lambda, Recorder


@pytest.fixture(autouse=True)
def no_real_credentials(monkeypatch):
    """No test can reach a real account: fake credentials, no profile, no metadata lookups."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def aws(request):
    """moto for the test's module; yields (fakes, recorder). `fn` is the test's Lambda."""
    from moto import mock_aws

    fn: Lambda = request.getfixturevalue("fn")
    with mock_aws():
        fakes = Fakes(fn.module)
        recorder = Recorder()
        recorder.install(fakes.region)
        yield fakes, recorder
