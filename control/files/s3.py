"""An S3-compatible file store over aioboto3, for operators who keep files in a bucket.

Uploads are staged on local disk first (`LocalStorage`'s staging directory under the files
directory) and sent with a multipart upload by boto's transfer manager; reads stream the object's body.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aioboto3
import anyio.to_thread

from control.files.settings import S3Settings
from control.files.storage import CHUNK, MissingFile, check_key


class S3Storage:
    def __init__(self, settings: S3Settings, staging: Path) -> None:
        self.settings = settings
        self._staging = staging
        self._staging.mkdir(parents=True, exist_ok=True)
        self._session = aioboto3.Session(
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            region_name=settings.region,
        )
        self._stack = AsyncExitStack()
        self._client: Any = None

    def staging(self) -> Path:
        return self._staging

    async def _s3(self) -> Any:
        if self._client is None:
            self._client = await self._stack.enter_async_context(
                self._session.client("s3", endpoint_url=self.settings.endpoint_url)
            )
        return self._client

    def _key(self, key: str) -> str:
        return self.settings.prefix + check_key(key)

    async def put(self, key: str, staged: Path, content_type: str) -> None:
        s3 = await self._s3()
        try:
            await s3.upload_file(
                str(staged), self.settings.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
            )
        finally:
            await anyio.to_thread.run_sync(lambda: staged.unlink(missing_ok=True))

    async def read(self, key: str) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self.settings.bucket, Key=self._key(key))
        except s3.exceptions.NoSuchKey:
            raise MissingFile(key) from None
        body = response["Body"]
        async with body:  # releases the connection, read to the end or not
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.settings.bucket, Key=self._key(key))

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
