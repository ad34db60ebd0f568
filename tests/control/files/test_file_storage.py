"""control.files.storage and control.files.s3: the same scenario against the local directory and an
S3-compatible bucket. No real S3-compatible server (MinIO, Ceph) is available here, so the bucket is
moto's local server (moto[server]), which speaks the S3 HTTP API that aioboto3 calls."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from control.files.settings import FileSettings, S3Settings
from control.files.storage import LocalStorage, MissingFile, Storage, new_key, open_storage


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    client.create_bucket(Bucket="podium-files")
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
async def storage(request, tmp_path: Path) -> Storage:
    if request.param == "local":
        store: Storage = open_storage(FileSettings(), tmp_path)
        assert isinstance(store, LocalStorage)
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        s3 = S3Settings(
            bucket="podium-files",
            endpoint_url=endpoint,
            region="us-east-1",
            access_key_id="test",
            secret_access_key="test",
            prefix="t/",
        )
        store = open_storage(FileSettings(s3=s3), tmp_path)
    yield store
    await store.close()


async def read_all(store: Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(key)])


async def test_put_read_delete(storage: Storage):
    content = secrets.token_bytes(200_000)
    staged = storage.staging() / "upload-test"
    staged.write_bytes(content)
    key = new_key()
    await storage.put(key, staged, "application/pdf")
    assert not staged.exists()  # the staged file is handed over
    assert await read_all(storage, key) == content
    await storage.delete(key)
    with pytest.raises(MissingFile):
        await read_all(storage, key)
    await storage.delete(key)  # deleting what is absent is fine


async def test_keys_are_podiums_own(storage: Storage):
    for bad in ("../../etc/passwd", "ab/../../x", "AB/" + "0" * 32, ""):
        with pytest.raises(ValueError):
            await read_all(storage, bad)
