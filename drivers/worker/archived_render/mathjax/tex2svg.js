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
// ARCHIVED_MATHJAX_NO_FLATTEN=1 keeps MathJax's own SVG structure (for comparisons and debugging).
const noFlatten = process.env.ARCHIVED_MATHJAX_NO_FLATTEN === '1';
RegisterHTMLHandler(adaptor);

const tex = new TeX({
  packages: AllPackages,
  // Report a TeX error instead of drawing red error boxes into an archive.
  formatError: (jax, err) => { throw err; },
});
// 'local': each SVG carries its own glyph definitions, so any single SVG stands alone.
const svg = new SVG({fontCache: 'local'});
const html = mathjax.document('', {InputJax: tex, OutputJax: svg});

// ---- Flattening -------------------------------------------------------------------------------------
// MathJax draws a formula as nested <g transform> groups that <use> glyph paths from <defs>. The PDF renderer
// (WeasyPrint) resolves every <use> and walks every group in pure Python: that was the most expensive part of
// a report. Most formulas only translate and scale glyphs, so they become a flat list of
// <path transform="matrix(…)" d="glyph outline"> in one group: the same outlines at the same places, a
// fraction of the nodes. The glyph outline stays in glyph units (not transformed), so every use of a glyph
// draws identical PDF operators: the renderer memoises them and the PDF's compression folds the repeats.
// Anything else (rotations, nested <svg> for tagged equations, <line>, <text>, strokes) keeps MathJax's SVG.

class Unflattenable extends Error {}

const ARITY = {M: 2, L: 2, T: 2, Q: 4, S: 4, C: 6, H: 1, V: 1, Z: 0};
const NUMBER = /[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g;

function fmt(value) {
  const rounded = Math.round(value * 10) / 10;  // 0.1 unit = 0.0001 em: far below what a printer shows
  return rounded === 0 ? '0' : String(rounded);
}

// [a, d, e, f] stands for the matrix (a 0 0 d e f): MathJax only scales and translates.
function compose(outer, inner) {
  return [outer[0] * inner[0], outer[1] * inner[1], outer[0] * inner[2] + outer[2], outer[1] * inner[3] + outer[3]];
}

function parseTransform(text) {
  let matrix = [1, 1, 0, 0];
  const re = /(\w+)\s*\(([^)]*)\)/g;
  let match;
  let consumed = '';
  while ((match = re.exec(text)) !== null) {
    consumed += match[0];
    const args = match[2].split(/[\s,]+/).filter((x) => x !== '').map(Number);
    if (args.some((x) => !Number.isFinite(x))) throw new Unflattenable('transform');
    let step;
    if (match[1] === 'translate' && args.length >= 1 && args.length <= 2) {
      step = [1, 1, args[0], args[1] || 0];
    } else if (match[1] === 'scale' && args.length >= 1 && args.length <= 2) {
      step = [args[0], args.length > 1 ? args[1] : args[0], 0, 0];
    } else if (match[1] === 'matrix' && args.length === 6 && args[1] === 0 && args[2] === 0) {
      step = [args[0], args[3], args[4], args[5]];
    } else {
      throw new Unflattenable('transform ' + match[1]);
    }
    matrix = compose(matrix, step);
  }
  if (consumed.replace(/\s/g, '').length !== text.replace(/\s/g, '').length) throw new Unflattenable('transform');
  return matrix;
}

function transformPath(d, m) {
  const tokens = d.match(NUMBER) || [];
  const out = [];
  let i = 0;
  let command = null;
  while (i < tokens.length) {
    if (/[A-Za-z]/.test(tokens[i])) {
      command = tokens[i++];
      if (!(command in ARITY)) throw new Unflattenable('path command ' + command);  // lower case: relative
      out.push(command);
      if (command === 'Z') continue;
    } else if (command === null || command === 'Z') {
      throw new Unflattenable('path data');
    }
    const arity = ARITY[command];
    const args = tokens.slice(i, i + arity).map(Number);
    if (args.length !== arity || args.some((x) => !Number.isFinite(x))) throw new Unflattenable('path data');
    i += arity;
    if (command === 'H') {
      out.push(fmt(m[0] * args[0] + m[2]));
    } else if (command === 'V') {
      out.push(fmt(m[1] * args[0] + m[3]));
    } else {
      for (let k = 0; k < arity; k += 2) {
        out.push(fmt(m[0] * args[k] + m[2]) + ' ' + fmt(m[1] * args[k + 1] + m[3]));
      }
    }
    if (command === 'M') command = 'L';  // further pairs after a moveto are linetos
  }
  return out.join(' ').replace(/ ?([A-Z]) /g, '$1');
}

const KEEP_ANYWHERE = new Set(['transform', 'fill', 'stroke', 'data-c', 'data-mml-node', 'data-mjx-texclass',
  'data-variant', 'data-semantic-type', 'class']);

function matrixAttribute(m) {
  return `matrix(${fmt4(m[0])} 0 0 ${fmt4(m[1])} ${fmt(m[2])} ${fmt(m[3])})`;
}

