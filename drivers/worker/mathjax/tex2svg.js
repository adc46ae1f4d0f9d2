#!/usr/bin/env node
// TeX -> SVG for archived's report renderer.
//
// A long-lived child process: it reads one JSON object per line on stdin,
//   {"id": 7, "tex": "\\frac{a}{b}", "display": false}
// and answers one JSON object per line on stdout, in the same order,
//   {"id": 7, "svg": "<svg ...>...</svg>", "error": null}
// or {"id": 7, "svg": null, "error": "Undefined control sequence \\foo"}.
// MathJax is loaded once; nothing is fetched from the network (the fonts are paths inside the SVG).
'use strict';

const readline = require('readline');
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');
// Load every named entity now: MathJax would otherwise try to fetch them lazily.
require('mathjax-full/js/util/entities/all.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);

const tex = new TeX({
  packages: AllPackages,
  // Report a TeX error instead of drawing red error boxes into an archive.
  formatError: (jax, err) => { throw err; },
});
// 'local': each SVG carries its own glyph definitions, so any single SVG stands alone.
const svg = new SVG({fontCache: 'local'});
const html = mathjax.document('', {InputJax: tex, OutputJax: svg});

function convert(source, display) {
  const node = html.convert(source, {display: display, em: 16, ex: 8, containerWidth: 80 * 16});
  // node is <mjx-container><svg .../></mjx-container>; keep only the <svg>.
  return adaptor.innerHTML(node);
}

const input = readline.createInterface({input: process.stdin, terminal: false});
input.on('line', (line) => {
  if (!line.trim()) {
    return;
  }
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    process.stdout.write(JSON.stringify({id: null, svg: null, error: 'invalid JSON request'}) + '\n');
    return;
  }
  let answer;
  try {
    answer = {id: request.id, svg: convert(String(request.tex), Boolean(request.display)), error: null};
  } catch (err) {
    answer = {id: request.id, svg: null, error: String((err && err.message) || err)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
input.on('close', () => process.exit(0));
