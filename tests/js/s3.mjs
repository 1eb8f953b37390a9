// The AWS SDK for JavaScript v3 against gureum, virtual-hosted style: BUCKET.s3.localhost.
// Usage: node s3.mjs <port> <bucket>; prints one JSON line of what it observed.
import http from "node:http";
import dns from "node:dns";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, DeleteObjectsCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const [port, bucket] = process.argv.slice(2);

// Node asks the system resolver, which may not know *.localhost names: answer them as loopback.
function lookup(hostname, options, callback) {
  if (typeof options === "function") [callback, options] = [options, {}];
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    return options && options.all
      ? callback(null, [{ address: "127.0.0.1", family: 4 }])
      : callback(null, "127.0.0.1", 4);
  }
  return dns.lookup(hostname, options, callback);
}

const client = new S3Client({
  region: "us-east-1",
  endpoint: `http://s3.localhost:${port}`,
  forcePathStyle: false,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  requestHandler: { httpAgent: new http.Agent({ keepAlive: true, lookup }) },
  maxAttempts: 1,
});

const out = {};
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: "hello from js" }));
out.putETag = put.ETag;
out.putChecksumCRC32 = put.ChecksumCRC32 ?? null;
out.putSSE = put.ServerSideEncryption ?? null;
const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", ChecksumMode: "ENABLED" }));
out.body = await got.Body.transformToString();
out.getChecksumCRC32 = got.ChecksumCRC32 ?? null;

const big = Buffer.alloc(11 * 1024 * 1024, 7);
const upload = new Upload({
  client, params: { Bucket: bucket, Key: "big.bin", Body: big }, partSize: 5 * 1024 * 1024, queueSize: 2,
});
const done = await upload.done();
out.multipartETag = done.ETag;
const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "big.bin" }));
out.bigLength = head.ContentLength;
out.headSSE = head.ServerSideEncryption ?? null;

const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
out.keys = (listed.Contents ?? []).map((o) => o.Key);
const deleted = await client.send(new DeleteObjectsCommand({
  Bucket: bucket, Delete: { Objects: out.keys.map((Key) => ({ Key })) },
}));
out.deleted = (deleted.Deleted ?? []).map((d) => d.Key).sort();
const after = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
out.keysAfter = after.KeyCount;
console.log(JSON.stringify(out));
