// Response-schema check: every response the official SDK receives is validated against the response
// schema Kratos's own OpenAPI document (`kratos-openapi.json` in SESAME_TEST_KRATOS_FIXTURES, see
// fixtures.mjs) gives for that operation and status. It sits on the SDK's axios instance as a
// response interceptor, so nothing the suite asks for escapes it.
//
//   const checker = OpenApiChecker.load(file, { known: KNOWN_MISMATCHES });
//   checker.attach(axiosInstance);            // pass the instance to `new FrontendApi(config, undefined, axiosInstance)`
//
// What "validated" means here:
// * The request's method and path are matched against the document's path templates (`{id}` is one
//   segment; literal paths win over templated ones). The response status picks the documented
//   response: the exact code, then `2XX`-style ranges, then `default` (not for redirects). A status the operation does not
//   document, and a response documented without a body (`emptyResponse`, e.g. 204/303), is counted but
//   has no schema to check.
// * The response's `Content-Type` must be one the document lists for that response; the body is then
//   validated with Ajv (all errors). The schemas are Kratos's, rewritten only where OpenAPI 3.0 and
//   JSON Schema differ: `nullable: true` adds `null` to `type` (and to `enum`); a `oneOf` with a
//   `discriminator.mapping` validates against the schema the discriminating property names (that is
//   what the discriminator means, and it turns "must match exactly one schema in oneOf" into an error
//   at the field that is actually wrong). `date-time`, `uuid` and `uuid4` formats are checked, every
//   other format in the document (`int64`, `byte`, …) is ignored. Extra properties are allowed
//   wherever Kratos's schema allows them.
// * A mismatch is reported as `GET /sessions/whoami 200: /identity/verifiable_addresses/0/status must
//   be string`: method, path template, status, JSON pointer into the body, and what the schema wanted.
//   The interceptor then rejects the SDK call with a `SchemaMismatchError` (which deliberately has no
//   `response` property, so a test expecting an error status can't mistake it for the server's answer)
//   and the mismatch is also kept in `checker.failures`.
// * Mismatches listed in `known` (each `{ id, operation: 'GET /path/{template}' or '*', status?, field,
//   reason }`, `field` a JSON pointer where `*` stands for one segment) are counted in
//   `checker.knownSeen` and do not fail the call; `checker.staleKnown()` lists the entries that never
//   occurred.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ROOT_ID = 'kratos-openapi.json';

/** Thrown (as the SDK call's rejection) when a response does not match the document. */
export class SchemaMismatchError extends Error {
  constructor(mismatches, axiosResult) {
    super(
      `response does not match Kratos's OpenAPI document:\n  ${mismatches.map((m) => m.message).join('\n  ')}`,
    );
    this.name = 'SchemaMismatchError';
    this.mismatches = mismatches;
    // The AxiosError or AxiosResponse the check interrupted; not called `response` on purpose.
    this.axiosResult = axiosResult;
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** JSON pointer escaping (RFC 6901). */
const escapePointer = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Rewrites one OpenAPI 3.0 schema object (and its sub-schemas) into JSON Schema that Ajv reads the
 * way OpenAPI means it. Only schema positions are visited: property *names* such as `type` or
 * `nullable` inside `properties` are never mistaken for keywords.
 */
export function toJsonSchema(schema) {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!isObject(schema)) return schema;
  const out = { ...schema };
  if (isObject(out.properties)) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, toJsonSchema(v)]));
  }
  if (isObject(out.patternProperties)) {
    out.patternProperties = Object.fromEntries(
      Object.entries(out.patternProperties).map(([k, v]) => [k, toJsonSchema(v)]),
    );
  }
  if (isObject(out.additionalProperties)) out.additionalProperties = toJsonSchema(out.additionalProperties);
  if (out.items !== undefined) out.items = toJsonSchema(out.items);
  if (out.not !== undefined) out.not = toJsonSchema(out.not);
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(out[k])) out[k] = out[k].map(toJsonSchema);

  // OpenAPI 3.0's `nullable: true` is JSON Schema's `null` in `type`.
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    delete out.nullable;
    // Without `type` the schema restricts through composition only: allow null next to it.
    if (out.type === undefined && (out.$ref || out.allOf || out.anyOf || out.oneOf)) {
      return { anyOf: [out, { type: 'null' }] };
    }
  }
  delete out.nullable;

  // `oneOf` + `discriminator.mapping`: the discriminating property picks the schema.
  if (Array.isArray(out.oneOf) && isObject(out.discriminator) && isObject(out.discriminator.mapping)) {
    const { propertyName, mapping } = out.discriminator;
    const values = Object.keys(mapping);
    delete out.oneOf;
    delete out.discriminator;
    out.type ??= 'object';
    out.required = [...new Set([...(out.required ?? []), propertyName])];
    out.properties = { ...(out.properties ?? {}), [propertyName]: { type: 'string', enum: values } };
    out.allOf = [
      ...(out.allOf ?? []),
      ...values.map((v) => ({
        if: { properties: { [propertyName]: { const: v } }, required: [propertyName] },
        then: { $ref: mapping[v] },
      })),
    ];
  }
  return out;
}

