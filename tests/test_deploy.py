"""The Dockerfile and the Kubernetes manifests agree with the app they ship."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from service.config import Settings
from service.main import create_app

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def manifest(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy" / name).read_text())


def container() -> dict[str, Any]:
    (only,) = manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    return only


def test_every_moodfeed_variable_in_the_deployment_is_a_setting_with_a_valid_value() -> None:
    env = {item["name"]: item["value"] for item in container()["env"]}
    ours = {name: value for name, value in env.items() if name.startswith("MOODFEED_")}
    assert ours
    fields = {f"MOODFEED_{field.upper()}" for field in Settings.model_fields}
    assert set(ours) <= fields
    Settings.model_validate({name.removeprefix("MOODFEED_").lower(): value for name, value in ours.items()})


def test_probes_ask_routes_the_app_serves() -> None:
    paths = create_app(Settings()).openapi()["paths"]
    spec = container()
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "/healthz" in paths and "/readyz" in paths


def test_image_port_user_and_command_match_the_deployment() -> None:
    spec = container()
    pod = manifest("deployment.yaml")["spec"]["template"]["spec"]
    assert f"EXPOSE {Settings().port}" in DOCKERFILE
    assert spec["ports"][0]["containerPort"] == Settings().port
    user = re.search(r"^USER (\d+):(\d+)$", DOCKERFILE, re.MULTILINE)
    assert user and (int(user[1]), int(user[2])) == (
        pod["securityContext"]["runAsUser"],
        pod["securityContext"]["runAsGroup"],
    )
    assert 'CMD ["moodfeed", "serve", "--host", "0.0.0.0"]' in DOCKERFILE
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE


def test_service_and_autoscaler_point_at_the_deployment() -> None:
    deployment = manifest("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = manifest("service.yaml")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == container()["ports"][0]["name"]
    target = manifest("hpa.yaml")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
