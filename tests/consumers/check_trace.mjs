#!/usr/bin/env node
// Opens trace-event JSON files in the real consumers (DevTools' trace engine, speedscope's importer)
// and reports what each lost: dropped slices, mis-nesting warnings, unbound flows, undrawn instants.
//   node check_trace.mjs [--strict] [--json] TRACE.json...
// --strict: exit 1 unless DevTools keeps every slice and instant and binds every flow, and
// speedscope imports the file without a warning. (Speedscope merges adjacent calls of one frame,
// so its call count is reported, not compared.)
import fs from 'node:fs';
import path from 'node:path';
import { devtools_report } from './devtools.mjs';
import { speedscope_report } from './speedscope.mjs';

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const as_json = args.includes('--json');
const files = args.filter(a => !a.startsWith('--'));
if (files.length === 0) {
  console.error('usage: node check_trace.mjs [--strict] [--json] TRACE.json...');
  process.exit(2);
}

function problems_of(r) {
  const p = [];
  for (const t of r.devtools.threads) {
    const what = `pid ${t.pid} tid ${t.tid} (${t.name ?? 'no name'})`;
    if (t.missing) p.push(`devtools: ${what} left out (${t.file_slices} slices)`);
    if (t.dropped.length) {
      const d = t.dropped[0];
      p.push(`devtools: ${what} dropped ${t.dropped.length} of ${t.file_slices} slices, ` +
             `first "${d.name}" ts=${d.ts} dur=${d.dur}`);
    }
    if (t.instants !== t.file_instants) p.push(`devtools: ${what} drew ${t.instants} of ${t.file_instants} instants`);
  }
  for (const u of r.devtools.flows.unbound.slice(0, 5)) p.push(`devtools: flow ${u.id} unbound ${JSON.stringify(u)}`);
  if (r.devtools.flows.unbound.length > 5) p.push(`devtools: ... ${r.devtools.flows.unbound.length - 5} more unbound flows`);
  const cut = t => (t.length > 240 ? t.slice(0, 240) + '...' : t);
  for (const w of r.speedscope.warnings.slice(0, 5)) p.push(`speedscope: ${cut(w)}`);
  if (r.speedscope.warnings.length > 5) p.push(`speedscope: ... ${r.speedscope.warnings.length - 5} more warnings`);
  return p;
}

let failed = false;
const reports = [];
for (const file of files) {
  let bytes, trace;
  try {
    bytes = fs.readFileSync(file);
    trace = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const slices = events.filter(e => e.ph === 'X').length;
  const devtools = await devtools_report(trace);
  const speedscope = await speedscope_report(path.basename(file), bytes);
  const r = { file, slices, devtools, speedscope };
  r.problems = problems_of(r);
  if (r.problems.length) failed = true;
  reports.push(r);
  if (as_json) continue;
  const kept = devtools.threads.reduce((n, t) => n + t.slices, 0);
  const dropped = devtools.threads.reduce((n, t) => n + t.dropped.length, 0);
  const instants = devtools.threads.reduce((n, t) => n + t.file_instants, 0);
  const drawn = devtools.threads.reduce((n, t) => n + t.instants, 0);
  console.log(`${file}: ${slices} slices, ${devtools.threads.length} threads`);
  console.log(`  devtools:   ${kept} slices kept, ${dropped} dropped; ${drawn} of ${instants} instants drawn; ` +
              `${devtools.flows.bound} of ${devtools.flows.in_file} flows bound`);
  console.log(`  speedscope: ${speedscope.calls} calls in ${speedscope.profiles.length} profiles, ` +
              `${speedscope.warnings.length} warnings`);
  for (const p of r.problems) console.log(`  ${p}`);
}
if (as_json) console.log(JSON.stringify(reports, null, 1));
process.exit(strict && failed ? 1 : 0);