/** The document with every schema position rewritten by `toJsonSchema`. */
function rewriteDocument(doc) {
  const out = structuredClone(doc);
  const rewriteContent = (content) => {
    if (!isObject(content)) return;
    for (const media of Object.values(content)) if (isObject(media) && media.schema) media.schema = toJsonSchema(media.schema);
  };
  for (const item of Object.values(out.paths ?? {})) {
    for (const m of METHODS) {
      for (const res of Object.values(item?.[m]?.responses ?? {})) rewriteContent(res?.content);
    }
  }
  for (const res of Object.values(out.components?.responses ?? {})) rewriteContent(res?.content);
  if (out.components?.schemas) {
    out.components.schemas = Object.fromEntries(
      Object.entries(out.components.schemas).map(([k, v]) => [k, toJsonSchema(v)]),
    );
  }
  return out;
}

const FORMATS = {
  // RFC 3339 date-time (Go's RFC3339Nano: fractional seconds optional, `Z` or an offset).
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  uuid4: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/,
};

/** Every `format` value the document uses (so the ones not checked can be declared as ignored). */
function formatsIn(node, found = new Set()) {
  if (Array.isArray(node)) node.forEach((n) => formatsIn(n, found));
  else if (isObject(node)) {
    if (typeof node.format === 'string') found.add(node.format);
    Object.values(node).forEach((n) => formatsIn(n, found));
  }
  return found;
}

/** `/admin/identities/{id}` → a matcher for concrete paths, with a sort key (literal segments first). */
function compileTemplate(template) {
  const segments = template.split('/');
  const re = new RegExp(
    `^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}/?$`,
  );
  const params = segments.filter((s) => /^\{[^}]+\}$/.test(s)).length;
  return { template, re, params, length: segments.length };
}

/** `field` patterns of known mismatches: JSON pointers where `*` matches one segment. */
function fieldMatches(pattern, pointer) {
  if (pattern === undefined || pattern === '*') return true;
  const p = pattern.split('/');
  const f = pointer.split('/');
  return p.length === f.length && p.every((seg, i) => seg === '*' || seg === f[i]);
}

export class OpenApiChecker {
  /** Reads the document from `file`. */
  static load(file, options) {
    return new OpenApiChecker(JSON.parse(readFileSync(file, 'utf8')), options);
  }

  constructor(doc, { known = [] } = {}) {
    this.doc = rewriteDocument(doc);
    this.known = known;
    this.ajv = new Ajv({ allErrors: true, strict: false, logger: false });
    for (const format of formatsIn(this.doc)) {
      this.ajv.addFormat(format, FORMATS[format] ?? true); // true: accepted unchecked (ignored)
    }
    this.ajv.addSchema(this.doc, ROOT_ID);
    this.templates = Object.keys(this.doc.paths ?? {})
      .map(compileTemplate)
      .sort((a, b) => a.params - b.params || b.length - a.length);
    this.validators = new Map();
    // What the check did, for the suite's summary and its "it really ran" assertion.
    this.validated = 0; // responses whose body was validated against a schema
    this.byOperation = new Map(); // 'GET /sessions/whoami 200' → count validated
    this.noSchema = []; // documented statuses with no body schema (e.g. 204, 303)
    this.undocumented = []; // statuses the operation does not document
    this.failures = []; // unexpected mismatches
    this.knownSeen = new Map(); // known mismatch id → count
    this.operations = new Map(); // operationId → responses received (any status), for the coverage check
  }

