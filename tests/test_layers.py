"""The layers of the code: serving never loads torch (it is an optional extra), and `model/` (the model's
data, training, export and runtime contract) never reaches up into `service/`, which builds on it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module `path` imports, wherever in the file the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_the_model_package_imports_the_service() -> None:
    reaching_up = {
        path.name: sorted(name for name in imported_modules(path) if name.split(".")[0] == "service")
        for path in sorted((ROOT / "model").glob("*.py"))
    }
    assert {name: modules for name, modules in reaching_up.items() if modules} == {}


def test_serving_a_request_loads_no_torch() -> None:
    program = """
import sys
from fastapi.testclient import TestClient
from service.main import create_app
from service.samples import astronaut_face
import cv2
with TestClient(create_app()) as client:
    ok, jpeg = cv2.imencode(".jpg", astronaut_face())
    answer = client.post("/predict", content=jpeg.tobytes(), headers={"Content-Type": "image/jpeg"})
    assert answer.status_code == 200, answer.text
print(sorted(name for name in sys.modules if name.split(".")[0] in ("torch", "torchvision")))
"""
    ran = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "[]"
