// Loads a trace the way Chromium's DevTools Performance panel does: the panel's own trace engine
// (npm @paulirish/trace_engine) parses the file's events in file order with every handler. Then
// compares what the engine kept with what the file holds:
//  - slices: the engine builds one tree per thread (RendererHandler/TreeHelpers.treify) and
//    silently leaves out a slice that starts inside another but ends after it;
//  - flows: FlowsHandler binds a flow event to the first non-flow event with the same ts, pid,
//    tid and cat (no "bp" rule, no enclosing slice), and a flow whose events share one ts
//    collapses to one event and is dropped.
import { polyfillDOMRect } from '@paulirish/trace_engine/analyze-trace.mjs';
import * as Trace from '@paulirish/trace_engine/models/trace/trace.js';

polyfillDOMRect();

const key = (pid, tid) => `${pid}/${tid}`;

// `trace`: the parsed JSON file (object with traceEvents, or an array).
export async function devtools_report(trace) {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  // The engine adds fields to the events it is given; keep the file's copy intact.
  const file_events = events.map(e => ({ ...e }));
  const model = Trace.TraceModel.Model.createWithAllHandlers();
  await model.parse(events);
  const data = model.parsedTrace().data;

  const in_file = new Map();  // pid/tid -> {slices, instants}
  for (const e of file_events) {
    if (e.ph !== 'X' && e.ph !== 'I') continue;
    const t = in_file.get(key(e.pid, e.tid)) ?? { slices: 0, instants: 0 };
    if (e.ph === 'X') ++t.slices; else ++t.instants;
    in_file.set(key(e.pid, e.tid), t);
  }

  const threads = [];
  const drawn = new Set();  // pid/tid/ts of every event the engine put in a tree
  for (const [pid, process] of data.Renderer.processes) {
    for (const [tid, thread] of process.threads) {
      let slices = 0, instants = 0;
      const dropped = [];
      for (const e of thread.entries) {
        if (!data.Renderer.entryToNode.has(e)) {
          if (e.ph === 'X') dropped.push({ name: e.name, ts: e.ts, dur: e.dur });
          continue;
        }
        drawn.add(`${key(pid, tid)}/${e.ts}`);
        if (e.ph === 'X') ++slices; else if (e.ph === 'I') ++instants;
      }
      const f = in_file.get(key(pid, tid)) ?? { slices: 0, instants: 0 };
      threads.push({ pid, tid, name: thread.name, file_slices: f.slices, slices, dropped,
                     file_instants: f.instants, instants });
      in_file.delete(key(pid, tid));
    }
  }
  // Threads the engine left out altogether (a thread with no tree roots is deleted).
  for (const [k, f] of in_file) {
    const [pid, tid] = k.split('/').map(Number);
    threads.push({ pid, tid, name: null, file_slices: f.slices, slices: 0, dropped: [],
                   file_instants: f.instants, instants: 0, missing: true });
  }

  // Flows of the file: start and end of each (cat, name, id).
  const flows = new Map();
  for (const e of file_events) {
    if (e.ph !== 's' && e.ph !== 'f' && e.ph !== 't') continue;
    const k = `${e.cat}/${e.name}/${e.id}`;
    const fl = flows.get(k) ?? { id: e.id, name: e.name, cat: e.cat };
    if (e.ph === 's') fl.start = e; else if (e.ph === 'f') fl.end = e;
    flows.set(k, fl);
  }
  const bound_sets = data.Flows.flows.map(events => new Set(events.map(e => `${key(e.pid, e.tid)}/${e.ts}`)));
  const unbound = [];
  let bound = 0;
  for (const fl of flows.values()) {
    const s = fl.start, f = fl.end;
    const ok = s && f && bound_sets.some(set => set.has(`${key(s.pid, s.tid)}/${s.ts}`) &&
                                                set.has(`${key(f.pid, f.tid)}/${f.ts}`));
    if (ok) ++bound;
    else unbound.push({ id: fl.id, start: s && { pid: s.pid, tid: s.tid, ts: s.ts },
                        end: f && { pid: f.pid, tid: f.tid, ts: f.ts } });
  }
  return { threads, flows: { in_file: flows.size, bound, unbound }, engine_flows: data.Flows.flows.length };
}