function fmt4(value) {
  return String(Math.round(value * 10000) / 10000);
}

function flatten(svgNode) {
  const glyphs = new Map();
  const out = [];
  const escape = (text) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  function add(colour, d, matrix) {
    const fill = colour === 'currentColor' ? '' : ` fill="${escape(colour)}"`;
    const transform = matrix ? ` transform="${matrixAttribute(matrix)}"` : '';
    out.push(`<path${fill}${transform} d="${d}"></path>`);
  }
  function visit(node, matrix, colour, top) {
    const kind = adaptor.kind(node);
    if (kind === '#text') {
      if (adaptor.value(node).trim()) throw new Unflattenable('text');
      return;
    }
    if (kind === '#comment') return;
    const attrs = adaptor.allAttributes(node);
    for (const {name, value} of attrs) {
      if (KEEP_ANYWHERE.has(name) || name.startsWith('data-')) continue;
      if (name === 'stroke-width' && top && value === '0') continue;
      if ((name === 'xlink:href' || name === 'href') && kind === 'use') continue;
      if (['x', 'y', 'width', 'height'].includes(name) && (kind === 'rect' || kind === 'use')) continue;
      throw new Unflattenable('attribute ' + name + ' on ' + kind);
    }
    const fill = adaptor.getAttribute(node, 'fill');
    const stroke = adaptor.getAttribute(node, 'stroke');
    if (stroke && stroke !== fill && !(top && stroke === 'currentColor')) throw new Unflattenable('stroke');
    if (fill) colour = fill;
    const transform = adaptor.getAttribute(node, 'transform');
    if (transform) matrix = compose(matrix, parseTransform(transform));
    if (kind === 'g') {
      for (const child of adaptor.childNodes(node)) visit(child, matrix, colour, false);
    } else if (kind === 'use') {
      const href = adaptor.getAttribute(node, 'xlink:href') || adaptor.getAttribute(node, 'href') || '';
      const d = glyphs.get(href.replace(/^#/, ''));
      if (d === undefined) throw new Unflattenable('use of ' + href);
      const x = Number(adaptor.getAttribute(node, 'x') || 0);
      const y = Number(adaptor.getAttribute(node, 'y') || 0);
      if (d) add(colour, d, compose(matrix, [1, 1, x, y]));
    } else if (kind === 'path') {
      if (adaptor.childNodes(node).length) throw new Unflattenable('path content');
      const d = adaptor.getAttribute(node, 'd') || '';
      if (d) add(colour, transformPath(d, [1, 1, 0, 0]), matrix);
    } else if (kind === 'rect') {
      const [x, y, w, h] = ['x', 'y', 'width', 'height'].map((n) => Number(adaptor.getAttribute(node, n) || 0));
      if (![x, y, w, h].every(Number.isFinite) || w < 0 || h < 0) throw new Unflattenable('rect');
      if (w > 0 && h > 0) add(colour, transformPath(`M${x} ${y}H${x + w}V${y + h}H${x}Z`, matrix), null);
    } else {
      throw new Unflattenable('element ' + kind);
    }
  }
  const root = {};
  for (const {name, value} of adaptor.allAttributes(svgNode)) root[name] = value;
  if (!root.viewBox || !/ex$/.test(root.width || '') || !/ex$/.test(root.height || '')) {
    throw new Unflattenable('no fixed size');
  }
  for (const child of adaptor.childNodes(svgNode)) {
    const kind = adaptor.kind(child);
    if (kind === 'defs') {
      for (const glyph of adaptor.childNodes(child)) {
        if (adaptor.kind(glyph) !== 'path') throw new Unflattenable('defs');
        glyphs.set(adaptor.getAttribute(glyph, 'id'), adaptor.getAttribute(glyph, 'd') || '');
      }
    } else {
      visit(child, [1, 1, 0, 0], 'currentColor', true);
    }
  }
  let svg = '<svg xmlns="http://www.w3.org/2000/svg"';
  for (const name of ['width', 'height', 'viewBox', 'style']) {
    if (root[name] !== undefined) svg += ` ${name}="${escape(root[name])}"`;
  }
  return svg + '><g fill="currentColor" stroke="none">' + out.join('') + '</g></svg>';
}

function convert(source, display) {
  // Every formula stands alone: without the reset, MathJax keeps labels and equation numbers from one
  // conversion to the next, and the same formula with a \label fails the second time ("multiply defined").
  tex.reset();
  const node = html.convert(source, {display: display, em: 16, ex: 8, containerWidth: 80 * 16});
  // node is <mjx-container><svg .../></mjx-container>; keep only the <svg>.
  const svgNode = adaptor.childNodes(node).find((child) => adaptor.kind(child) === 'svg');
  if (svgNode && !noFlatten) {
    try {
      return flatten(svgNode);
    } catch (err) {
      if (!(err instanceof Unflattenable)) throw err;
      if (process.env.ARCHIVED_MATHJAX_DEBUG) process.stderr.write(`not flattened: ${err.message}\n`);
    }
  }
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
