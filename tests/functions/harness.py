"""Runs the function packages fleetform built the way their cloud runs them.

`tests/functions.rs` builds real specs, writes each output, and hands this harness a manifest
(`FLEETFORM_FUNCTIONS_MANIFEST`): every module folder with its Terraform parsed into JSON, and a
CA and device certificate made by `fleetform certs`. From there this module

- finds every function package (the zips Terraform deploys) and what Terraform deploys it with:
  handler, runtime, timeout, environment, IAM grants, triggers;
- loads a package from its zip with the imports its runtime really has: the standard library
  plus boto3/botocore on AWS Lambda (python3.12), plus azure.functions on Azure Functions. A
  package that imports anything else fails here, even though this test venv has moto, pytest
  and cryptography installed: imports are checked statically (every `import` in the source)
  and while the code runs (`builtins.__import__`, which also catches modules that are
  already loaded in this process);
- makes the AWS resources a function reads from their Terraform definitions (DynamoDB tables
  with their key schemas, SNS topics, IoT policies) inside moto, and resolves the function's
  environment (`${aws_dynamodb_table.state.name}`) to those fakes;
- records every AWS API call a handler makes and checks each one against the IAM policy of
  the function's role in the generated Terraform.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import fnmatch
import importlib.util
import json
import os
import re
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

MANIFEST = json.loads(Path(os.environ["FLEETFORM_FUNCTIONS_MANIFEST"]).read_text())

# ------------------------------------------------------------------------------------------
# Terraform, as the Rust side parsed it


def as_list(value: Any) -> list:
    """A block that may appear once (an object) or several times (a list), as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclasses.dataclass
class Module:
    """One generated root module (`aws/`, `azure/`, or `<env>/aws/`)."""

    spec: str
    cloud: str
    path: Path
    files: dict

    def blocks(self, kind: str) -> dict:
        """`resource` or `data` blocks of every file, merged: {type: {label: body}}."""
        out: dict = {}
        for body in self.files.values():
            for typ, labels in (body.get(kind) or {}).items():
                out.setdefault(typ, {}).update(labels)
        return out

    def resources(self, typ: str) -> dict:
        return self.blocks("resource").get(typ, {})

    def data(self, typ: str) -> dict:
        return self.blocks("data").get(typ, {})

    def variables(self) -> dict:
        out: dict = {}
        for body in self.files.values():
            out.update(body.get("variable") or {})
        return out

    def text(self, rel: str) -> str:
        return (self.path / rel).read_text()

    @property
    def name(self) -> str:
        """`minimal:aws`, or `environments:dev/aws` for an environment's module."""
        if self.path.parent.name == self.spec:
            return f"{self.spec}:{self.path.name}"
        return f"{self.spec}:{self.path.parent.name}/{self.path.name}"


MODULES = [
    Module(m["spec"], m["cloud"], Path(m["path"]), m["terraform"]) for m in MANIFEST["modules"]
]
CERTIFICATES = MANIFEST["certificates"]

REF = re.compile(r"^\$\{([^{}]+)\}$")


def ref(expr: Any) -> str | None:
    """`aws_dynamodb_table.state.name` for `"${aws_dynamodb_table.state.name}"`, else None."""
    if not isinstance(expr, str):
        return None
    match = REF.match(expr)
    return match.group(1) if match else None


def address(expr: Any) -> str | None:
    """The resource address an attribute reference names (`aws_dynamodb_table.state`)."""
    target = ref(expr)
    if not target:
        return None
    parts = target.split(".")
    return ".".join(parts[:2]) if len(parts) >= 3 else None


# ------------------------------------------------------------------------------------------
# Runtimes


@dataclasses.dataclass(frozen=True)
class Runtime:
    """What a function's runtime can import besides the standard library."""

    name: str
    # Importable top-level packages (or dotted packages, such as azure.functions).
    packages: frozenset
    # Standard library modules this interpreter has and the runtime's Python no longer does.
    removed: frozenset
    # Environment the runtime sets itself (not from Terraform).
    environment: frozenset

    def allows(self, module: str) -> bool:
        top = module.split(".")[0]
        if top in self.removed:
            return False
        if top in sys.stdlib_module_names:
            return True
        return any(module == p or module.startswith(p + ".") for p in self.packages)


