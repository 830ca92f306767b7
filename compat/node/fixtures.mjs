// What these suites need from outside the repository, read from the environment as the Rust tests
// read it: Kratos's own documents in the directory SESAME_TEST_KRATOS_FIXTURES names
// (`kratos-openapi.json`, Kratos's OpenAPI document; `kratos-quickstart/kratos.yml` and
// `identity.schema.json`, its email-password quickstart), and PostgreSQL at SESAME_TEST_POSTGRES_URL.
// Without them the tests that need them are reported as skipped, with the reason; under CI they fail.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Whether this is a CI run (CI set, and neither empty, `false` nor `0`): nothing may be skipped. */
export const IN_CI = !['', 'false', '0'].includes(process.env.CI ?? '');

const DIR = process.env.SESAME_TEST_KRATOS_FIXTURES || null;

/** Kratos's OpenAPI document, or null. */
export const OPENAPI = DIR && path.resolve(DIR, 'kratos-openapi.json');
/** The directory of Kratos's email-password quickstart, or null. */
export const QUICKSTART = DIR && path.resolve(DIR, 'kratos-quickstart');

/**
 * The `skip` option of a test or suite that needs Kratos's documents: false when they are named (or
 * in CI, where `requireFixtures` then fails), else the reason.
 */
export const SKIP_WITHOUT_FIXTURES = DIR || IN_CI
  ? false
  : "needs Kratos's OpenAPI document and quickstart: set SESAME_TEST_KRATOS_FIXTURES (see the README)";

/** Fails, saying why, unless the documents are there. */
export function requireFixtures() {
  assert.ok(DIR, 'SESAME_TEST_KRATOS_FIXTURES is not set but CI is: the checks against Kratos\'s own documents may not be skipped in CI');
  for (const file of [OPENAPI, path.join(QUICKSTART, 'kratos.yml'), path.join(QUICKSTART, 'identity.schema.json')]) {
    assert.ok(existsSync(file), `SESAME_TEST_KRATOS_FIXTURES is ${DIR} but ${file} is missing`);
  }
}
