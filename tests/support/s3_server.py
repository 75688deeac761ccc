"""moto's S3 server (``moto.server.ThreadedMotoServer``) on 127.0.0.1, a real HTTP server.

    with S3Server() as s3:
        url = s3.presigned_put("results/out.mp4")   # what a client hands a worker
        ...
        s3.read("results/out.mp4")                    # what the worker uploaded

Credentials are dummies moto accepts; they are passed to boto3 explicitly, never through
os.environ, so nothing leaks into other tests. ``environment()`` is what a worker's
environment would hold to use the bucket itself (FACEDECK_S3_* and AWS_*).
"""

from __future__ import annotations

import logging
import uuid

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

ACCESS_KEY = "facedeck-test-key"
SECRET_KEY = "facedeck-test-secret"
REGION = "us-east-1"


class S3Server:
    """A moto S3 server on a free loopback port with one bucket; a context manager."""

    def __init__(self, bucket: str = "facedeck-results") -> None:
        self.bucket = bucket
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> S3Server:
        # moto's server logs each request line, presigned query and all, through werkzeug
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    def client(self):  # noqa: ANN201 - a boto3 S3 client
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    def unique_key(self, name: str) -> str:
        """A key no other test uses (the server lives for the whole session)."""
        return f"tests/{uuid.uuid4().hex}/{name}"

    def presigned_put(self, key: str, expires: int = 600) -> str:
        return self.client().generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
        )

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]

    def environment(self, prefix: str = "") -> dict[str, str]:
        """A worker environment that stores results in this bucket (under ``prefix``)."""
        env = {
            "FACEDECK_S3_BUCKET": self.bucket,
            "FACEDECK_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }
        if prefix:
            env["FACEDECK_S3_PREFIX"] = prefix
        return env