# https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html: the runtime includes the
# SDK for Python (boto3, with botocore); nothing else outside the standard library. Python 3.12
# removed asynchat, asyncore, distutils, imp and smtpd (PEP 594, PEP 632).
LAMBDA_PYTHON312 = Runtime(
    name="AWS Lambda python3.12",
    packages=frozenset({"boto3", "botocore"}),
    removed=frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    environment=frozenset(
        {
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "LAMBDA_TASK_ROOT",
        }
    ),
)

# The Functions Python worker provides azure.functions; a run-from-package app (how fleetform
# deploys) gets no remote build, so nothing from requirements.txt is installed besides it.
AZURE_FUNCTIONS_PYTHON311 = Runtime(
    name="Azure Functions Python 3.11",
    packages=frozenset({"azure.functions"}),
    removed=frozenset(),
    environment=frozenset({"WEBSITE_SITE_NAME", "FUNCTIONS_WORKER_RUNTIME"}),
)


def imported_modules(tree: ast.AST) -> list[str]:
    """Every absolute module an `import` statement in the source names."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.append("." * node.level + (node.module or ""))
            elif node.module == "azure":
                out.extend(f"azure.{alias.name}" for alias in node.names)
            else:
                out.append(node.module or "")
    return out


def private_attributes(tree: ast.AST) -> list[str]:
    """`module._private` uses: undocumented APIs that a runtime update may remove."""
    return sorted(
        {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not (node.attr.startswith("__") and node.attr.endswith("__"))
        }
    )


def environment_reads(tree: ast.AST) -> set[str]:
    """Names read with os.environ[...], os.environ.get(...) or os.getenv(...)."""
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            environ_get = (
                func.attr == "get"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "environ"
            )
            if (environ_get or func.attr == "getenv") and node.args:
                if isinstance(node.args[0], ast.Constant):
                    names.add(node.args[0].value)
    return names


class ImportRefused(ModuleNotFoundError):
    pass


@contextlib.contextmanager
def imports_of(module_name: str, runtime: Runtime, shipped: frozenset = frozenset()) -> Iterator[None]:
    """While active, imports made by `module_name` must exist in `runtime` (or be modules
    `shipped` in the same package)."""
    real = builtins.__import__

    def guarded(name, globals=None, locals=None, fromlist=(), level=0):
        # `__import__("x")` called by hand passes no globals: look at the caller.
        caller = globals if globals is not None else sys._getframe(1).f_globals
        if level == 0 and caller.get("__name__") == module_name:
            wanted = [name]
            if name == "azure" and fromlist:
                wanted = [f"azure.{item}" for item in fromlist]
            for module in wanted:
                if not runtime.allows(module) and module.split(".")[0] not in shipped:
                    raise ImportRefused(f"No module named {module!r} in {runtime.name}")
        return real(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded
    try:
        yield
    finally:
        builtins.__import__ = real


@dataclasses.dataclass
class Loaded:
    """A package's entry module, imported under its runtime's import rules."""

    module: Any
    runtime: Runtime
    source: str
    shipped: frozenset

    def call(self, name: str, *args, **kwargs):
        with imports_of(self.module.__name__, self.runtime, self.shipped):
            return getattr(self.module, name)(*args, **kwargs)

    def call_function(self, function, *args):
        """Runs an Azure Functions v2 function (from `app.get_functions()`)."""
        with imports_of(self.module.__name__, self.runtime, self.shipped):
            return function.get_user_function()(*args)


def dynamic_imports(tree: ast.AST) -> list[str]:
    """Calls that import by name at run time, which no static check can follow."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "__import__":
                out.append("__import__")
            elif isinstance(func, ast.Attribute) and func.attr == "import_module":
                out.append("importlib.import_module")
    return out


def shipped_modules(files: list[str]) -> frozenset:
    """Top-level modules and packages a zip carries next to its entry module."""
    return frozenset(
        name.split("/")[0].removesuffix(".py")
        for name in files
        if name.endswith(".py") or "/" in name
    )