  /** The path template and operation for a request, or null when the document has no such route. */
  route(method, pathname) {
    const m = method.toLowerCase();
    for (const t of this.templates) {
      if (t.re.test(pathname) && this.doc.paths[t.template][m]) {
        return { template: t.template, operation: this.doc.paths[t.template][m] };
      }
    }
    return null;
  }

  /** The documented response (and the JSON pointer to it) for a status, following a response `$ref`. */
  documentedResponse(template, method, status) {
    const responses = this.doc.paths[template][method.toLowerCase()].responses ?? {};
    const base = `/paths/${escapePointer(template)}/${method.toLowerCase()}/responses`;
    // A redirect the operation does not document (Kratos's cross-port 307s) has no body to check:
    // `default` describes error bodies, not redirects.
    const candidates = [String(status), `${String(status)[0]}XX`, `${String(status)[0]}xx`];
    if (status < 300 || status >= 400) candidates.push('default');
    const key = candidates.find((k) => k in responses);
    if (key === undefined) return null;
    let res = responses[key];
    let pointer = `${base}/${key}`;
    if (res.$ref) {
      pointer = res.$ref.replace(/^#/, '');
      res = pointer.split('/').slice(1).reduce((node, seg) => node?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
    }
    return { key, response: res, pointer };
  }

  validator(pointer) {
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `${ROOT_ID}#${pointer}` });
      this.validators.set(pointer, v);
    }
    return v;
  }

  /**
   * Checks one response. `url` is the absolute request URL; `headers` an object or AxiosHeaders.
   * Returns `{ label, validated, mismatches }` where `mismatches` are the unexpected ones.
   */
  check({ method, url, status, headers, data }) {
    const { pathname } = new URL(url);
    const upper = method.toUpperCase();
    const found = this.route(upper, pathname);
    if (!found) {
      const label = `${upper} ${pathname} ${status}`;
      this.undocumented.push(`${label} (no such operation in the document)`);
      return { label, validated: false, mismatches: [] };
    }
    const operation = `${upper} ${found.template}`;
    const label = `${operation} ${status}`;
    const { operationId } = found.operation;
    if (operationId) this.operations.set(operationId, (this.operations.get(operationId) ?? 0) + 1);
    const documented = this.documentedResponse(found.template, upper, status);
    if (!documented) {
      this.undocumented.push(`${label} (${found.operation.operationId} does not document it)`);
      return { label, validated: false, mismatches: [] };
    }
    const content = documented.response?.content;
    if (!isObject(content) || Object.keys(content).length === 0) {
      this.noSchema.push(label);
      return { label, validated: false, mismatches: [] };
    }

    const errors = [];
    let validated = false;
    const contentType = String(headerValue(headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
    const mediaKey =
      Object.keys(content).find((k) => k.toLowerCase() === contentType) ??
      Object.keys(content).find((k) => k.endsWith('/*') && contentType.startsWith(k.slice(0, -1).toLowerCase())) ??
      Object.keys(content).find((k) => k === '*/*');
    if (mediaKey === undefined) {
      errors.push({
        field: '',
        keyword: 'content-type',
        text: `Content-Type "${contentType || '(none)'}" is not documented (${Object.keys(content).join(', ')})`,
      });
    } else if (content[mediaKey].schema) {
      let body = data;
      if (/json/.test(mediaKey) && typeof body === 'string') {
        try {
          body = JSON.parse(body);
        } catch {
          errors.push({ field: '', keyword: 'json', text: `body is not JSON: ${JSON.stringify(body.slice(0, 80))}` });
          body = undefined;
        }
      }
      if (body !== undefined) {
        const validate = this.validator(`${documented.pointer}/content/${escapePointer(mediaKey)}/schema`);
        this.validated += 1;
        validated = true;
        const key = documented.key === String(status) ? label : `${label} (as ${documented.key})`;
        this.byOperation.set(key, (this.byOperation.get(key) ?? 0) + 1);
        if (!validate(body)) errors.push(...describe(validate.errors, body));
      }
    } else {
      this.noSchema.push(label);
    }

    const unexpected = [];
    for (const e of errors) {
      const message = `${label}: ${e.field || '/'} ${e.text}`;
      const known = this.known.find(
        (k) => (k.operation === '*' || k.operation === operation) && (k.status === undefined || k.status === status) && fieldMatches(k.field, e.field),
      );
      if (known) {
        this.knownSeen.set(known.id, (this.knownSeen.get(known.id) ?? 0) + 1);
      } else {
        unexpected.push({ label, field: e.field, keyword: e.keyword, message, body: data });
      }
    }
    this.failures.push(...unexpected);
    return { label, validated, mismatches: unexpected };
  }

  /** Installs the check on an axios instance (response interceptor for successes and errors). */
  attach(axiosInstance) {
    const run = (response) =>
      this.check({
        method: response.config.method ?? 'get',
        url: new URL(response.config.url, response.config.baseURL).href,
        status: response.status,
        headers: response.headers,
        data: response.data,
      });
    axiosInstance.interceptors.response.use(
      (response) => {
        const { mismatches } = run(response);
        if (mismatches.length) throw new SchemaMismatchError(mismatches, response);
        return response;
      },
      (error) => {
        if (error?.response) {
          const { mismatches } = run(error.response);
          if (mismatches.length) throw new SchemaMismatchError(mismatches, error);
        }
        throw error;
      },
    );
    return axiosInstance;
  }

  /** Known mismatches (schema ones: those with an `operation`) that never occurred. */
  staleKnown() {
    return this.known.filter((k) => k.operation && !this.knownSeen.has(k.id));
  }

  /** A few lines for the test log. */
  summary() {
    const lines = [`${this.validated} response bodies validated against Kratos's OpenAPI document:`];
    for (const [k, n] of [...this.byOperation].sort()) lines.push(`  ${String(n).padStart(3)} × ${k}`);
    if (this.noSchema.length) lines.push(`documented without a body schema: ${[...new Set(this.noSchema)].sort().join('; ')}`);
    if (this.undocumented.length) lines.push(`not documented: ${[...new Set(this.undocumented)].sort().join('; ')}`);
    if (this.knownSeen.size) lines.push(`known mismatches seen: ${[...this.knownSeen].map(([id, n]) => `${id} ×${n}`).join(', ')}`);
    return lines.join('\n');
  }
}

/**
 * The "Operations" table of docs/compatibility.md (`| \`operationId\` | METHOD | \`path\` | status |`)
 * as `[{ operationId, method, path, status }]`, `status` being `supported`, `partly` or `not yet`
 * (anything else is returned as written, for the caller to reject).
 */
export function operationsTable(markdown) {
  const section = markdown.split('\n## Operations\n')[1];
  if (section === undefined) throw new Error('docs/compatibility.md has no `## Operations` section');
  return section
    .split('\n## ')[0]
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [operationId, method, path, status] = line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim().replace(/^`|`$/g, ''));
      return { operationId, method, path, status: status.startsWith('partly: ') ? 'partly' : status };
    });
}

