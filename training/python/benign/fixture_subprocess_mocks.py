# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Tests of the release script with every external command mocked out."""
import subprocess
from unittest import mock

import release


def completed(stdout="", returncode=0):
    return subprocess.CompletedProcess(args=[], returncode=returncode, stdout=stdout, stderr="")


@mock.patch("release.subprocess.run")
def test_tags_and_pushes(run):
    run.side_effect = [
        completed("v1.4.2\n"),
        completed(""),
        completed(""),
        completed("https://uploads.example.com/artifacts/v1.4.3.tar.gz\n"),
    ]
    release.main(["--bump", "patch"])
    calls = [c.args[0] for c in run.call_args_list]
    assert calls[0] == ["git", "describe", "--tags", "--abbrev=0"]
    assert calls[1] == ["git", "tag", "v1.4.3"]
    assert calls[2] == ["git", "push", "origin", "v1.4.3"]
    assert calls[3][:2] == ["curl", "-fsS"]


@mock.patch("release.os.system", return_value=0)
@mock.patch("release.subprocess.check_output", return_value=b"linux-x86_64\n")
def test_builds_wheel(check_output, system):
    release.build()
    system.assert_called_once_with("python -m build --wheel")


@mock.patch("release.subprocess.Popen")
def test_streams_logs(popen):
    proc = popen.return_value.__enter__.return_value
    proc.stdout = iter([b"step 1\n", b"step 2\n"])
    proc.wait.return_value = 0
    assert release.stream(["make", "dist"]) == ["step 1", "step 2"]