def check_source(source: str, entry: str, runtime: Runtime, files: list[str]) -> ast.AST:
    """Fails on imports the runtime does not have, dynamic imports and private APIs."""
    tree = ast.parse(source, filename=entry)
    shipped = shipped_modules(files)
    for module in imported_modules(tree):
        if module.startswith(".") or module.split(".")[0] in shipped:
            continue
        if not runtime.allows(module):
            raise AssertionError(f"{entry} imports {module!r}, which {runtime.name} does not have")
    dynamic = dynamic_imports(tree)
    assert not dynamic, f"{entry} imports by name at run time ({dynamic}); import statically"
    private = private_attributes(tree)
    assert not private, f"{entry} uses undocumented (private) attributes: {private}"
    return tree


def load(zip_path: Path, entry: str, runtime: Runtime, dest: Path) -> Loaded:
    """Extracts a package and imports `entry` from it under `runtime`'s rules."""
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        archive.extractall(dest)
    assert entry in names, f"{zip_path.name} has no {entry}: {names}"
    source = (dest / entry).read_text()
    check_source(source, entry, runtime, names)
    name = f"fleetform_{Path(entry).stem}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, dest / entry)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(dest))
    shipped = shipped_modules(names)
    try:
        with imports_of(name, runtime, shipped):
            spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(dest))
    return Loaded(module, runtime, source, shipped)


# ------------------------------------------------------------------------------------------
# AWS: Lambda functions and the fakes they talk to


@dataclasses.dataclass
class Lambda:
    """One generated `aws_lambda_function` and what Terraform deploys it with."""

    module: Module
    label: str
    body: dict

    @property
    def kind(self) -> str:
        return "alert" if self.label.startswith("alert_") else self.label

    @property
    def zip(self) -> Path:
        filename = self.body["filename"]
        assert filename.startswith("${path.module}/"), filename
        return self.module.path / filename.removeprefix("${path.module}/")

    @property
    def entry(self) -> tuple[str, str]:
        file, _, function = self.body["handler"].rpartition(".")
        return f"{file.replace('.', '/')}.py", function

    @property
    def environment(self) -> dict:
        env = self.body.get("environment") or {}
        return dict(env.get("variables") or {})

    @property
    def role(self) -> str:
        return address(self.body["role"]).split(".")[1]

    def statements(self) -> list[dict]:
        """The inline policy of the function's role."""
        doc = self.module.data("aws_iam_policy_document").get(self.role)
        assert doc, f"{self.label}: no policy document for role {self.role}"
        return as_list(doc.get("statement"))

    def grants(self, action: str, resource: str | None = None) -> bool:
        """Whether the role allows `action` (on the Terraform address `resource`)."""
        for stmt in self.statements():
            if stmt.get("effect", "Allow") != "Allow":
                continue
            if not any(fnmatch.fnmatchcase(action, a) for a in stmt.get("actions", [])):
                continue
            if resource is None:
                return True
            resources = stmt.get("resources", [])
            if any(address(r) == resource for r in resources) or "*" in resources:
                return True
        return False

    def __repr__(self) -> str:  # pytest ids
        return f"{self.module.name}:{self.label}"


def lambdas(kind: str | None = None) -> list[Lambda]:
    out = []
    for module in MODULES:
        if module.cloud != "aws":
            continue
        for label, body in sorted(module.resources("aws_lambda_function").items()):
            fn = Lambda(module, label, body)
            if kind is None or fn.kind == kind:
                out.append(fn)
    return out


def region(module: Module) -> str:
    return module.variables()["region"]["default"]