function headerValue(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Ajv errors → `{ field, keyword, text }`, with the field that is wrong (or missing) in the pointer. */
function describe(errors, body) {
  const out = [];
  const at = (pointer) =>
    pointer
      .split('/')
      .slice(1)
      .reduce((node, seg) => (node == null ? undefined : node[seg.replace(/~1/g, '/').replace(/~0/g, '~')]), body);
  const shown = (v) => {
    const s = JSON.stringify(v);
    return s === undefined ? 'undefined' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  };
  for (const e of errors ?? []) {
    // `if`/`then` wrappers (discriminators) only repeat the error below them.
    if (e.keyword === 'if') continue;
    let field = e.instancePath;
    let text = e.message;
    if (e.keyword === 'required') {
      field = `${e.instancePath}/${escapePointer(e.params.missingProperty)}`;
      text = 'is required but missing';
    } else if (e.keyword === 'additionalProperties') {
      field = `${e.instancePath}/${escapePointer(e.params.additionalProperty)}`;
      text = 'is not allowed here (additionalProperties: false)';
    } else if (e.keyword === 'enum') {
      text = `must be one of ${JSON.stringify(e.params.allowedValues)}, got ${shown(at(field))}`;
    } else if (['type', 'format', 'const', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength'].includes(e.keyword)) {
      text += `, got ${shown(at(field))}`;
    }
    text += ` (schema ${e.schemaPath})`;
    if (!out.some((o) => o.field === field && o.text === text)) out.push({ field, keyword: e.keyword, text });
  }
  return out;
}
