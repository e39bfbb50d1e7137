// Parses an AsyncAPI document with the official parser (@asyncapi/parser, pinned in package.json)
// and exits 1 if any diagnostic has severity error, printing every diagnostic either way.
// Usage: node .ci/node/validate.mjs FILE    (CI: the document `hub asyncapi --out FILE` wrote)
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs FILE");
  process.exit(2);
}
const names = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([name, value]) => [value, name]));
const { document, diagnostics } = await new Parser().parse(await readFile(file, "utf8"), { source: file });
for (const d of diagnostics) {
  const where = (d.path ?? []).join("/");
  console.log(`${names[d.severity] ?? d.severity} ${d.code} /${where}: ${d.message}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (errors.length > 0 || document === undefined) {
  console.log(`${file}: ${errors.length} error(s): not a valid AsyncAPI document`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()} (${diagnostics.length} diagnostic(s), none an error)`);