class LambdaContext:
    """The context object the Lambda runtime passes, with a real deadline."""

    def __init__(self, fn: Lambda, timeout: float | None = None):
        self.function_name = fn.label
        self.memory_limit_in_mb = fn.body.get("memory_size", 128)
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{region(fn.module)}:123456789012:function:{fn.label}"
        self._deadline = time.monotonic() + (timeout if timeout is not None else fn.body["timeout"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# boto3 service ids to IAM action prefixes.
IAM_PREFIX = {"IoT": "iot", "IoT Data Plane": "iot", "DynamoDB": "dynamodb", "SNS": "sns"}


@dataclasses.dataclass
class Call:
    service: str
    operation: str
    params: dict

    @property
    def action(self) -> str:
        prefix = IAM_PREFIX.get(self.service)
        assert prefix, f"add the IAM prefix of {self.service!r} to IAM_PREFIX"
        return f"{prefix}:{self.operation}"


_LOADER = None


def botocore_session():
    """A fresh botocore session that shares one model loader: each new session would read
    and parse the service models again, which is most of a test's time."""
    global _LOADER
    import botocore.loaders
    import botocore.session

    if _LOADER is None:
        _LOADER = botocore.loaders.create_loader()
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER)
    return session


class Fakes:
    """The moto resources behind one Terraform module, named by their Terraform address."""

    def __init__(self, module: Module):
        import boto3

        self.module = module
        self.region = region(module)
        # The tests' own clients come from their own session, so only the handler's calls
        # are recorded.
        self.session = boto3.session.Session(region_name=self.region, botocore_session=botocore_session())
        self.names: dict[str, str] = {}  # Terraform address -> real name or ARN
        self.addresses: dict[str, str] = {}  # real name or ARN -> Terraform address
        self.values: dict[str, str] = {}  # whole expressions resolved by a test

    def client(self, service: str):
        return self.session.client(service, region_name=self.region)

    def table(self, label: str) -> str:
        """Creates the DynamoDB table `aws_dynamodb_table.<label>` with its Terraform keys."""
        addr = f"aws_dynamodb_table.{label}"
        if addr in self.names:
            return self.names[addr]
        body = self.module.resources("aws_dynamodb_table")[label]
        keys = [{"AttributeName": body["hash_key"], "KeyType": "HASH"}]
        if body.get("range_key"):
            keys.append({"AttributeName": body["range_key"], "KeyType": "RANGE"})
        attributes = [
            {"AttributeName": a["name"], "AttributeType": a["type"]}
            for a in as_list(body.get("attribute"))
        ]
        assert body["billing_mode"] == "PAY_PER_REQUEST"
        self.client("dynamodb").create_table(
            TableName=addr,
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
        )
        self._name(addr, addr)
        return addr

    def topic(self, label: str) -> str:
        addr = f"aws_sns_topic.{label}"
        if addr not in self.names:
            arn = self.client("sns").create_topic(Name=label)["TopicArn"]
            self._name(addr, arn)
        return self.names[addr]

    def iot_policy(self, label: str) -> str:
        addr = f"aws_iot_policy.{label}"
        if addr not in self.names:
            name = self.module.resources("aws_iot_policy")[label]["name"]
            name = name.replace("${local.name_prefix}", "prefix")
            document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}
            self.client("iot").create_policy(policyName=name, policyDocument=json.dumps(document))
            self._name(addr, name)
        return self.names[addr]

    def _name(self, addr: str, name: str) -> None:
        self.names[addr] = name
        self.addresses[name] = addr

    def resolve(self, expr: Any) -> str:
        """The value an environment expression has once the fakes exist."""
        if expr in self.values:
            return self.values[expr]
        if not isinstance(expr, str) or "${" not in expr:
            return str(expr)
        target = ref(expr)
        if target and target.startswith("var."):
            return str(self.module.variables()[target[4:]]["default"])
        addr = address(expr)
        if addr and target:
            typ, label = addr.split(".")
            attr = target.split(".")[2]
            make = {
                "aws_dynamodb_table": self.table,
                "aws_sns_topic": self.topic,
                "aws_iot_policy": self.iot_policy,
            }.get(typ)
            if make and attr in ("name", "arn", "id"):
                return make(label)
        raise AssertionError(
            f"{self.module.name}: the test does not know the value of {expr!r}; "
            "resolve it in the test (fakes.values[...]) or teach Fakes.resolve"
        )


