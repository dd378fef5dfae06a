#!/usr/bin/env node
// A `solc`-compatible command over solc-js, for machines where the native solc cannot be installed.
// It answers the two calls py-solc-x and brownie make:
//   solc --version                      -> "Version: 0.8.x+commit.<hash>..." on stdout
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths P,...]  (JSON on stdin)
// Imports that are not in the input are read from disk, relative to the base path, each include path
// and the current directory. Output is written with fs.writeSync: process.stdout.write followed by a
// quick exit truncates large JSON at the pipe buffer size.
"use strict";
const fs = require("fs");
const path = require("path");

const solcDir = process.env.HEDGEVAULT_SOLCJS_DIR;
if (!solcDir) {
  fs.writeSync(2, "HEDGEVAULT_SOLCJS_DIR is not set: run `make setup` (it installs node_modules/solc)\n");
  process.exit(2);
}
const solc = require(path.join(solcDir, "index.js"));

const args = process.argv.slice(2);
if (args.includes("--version")) {
  fs.writeSync(1, "solc, the solidity compiler commandline interface (solc-js)\nVersion: " + solc.version() + "\n");
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  fs.writeSync(2, "this solc shim only supports --version and --standard-json\n");
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base-path" || args[i] === "--include-path") roots.push(args[++i]);
  else if (args[i] === "--allow-paths") roots.push(...args[++i].split(","));
}
roots.push(process.cwd());

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.join(root, importPath));
  for (const file of candidates) {
    try {
      return { contents: fs.readFileSync(file, "utf8") };
    } catch (_) {
      // try the next root
    }
  }
  return { error: "File not found: " + importPath + " (searched " + roots.join(", ") + ")" };
}

const input = fs.readFileSync(0, "utf8");
const output = solc.compile(input, { import: findImports });
fs.writeSync(1, output);
