// The conformance suite through an ES module import of the package by name.
import { test } from "node:test";
import { createRequire } from "node:module";
import { Scanner } from "promptsieve";

const { runConformance } = createRequire(import.meta.url)("./conformance-suite.cjs");
runConformance(test, Scanner, "esm");
