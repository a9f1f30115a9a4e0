"""limit: tags as Ray task options, and the up-front check that keeps Ray from leaving a step pending."""

from __future__ import annotations

import pytest

from shipyard.bridge.defaults import notebook_defaults
from shipyard.bridge.raysteps import check_ray_capacity, ray_request
from shipyard.errors import InvalidInput, OperationFailed

fake_cluster = {"CPU": 2.0, "memory": 4.0 * 2**30, "object_store_memory": 1.0e8}


def test_limit_tags_become_ray_options() -> None:
    assert ray_request({}) == {"num_cpus": 1.0, "num_gpus": 0.0}
    assert ray_request({"cpu": "500m", "nvidia.com/gpu": "1", "memory": "1Gi", "example.com/fpga": "2"}) == {
        "num_cpus": 0.5,
        "num_gpus": 1.0,
        "memory": 2**30,
        "resources": {"example.com/fpga": 2.0},
    }


def test_requests_the_cluster_meets_pass() -> None:
    check_ray_capacity([("a", ray_request({"cpu": "2", "memory": "1Gi"}))], fake_cluster, "local")


@pytest.mark.parametrize(
    ("resources", "needle"),
    [
        ({"cpu": "8"}, "CPU 8 but the Ray cluster (local) has 2"),
        ({"nvidia.com/gpu": "1"}, "GPU 1 but the Ray cluster (local) has 0"),
        ({"memory": "64Gi"}, "memory 64.0 GiB but the Ray cluster (local) has 4.0 GiB"),
        ({"example.com/fpga": "1"}, "example.com/fpga 1 but"),
    ],
)
def test_requests_the_cluster_lacks_fail_fast(resources: dict[str, str], needle: str) -> None:
    with pytest.raises(OperationFailed) as info:
        check_ray_capacity(
            [("ok", ray_request({})), ("train", ray_request(resources))], fake_cluster, "local"
        )
    assert "step 'train'" in info.value.message and needle in info.value.message
    assert "lower the step's limit: tag" in info.value.message


def test_bad_quantity_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="not a number"):
        ray_request({"cpu": "lots"})


def test_notebook_metadata_ray_default() -> None:
    assert notebook_defaults({}).ray is False
    assert notebook_defaults({"shipyard": {"ray": True}}).ray is True
