// The toolchain the README promises is enough: no locked dependency that this platform builds
// (normal, build or dev) declares a `rust-version` above the workspace's. (Sesame's own code is held
// to it by clippy's `incompatible_msrv` lint, which reads the same field.)
//
//   node .ci/msrv.mjs

import { execFileSync } from 'node:child_process';

const host = /^host: (.+)$/m.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))[1];
const metadata = JSON.parse(
  execFileSync('cargo', ['metadata', '--format-version', '1', '--locked', '--filter-platform', host], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  }),
);
const parse = (v) => v.split('.').map(Number).concat(0, 0).slice(0, 3);
const cmp = (a, b) => {
  const [x, y] = [parse(a), parse(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

const members = new Set(metadata.workspace_members);
const resolved = new Set(metadata.resolve.nodes.map((n) => n.id));
const own = metadata.packages.filter((p) => members.has(p.id));
const declared = [...new Set(own.map((p) => p.rust_version))];
if (declared.length !== 1 || !declared[0]) {
  console.error(`every workspace crate must inherit one rust-version; found ${JSON.stringify(declared)}`);
  process.exit(1);
}
const msrv = declared[0];
const deps = metadata.packages.filter((p) => !members.has(p.id) && resolved.has(p.id) && p.rust_version);
deps.sort((a, b) => cmp(b.rust_version, a.rust_version));
const above = deps.filter((p) => cmp(p.rust_version, msrv) > 0);
const top = deps[0];
console.log(`rust-version ${msrv}; the highest any locked dependency declares: ${top.rust_version} (${top.name} ${top.version})`);
if (above.length > 0) {
  console.error(
    `these locked dependencies need a newer Rust than the declared ${msrv}: raise rust-version (and the README) or pin them:\n` +
      above.map((p) => `  ${p.name} ${p.version}: rust-version ${p.rust_version}`).join('\n'),
  );
  process.exit(1);
}
