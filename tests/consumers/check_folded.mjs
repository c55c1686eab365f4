#!/usr/bin/env node
// Opens folded-stack files in speedscope's importer (as when dropped on speedscope.app) and checks
// that it reads them as collapsed stacks, without a warning, with the files' total weight.
//   node check_folded.mjs FILE.folded...
import fs from 'node:fs';
import path from 'node:path';
import { speedscope_report } from './speedscope.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node check_folded.mjs FILE.folded...');
  process.exit(2);
}
let failed = false;
for (const file of files) {
  const bytes = fs.readFileSync(file);
  // "a;b;c 12": the weight is the last word of each line.
  const expected = bytes.toString('utf8').split('\n').filter(l => l.length > 0)
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const r = await speedscope_report(path.basename(file), bytes);
  const weight = r.profiles.reduce((n, p) => n + p.weight, 0);
  const problems = [...r.warnings];
  if (!/collapsed/i.test(r.importer ?? '')) problems.push(`imported as "${r.importer}", not as collapsed stacks`);
  if (weight !== expected) problems.push(`total weight ${weight}, the file's lines add up to ${expected}`);
  console.log(`${file}: speedscope: ${r.importer}, ${r.profiles.length} profile(s), weight ${weight}` +
              (problems.length ? '' : ' (the file\'s total)'));
  for (const p of problems) console.log(`  ${p}`);
  if (problems.length) failed = true;
}
process.exit(failed ? 1 : 0);
