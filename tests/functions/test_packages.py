"""Every function package the specs build is covered, ships what it should, and deploys with
settings that work on a real account."""

from __future__ import annotations

import zipfile

import pytest

from harness import MODULES, function_apps, ids, lambdas

# Each kind of function and the test file that runs it.
AWS_KINDS = {
    "alert": "test_alert.py",
    "jitr_activator": "test_jitr_activator.py",
    "pre_provisioning_hook": "test_pre_provisioning_hook.py",
    "read_state": "test_read_state.py",
}
AZURE_KINDS = {"alerts": "test_azure_alerts.py", "allocation": "test_azure_allocation.py"}


def test_every_package_is_of_a_kind_that_is_tested_and_every_kind_is_built():
    built = {fn.kind for fn in lambdas()}
    assert built <= set(AWS_KINDS), f"untested Lambda functions: {sorted(built - set(AWS_KINDS))}"
    assert built == set(AWS_KINDS), f"no spec builds {sorted(set(AWS_KINDS) - built)}"
    apps = {app.label for app in function_apps()}
    assert apps == set(AZURE_KINDS), f"function apps {sorted(apps)}"
    # Nothing else in the output looks like a function package.
    for module in MODULES:
        zips = {p.name for p in (module.path / "functions").glob("*.zip")}
        if module.cloud == "aws":
            expected = {fn.zip.name for fn in lambdas() if fn.module is module}
        else:
            expected = {app.zip.name for app in function_apps() if app.module is module}
        assert zips == expected, f"{module.name}: {sorted(zips)} but Terraform deploys {sorted(expected)}"


LAMBDAS = lambdas()


@pytest.mark.parametrize("fn", LAMBDAS, ids=ids(LAMBDAS))
def test_lambda_zip_is_the_reviewed_source(fn):
    with zipfile.ZipFile(fn.zip) as archive:
        assert archive.namelist() == ["handler.py"]
        code = archive.read("handler.py").decode()
    review = fn.module.path / "functions" / "src" / fn.zip.stem / "handler.py"
    assert review.read_text() == code, "the source next to the zip is not what is deployed"
    assert fn.body["source_code_hash"] == f'${{filebase64sha256("{fn.body["filename"]}")}}'


@pytest.mark.parametrize("fn", LAMBDAS, ids=ids(LAMBDAS))
def test_no_function_reserves_concurrency_unless_the_user_says_so(fn):
    """A reservation must leave the account 100 unreserved executions (Lambda's
    configuration-concurrency guide) and new accounts have a reduced quota, so a fixed one
    fails to apply there; it is also a ceiling, which would throttle the provisioning hook in
    a factory wave. Only the alert functions may be capped, through a variable that reserves
    nothing by default."""
    reserved = fn.body.get("reserved_concurrent_executions")
    if fn.kind == "alert":
        assert reserved == "${var.alert_function_reserved_concurrency}"
        assert fn.module.variables()["alert_function_reserved_concurrency"]["default"] == -1
    else:
        assert reserved is None, f"{fn} reserves {reserved}"


APPS = function_apps()


@pytest.mark.parametrize("app", APPS, ids=ids(APPS))
def test_function_app_zip_is_the_reviewed_source(app):
    with zipfile.ZipFile(app.zip) as archive:
        assert sorted(archive.namelist()) == ["function_app.py", "host.json", "requirements.txt"]
        for name in archive.namelist():
            review = app.module.path / "functions" / app.label / name
            assert review.read_bytes() == archive.read(name), f"{name} differs from the review copy"
    blob = app.module.resources("azurerm_storage_blob")[f"{app.label}_package"]
    assert blob["source"] == f"${{local.{app.label}_package}}"
    assert app.settings["WEBSITE_RUN_FROM_PACKAGE"] == f"${{azurerm_storage_blob.{app.label}_package.url}}"