@contextlib.contextmanager
def lambda_environment(fn: Lambda, fakes: Fakes, monkeypatch) -> Iterator[dict]:
    """The Lambda process environment: AWS's own variables plus the function's from Terraform."""
    env = {key: fakes.resolve(value) for key, value in fn.environment.items()}
    base = {
        "AWS_REGION": fakes.region,
        "AWS_DEFAULT_REGION": fakes.region,
        "AWS_LAMBDA_FUNCTION_NAME": fn.label,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.body.get("memory_size", 128)),
    }
    for key, value in {**base, **env}.items():
        monkeypatch.setenv(key, value)
    yield env


class Recorder:
    """Records every AWS API call made through boto3's default session (the handler's)."""

    def __init__(self):
        self.calls: list[Call] = []

    def __call__(self, params, model, **kwargs):
        self.calls.append(Call(model.service_model.service_id, model.name, dict(params)))

    def install(self, region_name: str) -> None:
        import boto3

        boto3.setup_default_session(region_name=region_name, botocore_session=botocore_session())
        boto3.DEFAULT_SESSION.events.register("provide-client-params", self)

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    def clear(self) -> None:
        self.calls.clear()


def assert_granted(fn: Lambda, fakes: Fakes, calls: list[Call]) -> None:
    """Each call is allowed by the role's policy; table and topic calls on that very resource."""
    for call in calls:
        resource = None
        for key in ("TableName", "TopicArn"):
            if key in call.params:
                resource = fakes.addresses.get(call.params[key])
                assert resource, f"{fn}: {call.operation} on an unknown {key} {call.params[key]!r}"
        assert fn.grants(call.action, resource), (
            f"{fn}: the handler calls {call.action}"
            + (f" on {resource}" if resource else "")
            + " but the role's policy does not allow it"
        )


def load_lambda(fn: Lambda, dest: Path) -> tuple[Loaded, Callable]:
    """Loads the function's zip under the Lambda runtime; returns the module and handler."""
    assert fn.body["runtime"] == "python3.12", fn.body["runtime"]
    entry, function = fn.entry
    loaded = load(fn.zip, entry, LAMBDA_PYTHON312, dest)
    assert_environment(loaded, set(fn.environment), fn)
    return loaded, lambda *args: loaded.call(function, *args)


def assert_environment(loaded: Loaded, provided: set, what) -> None:
    """Everything the code reads from its environment is set by Terraform or the runtime."""
    reads = environment_reads(ast.parse(loaded.source))
    missing = reads - provided - loaded.runtime.environment
    assert not missing, f"{what}: the code reads {sorted(missing)}, which Terraform never sets"


# ------------------------------------------------------------------------------------------
# Azure: function apps


@dataclasses.dataclass
class FunctionApp:
    """One generated `azurerm_linux_function_app` and its package."""

    module: Module
    label: str
    body: dict

    @property
    def zip(self) -> Path:
        return self.module.path / "functions" / f"{self.label}.zip"

    @property
    def settings(self) -> dict:
        return dict(self.body.get("app_settings") or {})

    def __repr__(self) -> str:
        return f"{self.module.name}:{self.label}"


def function_apps(label: str | None = None) -> list[FunctionApp]:
    out = []
    for module in MODULES:
        if module.cloud != "azure":
            continue
        for name, body in sorted(module.resources("azurerm_linux_function_app").items()):
            if label is None or name == label:
                out.append(FunctionApp(module, name, body))
    return out


def load_function_app(app: FunctionApp, dest: Path) -> Loaded:
    stack = (app.body.get("site_config") or {}).get("application_stack") or {}
    assert stack.get("python_version") == "3.11", stack
    loaded = load(app.zip, "function_app.py", AZURE_FUNCTIONS_PYTHON311, dest)
    assert_environment(loaded, set(app.settings), app)
    with zipfile.ZipFile(app.zip) as archive:
        requirements = archive.read("requirements.txt").decode()
    listed = {
        line.split("=")[0].split("<")[0].split(">")[0].strip().lower()
        for line in requirements.splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert listed == {"azure-functions"}, f"{app}: requirements.txt lists {listed}"
    return loaded


def ids(items) -> list[str]:
    return [repr(i) for i in items]
