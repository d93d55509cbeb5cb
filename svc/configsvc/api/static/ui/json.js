// A small JSON reader for the editor: exact error positions (line, column), and where each
// member starts, by JSON pointer, so a schema's complaint about /a/b lands on that line.

export class JsonSyntaxError extends Error {
  constructor(message, offset, text) {
    const before = text.slice(0, offset).split("\n");
    const line = before.length;
    const column = before[before.length - 1].length + 1;
    super(`Line ${line}, column ${column}: ${message}`);
    this.line = line;
    this.column = column;
    this.detail = message;
  }
}

/** {value, places}: places maps a JSON pointer to the offset where its member starts. */
export function read(text) {
  const places = new Map();
  let i = 0;
  const fail = (message, at = i) => { throw new JsonSyntaxError(message, at, text); };
  const space = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const expect = (char) => {
    space();
    if (text[i] !== char) fail(i >= text.length ? `expected '${char}' but the text ended` : `expected '${char}', found '${text[i]}'`);
    i++;
  };
  const string = () => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text[i] < " ") fail("a control character inside a string (use \\n)");
      i++;
    }
    if (i >= text.length) fail("this string is never closed", start);
    i++;
    try { return JSON.parse(text.slice(start, i)); } catch { return fail("a bad escape in this string", start); }
  };
  const value = (pointer, depth) => {
    if (depth > 64) fail("nested deeper than 64 levels");
    space();
    const char = text[i];
    if (char === "{") return object(pointer, depth);
    if (char === "[") return array(pointer, depth);
    if (char === '"') return string();
    const literal = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!literal) fail(i >= text.length ? "a value is missing" : `unexpected '${char}'`);
    i += literal[0].length;
    return JSON.parse(literal[0]);
  };
  const object = (pointer, depth) => {
    const result = {};
    i++;
    space();
    if (text[i] === "}") { i++; return result; }
    for (;;) {
      space();
      if (text[i] !== '"') fail(text[i] === "}" ? "a comma before '}'" : "expected a quoted key");
      const start = i;
      const key = string();
      if (Object.hasOwn(result, key)) fail(`the key "${key}" appears twice`, start);
      const at = `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      places.set(at, start);
      expect(":");
      result[key] = value(at, depth + 1);
      space();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === "}") { i++; return result; }
      fail(i >= text.length ? "expected ',' or '}' but the text ended" : `expected ',' or '}', found '${text[i]}'`);
    }
  };
  const array = (pointer, depth) => {
    const result = [];
    i++;
    space();
    if (text[i] === "]") { i++; return result; }
    for (;;) {
      const at = `${pointer}/${result.length}`;
      space();
      places.set(at, i);
      result.push(value(at, depth + 1));
      space();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === "]") { i++; return result; }
      fail(i >= text.length ? "expected ',' or ']' but the text ended" : `expected ',' or ']', found '${text[i]}'`);
    }
  };
  const result = value("", 0);
  space();
  if (i < text.length) fail(`unexpected '${text[i]}' after the end`);
  return { value: result, places };
}

export const pretty = (value) => JSON.stringify(value, null, 2);

/** The 1-based line of `pointer` (or of its nearest parent that is there) in `text`. */
export function lineOf(text, places, pointer) {
  let at = pointer;
  while (at && !places.has(at)) at = at.slice(0, at.lastIndexOf("/"));
  const offset = at ? places.get(at) : 0;
  return text.slice(0, offset).split("\n").length;
}
