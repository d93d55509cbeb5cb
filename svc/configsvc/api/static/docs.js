// The API page, rendered in the browser from the served OpenAPI and AsyncAPI documents.
"use strict";
// Rendered in the browser from the served document, so the page can never disagree with it.
const DOC_URL = "openapi.json";
const FEED_URL = "asyncapi.json";
const FEED = fetch(FEED_URL).then((resp) => {
  if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
  return resp.json();
});

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Inline `code` spans in descriptions; everything else stays text (no HTML injection).
function inline(text) {
  const parts = String(text || "").split(/`([^`]*)`/);
  return parts.map((part, i) => (i % 2 ? el("code", {}, part) : part));
}

function prose(text) { return el("p", {}, inline(text)); }

function refName(ref) { return ref.split("/").pop(); }

function resolve(doc, node) {
  while (node && node.$ref) {
    node = node.$ref.split("/").slice(1).reduce((at, key) => at[key], doc);
  }
  return node;
}

function typeOf(schema) {
  if (!schema) return "any";
  if (schema.$ref) {
    return el("a", { href: "#schema-" + refName(schema.$ref) }, refName(schema.$ref));
  }
  if (schema.anyOf) {
    const out = [];
    schema.anyOf.forEach((s, i) => { if (i) out.push(" | "); out.push(typeOf(s)); });
    return el("span", {}, out);
  }
  if (schema.type === "array") return el("span", {}, "array of ", typeOf(schema.items));
  return schema.type || "any";
}

// A pattern spelling out Unicode's control characters runs to hundreds of escapes: such a one
// is left to the description (and to openapi.json), which says it in words.
const PATTERN_SHOWN_MAX = 80;

function constraints(schema) {
  const keys = ["minLength", "maxLength", "minimum", "maximum", "pattern", "format", "default"];
  return keys.filter((k) => schema && schema[k] !== undefined)
    .filter((k) => k !== "pattern" || schema.pattern.length <= PATTERN_SHOWN_MAX)
    .map((k) => k + ": " + JSON.stringify(schema[k])).join(", ");
}

function example(doc, schema, depth) {
  schema = resolve(doc, schema) || {};
  if (schema.examples && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if ((depth || 0) > 4) return null;
  if (schema.anyOf) return example(doc, schema.anyOf[0], depth + 1);
  switch (schema.type) {
    case "object": {
      const out = {};
      for (const [name, prop] of Object.entries(schema.properties || {})) {
        out[name] = example(doc, prop, (depth || 0) + 1);
      }
      return out;
    }
    case "array": return [example(doc, schema.items, (depth || 0) + 1)];
    case "integer": return schema.minimum !== undefined ? schema.minimum : 1;
    case "number": return 1.5;
    case "boolean": return true;
    case "null": return null;
    case "string": return schema.format === "date-time" ? "2025-01-01T12:00:00Z" : "string";
    default: return null;
  }
}

function schemaTable(doc, schema) {
  schema = resolve(doc, schema);
  if (!schema || !schema.properties) return el("p", {}, "Type: ", typeOf(schema));
  const required = new Set(schema.required || []);
  const rows = Object.entries(schema.properties).map(([name, prop]) =>
    el("tr", {},
      el("td", {}, el("code", {}, name), required.has(name) ? " *" : ""),
      el("td", {}, typeOf(prop)),
      el("td", {}, inline(prop.description), " ", el("span", { class: "muted" }, constraints(prop)))));
  const table = el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"),
    el("th", {}, "notes")), rows);
  const extra = schema.additionalProperties === false ? "Unknown fields are rejected." : "";
  return el("div", {}, table, extra ? el("p", { class: "muted" }, extra) : null);
}

function parameters(doc, params) {
  if (!params || !params.length) return null;
  const rows = params.map((p) => resolve(doc, p)).map((p) =>
    el("tr", {},
      el("td", {}, el("code", {}, p.name), p.required ? " *" : ""),
      el("td", {}, p.in),
      el("td", {}, typeOf(p.schema)),
      el("td", {}, inline(p.description), " ", el("span", { class: "muted" }, constraints(p.schema)))));
  return el("div", {}, el("h4", {}, "Parameters"),
    el("table", {}, el("tr", {}, ["name", "in", "type", "notes"].map((h) => el("th", {}, h))), rows));
}

function requestBody(doc, body) {
  if (!body) return null;
  const [mediaType, media] = Object.entries(body.content)[0];
  return el("div", {}, el("h4", {}, "Request body ", el("code", {}, mediaType)),
    schemaTable(doc, media.schema),
    el("pre", {}, JSON.stringify(example(doc, media.schema), null, 2)));
}

function responses(doc, all) {
  const rows = Object.entries(all).map(([status, response]) => {
    const content = Object.entries(response.content || {}).map(([type, media]) =>
      el("div", {}, el("code", {}, type), " ", typeOf(media.schema)));
    const headers = Object.keys(response.headers || {}).map((h) => el("code", {}, h));
    return el("tr", {}, el("td", {}, el("b", {}, status)), el("td", {}, inline(response.description)),
      el("td", {}, content), el("td", {}, headers.flatMap((h, i) => (i ? [" ", h] : [h]))));
  });
  return el("div", {}, el("h4", {}, "Responses"),
    el("table", {}, el("tr", {}, ["status", "when", "body", "headers"].map((h) => el("th", {}, h))),
      rows));
}

function operation(doc, method, path, op) {
  const id = "op-" + op.operationId;
  return el("section", { class: "op", id },
    el("h3", {}, el("span", { class: "method " + method }, method), el("code", {}, path),
      " ", el("span", { class: "muted" }, op.summary)),
    el("div", {}, op.description ? prose(op.description) : null, parameters(doc, op.parameters),
      requestBody(doc, op.requestBody), responses(doc, op.responses)));
}

function render(doc) {
  document.getElementById("title").replaceChildren(
    doc.info.title, el("span", { class: "muted" }, "version " + doc.info.version));
  document.getElementById("description").replaceWith(prose(doc.info.description));
  const nav = document.getElementById("nav");
  const main = document.getElementById("main");
  for (const tag of doc.tags) {
    const ops = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (op.tags.includes(tag.name)) ops.push([method.toUpperCase(), path, op]);
      }
    }
    if (!ops.length) continue;
    nav.append(el("h3", {}, tag.name));
    main.append(el("h2", { id: "tag-" + tag.name }, tag.name), prose(tag.description));
    for (const [method, path, op] of ops) {
      nav.append(el("a", { href: "#op-" + op.operationId }, method + " " + path));
      main.append(operation(doc, method, path, op));
    }
  }
  const feedSection = el("section", { id: "feed" });
  FEED.then((feed) => renderFeed(feed, nav, feedSection)).catch((err) => {
    feedSection.append(el("p", { class: "error" }, "Could not load " + FEED_URL + ": " + err.message));
  });
  nav.append(el("h3", {}, "schemas"));
  main.append(el("h2", { id: "schemas" }, "Schemas"));
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    nav.append(el("a", { href: "#schema-" + name }, name));
    main.append(el("section", { class: "op", id: "schema-" + name },
      el("h3", {}, name),
      el("div", {}, schema.description ? prose(schema.description) : null,
        schemaTable(doc, schema),
        el("h4", {}, "Example"), el("pre", {}, JSON.stringify(example(doc, schema), null, 2)))));
  }
  main.append(feedSection);
  main.append(el("p", { class: "muted" }, "The raw documents: ",
    el("a", { href: DOC_URL }, "openapi.json"), " (REST), ",
    el("a", { href: FEED_URL }, "asyncapi.json"), " (live feed)."));
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

// The live feed, from its AsyncAPI document: messages, error codes, close codes.
function codeTable(heading, codes) {
  return el("div", {}, el("h4", {}, heading),
    el("table", {}, el("tr", {}, el("th", {}, "code"), el("th", {}, "meaning")),
      Object.entries(codes).map(([code, text]) =>
        el("tr", {}, el("td", {}, el("code", {}, code)), el("td", {}, inline(text))))));
}

function feedMessage(feed, name, message, action) {
  const who = action === "receive" ? "client → server" : "server → client";
  const payload = resolve(feed, message.payload);
  return el("section", { class: "op", id: "message-" + name },
    el("h3", {}, el("span", { class: "method WS" }, message.name), el("code", {}, name),
      " ", el("span", { class: "muted" }, who)),
    el("div", {}, prose(message.summary), schemaTable(feed, payload),
      el("h4", {}, "Example"), el("pre", {}, JSON.stringify(example(feed, payload), null, 2))));
}

function renderFeed(feed, nav, section) {
  const channel = Object.values(feed.channels)[0];
  nav.append(el("h3", {}, "live feed"));
  section.append(el("h2", { id: "live-feed" }, "Live feed: ", el("code", {}, channel.address)),
    prose(feed.info.description));
  for (const op of Object.values(feed.operations)) {
    const name = refName(op.messages[0].$ref);
    nav.append(el("a", { href: "#message-" + name }, name));
    section.append(feedMessage(feed, name, feed.components.messages[name], op.action));
  }
  nav.append(el("a", { href: "#feed-codes" }, "error and close codes"));
  section.append(el("div", { id: "feed-codes" },
    codeTable("Error codes (the code of an error message)", feed["x-error-codes"]),
    codeTable("Close codes", feed["x-close-codes"])));
}

fetch(DOC_URL)
  .then((resp) => {
    if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
    return resp.json();
  })
  .then(render)
  .catch((err) => {
    document.getElementById("main").append(
      el("p", { class: "error" }, "Could not load " + DOC_URL + ": " + err.message));
  });
