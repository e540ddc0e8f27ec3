// The conformance suite through require() of the package by name.
const { test } = require("node:test");
const { Scanner } = require("promptsieve");
const { runConformance } = require("./conformance-suite.cjs");

runConformance(test, Scanner, "cjs");
