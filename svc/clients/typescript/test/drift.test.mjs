// The checked-in src/generated.ts is what the running server's OpenAPI document generates.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { generate } from "../scripts/generate.mjs";
import { URL_ } from "./harness.mjs";

test("src/generated.ts matches the served OpenAPI document", async () => {
  const response = await fetch(`${URL_}/api/v1/openapi.json`);
  assert.equal(response.status, 200);
  const fresh = generate(await response.json());
  const checkedIn = await readFile(new URL("../src/generated.ts", import.meta.url), "utf8");
  assert.ok(fresh === checkedIn, "src/generated.ts drifted: npm run generate -- <server>/api/v1/openapi.json");
});
