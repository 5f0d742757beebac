"""The harness itself: a package that imports what its runtime lacks fails, even though this
venv has it installed (requests, moto, cryptography are all importable here)."""

from __future__ import annotations

import zipfile

import pytest

import harness
from harness import AZURE_FUNCTIONS_PYTHON311, LAMBDA_PYTHON312, ImportRefused, load


def package(tmp_path, source: str, entry: str = "handler.py"):
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(entry, source)
        archive.writestr("helper.py", "VALUE = 1\n")
    return path


@pytest.mark.parametrize(
    "source",
    [
        "import requests\n",
        "import cryptography.x509\n",
        "from moto import mock_aws\n",
        "import imp\n",  # gone in Python 3.12
        "import azure.functions\n",  # not on Lambda
    ],
)
def test_lambda_package_importing_what_the_runtime_lacks_fails(tmp_path, source):
    with pytest.raises(AssertionError, match="does not have"):
        load(package(tmp_path, source), "handler.py", LAMBDA_PYTHON312, tmp_path / "x")


def test_an_import_in_a_function_fails_when_it_runs_even_if_already_loaded(tmp_path):
    # `requests` is already loaded in this process (moto uses it); the guard still refuses,
    # and the static check does too.
    import requests  # noqa: F401

    source = "import json\n\ndef handler(event, context):\n    import requests\n    return requests\n"
    with pytest.raises(AssertionError, match="does not have"):
        load(package(tmp_path, source), "handler.py", LAMBDA_PYTHON312, tmp_path / "x")
    loaded = load(package(tmp_path, "import json\n"), "handler.py", LAMBDA_PYTHON312, tmp_path / "y")
    # What the runtime guard sees when code of the package runs an import statement.
    with pytest.raises(ImportRefused), harness.imports_of(loaded.module.__name__, LAMBDA_PYTHON312):
        exec("import requests", loaded.module.__dict__)


def test_dynamic_imports_fail(tmp_path):
    for source in ("m = __import__('requests')\n", "import importlib\nm = importlib.import_module('x')\n"):
        with pytest.raises(AssertionError, match="at run time"):
            load(package(tmp_path, source), "handler.py", LAMBDA_PYTHON312, tmp_path / "x")


def test_the_runtime_modules_and_siblings_load(tmp_path):
    source = "import json, os, ssl\nimport boto3\nfrom botocore.config import Config\nimport helper\n\ndef handler(e, c):\n    return helper.VALUE\n"
    loaded = load(package(tmp_path, source), "handler.py", LAMBDA_PYTHON312, tmp_path / "x")
    assert loaded.call("handler", {}, None) == 1


def test_azure_packages_get_azure_functions_and_nothing_else(tmp_path):
    ok = "import azure.functions as func\nfrom azure import functions\n"
    load(package(tmp_path, ok, "function_app.py"), "function_app.py", AZURE_FUNCTIONS_PYTHON311, tmp_path / "a")
    for bad in ("import boto3\n", "from azure import identity\n", "import azure.storage.blob\n"):
        with pytest.raises(AssertionError, match="does not have"):
            load(package(tmp_path, bad, "function_app.py"), "function_app.py", AZURE_FUNCTIONS_PYTHON311, tmp_path / "b")


def test_private_stdlib_apis_fail(tmp_path):
    source = "import ssl\n\ndef f(p):\n    return ssl._ssl._test_decode_cert(p)\n"
    with pytest.raises(AssertionError, match="undocumented"):
        load(package(tmp_path, source), "handler.py", LAMBDA_PYTHON312, tmp_path / "x")


def test_environment_reads_are_found():
    import ast

    tree = ast.parse("import os\nA = os.environ['A']\nB = os.environ.get('B')\nC = os.getenv('C', 'x')\n")
    assert harness.environment_reads(tree) == {"A", "B", "C"}
