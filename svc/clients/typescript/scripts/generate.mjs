#!/usr/bin/env node
// Writes src/generated.ts from the service's OpenAPI document: the schemas as TypeScript types
// and one typed method per operation. Plain Node (no build step, no dependency), so that the
// drift test can run it against the document a live server serves.
//
//   node scripts/generate.mjs <openapi.json file or http(s) URL> [output, default src/generated.ts]
//   node scripts/generate.mjs --check <document> [output]   exits 1 when the output would change
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const SCHEMAS = "#/components/schemas/";
const PARAMETERS = "#/components/parameters/";
const DRY_RUN = "DryRun";

export function camel(name) {
  return name.replace(/^X-/, "").replace(/[-_]+([A-Za-z0-9])/g, (_, c) => c.toUpperCase())
    .replace(/^[A-Z]/, (c) => c.toLowerCase());
}

function comment(text, indent = "") {
  if (!text) return "";
  const lines = String(text).replace(/\*\//g, "*\\/").split("\n");
  return `${indent}/** ${lines.join(`\n${indent} * `)} */\n`;
}

function key(name) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

/** The TypeScript type of a JSON Schema (the subset pydantic emits). */
export function typeOf(schema, indent = "") {
  if (schema === true || schema === undefined || Object.keys(schema).length === 0) return "unknown";
  if (schema.$ref) return schema.$ref.slice(SCHEMAS.length);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alternatives = schema.anyOf || schema.oneOf;
  // Beside a `type`, alternatives without types of their own only constrain (as in Grant).
  const constraints = schema.type && alternatives?.every((s) => !s.type && !s.$ref);
  if (alternatives && !constraints) {
    const parts = [...new Set((schema.anyOf || schema.oneOf).map((s) => typeOf(s, indent)))];
    return parts.join(" | ");
  }
  if (schema.allOf) return schema.allOf.map((s) => typeOf(s, indent)).join(" & ");
  if (Array.isArray(schema.type)) {
    return schema.type.map((t) => typeOf({ ...schema, type: t }, indent)).join(" | ");
  }
  switch (schema.type) {
    case "string": return "string";
    case "integer": case "number": return "number";
    case "boolean": return "boolean";
    case "null": return "null";
    case "array": {
      const item = typeOf(schema.items, indent);
      return /[|&]/.test(item) ? `(${item})[]` : `${item}[]`;
    }
    case "object": return objectType(schema, indent);
    default: return "unknown";
  }
}

function objectType(schema, indent) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const names = Object.keys(props);
  if (names.length === 0) {
    const extra = schema.additionalProperties;
    return `{ [key: string]: ${extra && extra !== true ? typeOf(extra, indent) : "unknown"} }`;
  }
  const inner = indent + "  ";
  const lines = names.map((name) => {
    const prop = props[name];
    const optional = required.has(name) ? "" : "?";
    return `${comment(prop.description, inner)}${inner}${key(name)}${optional}: ${typeOf(prop, inner)};`;
  });
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function schemaDecl(name, schema) {
  const type = typeOf(schema);
  const doc = comment(schema.description);
  return type.startsWith("{\n")
    ? `${doc}export interface ${name} ${type}\n`
    : `${doc}export type ${name} = ${type};\n`;
}

function resolve(doc, parameter) {
  return parameter.$ref ? doc.components.parameters[parameter.$ref.slice(PARAMETERS.length)] : parameter;
}

function successTypes(op) {
  const types = [];
  for (const [status, response] of Object.entries(op.responses)) {
    if (!/^2/.test(status)) continue;
    const schema = response.content?.["application/json"]?.schema;
    const found = schema ? typeOf(schema).split(" | ") : ["void"];
    for (const t of found) if (!types.includes(t)) types.push(t);
  }
  return types;
}

function operation(doc, path, method, op) {
  const name = camel(op.operationId);
  const params = (op.parameters || []).map((p) => resolve(doc, p));
  const inPath = params.filter((p) => p.in === "path");
  // Path parameters in the order the path names them.
  inPath.sort((a, b) => path.indexOf(`{${a.name}}`) - path.indexOf(`{${b.name}}`));
  const options = params.filter((p) => p.in === "query" || p.in === "header");
  const dryRun = options.some((p) => p.name === "dry_run");
  const body = op.requestBody?.content?.["application/json"]?.schema;
  const optionsType = `${name[0].toUpperCase()}${name.slice(1)}Options`;
  const optionLines = options.map((p) => {
    const t = p.name === "dry_run" ? "boolean" : typeOf(p.schema);
    return `${comment(p.description, "  ")}  ${key(camel(p.name))}?: ${t};`;
  });
  const decl = `export interface ${optionsType} extends CallOptions {\n${optionLines.join("\n")}\n}\n`;
  const args = [
    ...inPath.map((p) => `${key(camel(p.name))}: ${p.name === "version" ? "number" : "string"}`),
    ...(body ? [`body: ${typeOf(body)}`] : []),
  ];
  const call = (extra) => [...args, `options${extra}`].join(", ");
  const types = successTypes(op);
  const real = types.filter((t) => t !== DRY_RUN);
  const spec = {
    method: method.toUpperCase(),
    path,
    path_params: inPath.map((p) => [p.name, camel(p.name)]),
    query: options.filter((p) => p.in === "query").map((p) => [p.name, camel(p.name)]),
    headers: options.filter((p) => p.in === "header").map((p) => [p.name, camel(p.name)]),
    body: Boolean(body),
  };
  const summary = comment(`${op.summary || name} (\`${spec.method} ${path}\`, operation \`${op.operationId}\`).`, "  ");
  const sigs = [];
  if (dryRun) {
    sigs.push(`${summary}  ${name}(${call(`: ${optionsType} & { dryRun: true }`)}): Promise<${DRY_RUN}>;`);
    sigs.push(`  ${name}(${call(`?: ${optionsType} & { dryRun?: false }`)}): Promise<${real.join(" | ")}>;`);
    sigs.push(`  ${name}(${call(`?: ${optionsType}`)}): Promise<${types.join(" | ")}>;`);
  }
  const impl = `${dryRun ? "" : summary}  ${name}(${call(`: ${optionsType} = {}`)}): Promise<${types.join(" | ")}> {
    const args: Record<string, unknown> = { ${inPath.map((p) => `${JSON.stringify(camel(p.name))}: ${key(camel(p.name))}`).join(", ")} };
    return this.call(OPERATIONS.${name}, args, ${body ? "body" : "undefined"}, options) as Promise<${types.join(" | ")}>;
  }`;
  return { name, spec, decl, method: [...sigs, impl].join("\n") };
}

export function generate(doc) {
  const out = [
    "// GENERATED by scripts/generate.mjs from the service's OpenAPI document: do not edit.",
    "// Regenerate: npm run generate -- <server URL>/api/v1/openapi.json (a test fails on drift).",
    "/* eslint-disable */",
    'import type { CallOptions, OperationSpec } from "./http.js";',
    "",
  ];
  for (const [name, schema] of Object.entries(doc.components.schemas)) out.push(schemaDecl(name, schema));
  const ops = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op.responses["101"]) continue; // the live feed: see live.ts
      ops.push(operation(doc, path, method, op));
    }
  }
  for (const op of ops) out.push(op.decl);
  out.push("/** Method, path and parameter names of every operation, by method name. */");
  out.push("export const OPERATIONS = {");
  for (const op of ops) out.push(`  ${op.name}: ${JSON.stringify(op.spec)},`);
  out.push("} satisfies Record<string, OperationSpec>;\n");
  out.push("/** One method per operation of the REST API; `Client` supplies `call`. */");
  out.push("export abstract class Operations {");
  out.push("  protected abstract call(spec: OperationSpec, args: Record<string, unknown>, body: unknown, options: object): Promise<unknown>;\n");
  out.push(ops.map((op) => op.method).join("\n\n"));
  out.push("}\n");
  return out.join("\n");
}

async function load(source) {
  if (/^https?:/.test(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`${source}: HTTP ${response.status}`);
    return response.json();
  }
  return JSON.parse(await readFile(source, "utf8"));
}

async function main(argv) {
  const check = argv[0] === "--check";
  const [source, target = new URL("../src/generated.ts", import.meta.url)] = check ? argv.slice(1) : argv;
  if (!source) throw new Error("usage: generate.mjs [--check] <openapi.json file or URL> [output]");
  const text = generate(await load(source));
  if (check) {
    const current = await readFile(target, "utf8").catch(() => "");
    if (current !== text) {
      console.error(`${fileURLToPath(target)} differs from what ${source} generates: run npm run generate`);
      process.exit(1);
    }
    return;
  }
  await writeFile(target, text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => { console.error(error.message); process.exit(1); });
}
