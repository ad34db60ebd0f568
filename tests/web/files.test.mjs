// control/web/lib/files.js: the requests it makes with the join token, and the errors it reports.

import { test } from "node:test";
import assert from "node:assert/strict";

import { Files, formatSize } from "../../control/web/lib/files.js";

function fakeFetch(answer) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return answer(url, init);
  };
  return { calls, fetchImpl };
}

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

test("sharing posts the file as multipart with the join token, to everyone or to one participant", async () => {
  const { calls, fetchImpl } = fakeFetch(() => json(201, { id: "f1", name: "a.txt" }));
  let refreshed = 0;
  const files = new Files({ token: async () => `t${++refreshed}`, fetchImpl });
  const file = new File(["hello"], "a.txt", { type: "text/plain" });
  assert.deepEqual(await files.share("m1", "p1", file), { id: "f1", name: "a.txt" });
  await files.share("m1", "p1", file, { to: "p2" });
  assert.equal(calls[0].url, "/api/v1/meetings/m1/files?participant=p1");
  assert.equal(calls[1].url, "/api/v1/meetings/m1/files?participant=p1&to=p2");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(calls[1].init.headers.Authorization, "Bearer t2"); // the token is asked for on every call
  const sent = calls[0].init.body.get("file");
  assert.equal(sent.name, "a.txt");
  assert.equal(await sent.text(), "hello");
});

test("a refusal becomes an ApiError with the server's code", async () => {
  const { fetchImpl } = fakeFetch(() => json(413, { error: { code: "file_too_large", message: "a file may hold at most 1 bytes" } }));
  const files = new Files({ token: "t", fetchImpl });
  await assert.rejects(files.addMaterial("r1", new File(["xx"], "b.pdf")), (error) => {
    assert.equal(error.status, 413);
    assert.equal(error.code, "file_too_large");
    return true;
  });
});

test("materials, blobs and deletes", async () => {
  const { calls, fetchImpl } = fakeFetch((url, init) => {
    if (init.method === "DELETE") return new Response(null, { status: 204 });
    if (url.endsWith("/content")) return new Response("bytes", { status: 200 });
    return json(200, { items: [] });
  });
  const files = new Files({ token: "t", fetchImpl });
  assert.deepEqual(await files.materials("r1"), { items: [] });
  assert.equal(await (await files.blob({ url: "/api/v1/files/f1/content", name: "x" })).text(), "bytes");
  assert.equal(await files.remove("f1"), undefined);
  assert.deepEqual(calls.map((c) => `${c.init.method} ${c.url}`), [
    "GET /api/v1/rooms/r1/materials", "GET /api/v1/files/f1/content", "DELETE /api/v1/files/f1",
  ]);
});

test("sizes for people", () => {
  assert.equal(formatSize(512), "512 B");
  assert.equal(formatSize(1536), "1.5 KB");
  assert.equal(formatSize(25 * 1024 * 1024), "25 MB");
});
